/**
 * One writer per lake root (issue 17 item 2): a second writer on the same root, whatever its
 * group, is refused with one line naming the owner; the claim dies with its process (kill -9
 * leaves nothing stale), and nothing the first wrote is torn or lost.
 */
import assert from "node:assert/strict";
import { validateFeed } from "../../src/config/feeds.ts";
import { ConflictError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/log.ts";
import { listPartitions } from "../../src/lake/layout.ts";
import { UnsafeEntryError } from "../../src/lake/entries.ts";
import { claimLake } from "../../src/lake/owner.ts";
import { LakeWriter } from "../../src/lake/writer.ts";
import {
  BROKERS,
  envOf,
  runMain,
  spawnMain,
  testConfig,
  testKafka,
  uniqueName,
} from "../helpers/env.ts";
import { streamFeed, tableFeed } from "./_fixtures.ts";

Deno.test("owner: a second writer on one root is refused, same group or another, until the first closes", async () => {
  const root = await Deno.makeTempDir();
  try {
    const stream = validateFeed(streamFeed(), "test");
    const table = validateFeed(tableFeed(), "test");
    const first = await LakeWriter.open({
      root,
      groupId: "g1",
      feeds: [stream],
      log: silentLogger,
    });
    for (const [groupId, feeds] of [["g1", [stream]], ["g2", [table]], ["g3", [stream, table]]]) {
      await assert.rejects(
        LakeWriter.open({
          root: `${root}/`, // the same root spelled otherwise
          groupId: groupId as string,
          feeds: feeds as typeof stream[],
          log: silentLogger,
        }),
        (error: Error) => {
          assert.ok(error instanceof ConflictError, String(error));
          assert.match(error.message, /another writer owns it \(pid \d+, since [0-9T:.-]+Z\)/);
          assert.ok(!error.message.includes("\n"), "one line");
          return true;
        },
      );
    }
    // A bare claim is refused the same way.
    await assert.rejects(claimLake(root), ConflictError);
    await first.close();
    const second = await LakeWriter.open({
      root,
      groupId: "g2",
      feeds: [table],
      log: silentLogger,
    });
    await assert.rejects(claimLake(root), ConflictError);
    await second.close();
    await second.close(); // twice is harmless
    const claim = await claimLake(root);
    await assert.rejects(
      LakeWriter.open({ root, groupId: "g1", feeds: [stream], log: silentLogger }),
      ConflictError,
    );
    // The holder of the claim can give it to its writers (a restart keeps it).
    const writer = await LakeWriter.open({
      root,
      groupId: "g1",
      feeds: [stream],
      log: silentLogger,
      owner: claim,
    });
    await writer.close();
    assert.ok(claim.held(), "a writer given the claim leaves it to its holder");
    claim.release();
    (await claimLake(root)).release();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("owner: writers on different roots do not get in each other's way", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    const feed = validateFeed(streamFeed(), "test");
    const one = await LakeWriter.open({ root: a, groupId: "g", feeds: [feed], log: silentLogger });
    const two = await LakeWriter.open({ root: b, groupId: "g", feeds: [feed], log: silentLogger });
    await one.close();
    await two.close();
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("owner: a link in the lock file's or the state folder's place is refused with one line; nothing outside is written", async () => {
  for (const place of ["_state/owner.lock", "_state"]) {
    const root = await Deno.makeTempDir();
    const outside = await Deno.makeTempDir();
    try {
      const target = place === "_state" ? outside : `${outside}/victim.txt`;
      if (place !== "_state") await Deno.writeTextFile(target, "VICTIM\n");
      await Deno.mkdir(`${root}/_state`, { recursive: true });
      if (place === "_state") await Deno.remove(`${root}/_state`);
      await Deno.symlink(target, `${root}/${place}`);
      const feed = validateFeed(streamFeed(), "test");
      await assert.rejects(
        LakeWriter.open({ root, groupId: "g", feeds: [feed], log: silentLogger }),
        (error: Error) => {
          assert.ok(error instanceof UnsafeEntryError, String(error));
          assert.ok(error.message.includes(`${root}/${place}: a symbolic link`), error.message);
          assert.ok(!error.message.includes("\n"));
          return true;
        },
      );
      if (place === "_state") {
        assert.deepEqual([...Deno.readDirSync(outside)], [], "nothing written outside");
      } else {
        assert.equal(await Deno.readTextFile(target), "VICTIM\n");
      }
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    }
  }
});

const TOTAL = 60_000;

Deno.test("owner: a second consume or serve on a running consumer's lake is refused with one line; after kill -9 of the first, the next takes it and every record is there once", async () => {
  const name = uniqueName("LK_OWNER");
  const config = await testConfig({
    feeds: [{
      name,
      kind: "stream",
      primaryKey: ["ID"],
      timeField: "TS",
      columns: { ID: "TEXT", TS: "TEXT" },
    }],
  });
  const dir = config.root;
  const feedsFile = `${dir}/feeds.json`;
  await Deno.writeTextFile(
    feedsFile,
    JSON.stringify({
      feeds: [{
        name,
        kind: "stream",
        primaryKey: ["ID"],
        timeField: "TS",
        columns: { ID: "TEXT", TS: "TEXT" },
      }],
    }),
  );
  const env = { ...envOf(config), FEEDS_FILE: feedsFile };
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: name, partitions: 3 }]);
    const input = `${dir}/input.jsonl`;
    const lines = Array.from(
      { length: TOTAL },
      (_, i) => `{"ID":"R${i}","TS":"2026-03-0${1 + (i % 3)}T08:00:00Z"}`,
    );
    await Deno.writeTextFile(input, lines.join("\n") + "\n");
    const kcat = await new Deno.Command("kcat", {
      args: ["-b", BROKERS, "-P", "-t", name, "-l", input],
    }).output();
    assert.equal(kcat.code, 0, new TextDecoder().decode(kcat.stderr));

    const first = spawnMain(["consume", "--feeds", name], env);
    const firstOutput = first.output();
    await waitForOwner(config.dataLakeDir, first.pid);

    // Same group, another group, --once or not, and serve: each refused with one line.
    const refusals: [string, string[], Record<string, string>][] = [
      ["consume --once, same group", ["consume", "--once", "--feeds", name], env],
      ["consume, another group", ["consume", "--feeds", name], {
        ...env,
        KAFKA_GROUP_ID: uniqueName("other").toLowerCase(),
      }],
      ["serve, another group", ["serve"], {
        ...env,
        KAFKA_GROUP_ID: uniqueName("serve").toLowerCase(),
        PORT: "0",
        WAREHOUSE_PATH: `${dir}/serve.db`,
      }],
    ];
    for (const [label, args, childEnv] of refusals) {
      const refused = await runMain(args, childEnv);
      assert.notEqual(refused.code, 0, `${label}: refused`);
      const errorLines = refused.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(errorLines.length, 1, `${label}: ${refused.stderr.slice(-2000)}`);
      assert.match(
        errorLines[0],
        new RegExp(`another writer owns it \\(pid ${first.pid}, since`),
        label,
      );
      assert.ok(!refused.stderr.includes("    at "), `${label}: no stack trace`);
    }

    first.kill("SIGKILL");
    const killed = await firstOutput;
    assert.equal(killed.signal, "SIGKILL");

    // The kernel dropped the claim with the process: the next consumer takes the lake at once.
    const resumed = await runMain(["consume", "--once", "--feeds", name], env);
    assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));

    const ids = new Set<string>();
    let count = 0;
    for (const partition of (await listPartitions(config.dataLakeDir, name)).partitions) {
      const text = await Deno.readTextFile(partition.path);
      assert.ok(text.endsWith("\n"), "no torn line");
      for (const line of text.split("\n").filter(Boolean)) {
        count++;
        ids.add(JSON.parse(line).ID);
      }
    }
    assert.equal(ids.size, TOTAL, "every record is in the lake");
    assert.equal(count, TOTAL, "none is there twice");
  } finally {
    await kafka.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Waits (bounded) until the process `pid` has claimed the lake (its note is in the lock file). */
async function waitForOwner(root: string, pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const text = await Deno.readTextFile(`${root}/_state/owner.lock`).catch(() => "");
    if (text.includes(`"pid":${pid},`)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pid ${pid} never claimed the lake ${root}`);
}
