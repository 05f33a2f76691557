import assert from "node:assert/strict";
import {
  envOf,
  produceWithKcat,
  tempDir,
  testConfig,
  testKafka,
  uniqueName,
} from "../helpers/env.ts";
import { ordersFeed } from "../routes/fixtures.ts";
import { lakeLines, startServe, waitFor, writeFeedsFile } from "./service_helpers.ts";
import { testWithKcat } from "../helpers/needs.ts";

const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
const DAY = "2026-11-23";

function order(i: number, prefix = "O"): string {
  return JSON.stringify({
    ORDER_ID: `${prefix}${i}`,
    COUNTRY: i % 2 ? "France" : "Spain",
    AMOUNT: i + 0.5,
    CREATED_AT: `${DAY}T10:00:00Z`,
  });
}

async function setup() {
  const feed = uniqueName("E2E_ORDERS");
  const dir = await tempDir("e2e-");
  const feedsFile = await writeFeedsFile(dir, [ordersFeed(feed)]);
  const config = await testConfig({ env: { FEEDS_FILE: feedsFile } });
  const kafka = testKafka();
  try {
    await kafka.ensureTopics([{ topic: feed, partitions: 3 }]);
  } finally {
    await kafka.close();
  }
  const env = {
    ...envOf(config),
    ADMIN_TOKEN,
    // Far away: these tests start jobs through the API instead of waiting for the clock.
    PIPELINE_SCHEDULE: "0 0 1 1 *",
  };
  return { feed, config, env };
}

testWithKcat(
  "end to end through `deno task start serve`: produce → lake → warehouse → GET rows",
  async () => {
    const { feed, config, env } = await setup();
    const n = 50;
    await produceWithKcat(feed, Array.from({ length: n }, (_, i) => order(i)));
    const served = await startServe(["--no-process"], env);
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    try {
      await waitFor(
        "the lake",
        async () =>
          (await lakeLines(config.dataLakeDir, feed, DAY)).length === n ? true : undefined,
      );

      const load = await fetch(served.url("/jobs/load/run?wait=true"), {
        method: "POST",
        headers: auth,
      });
      const run = (await load.json()).run;
      assert.equal(load.status, 200, JSON.stringify(run));
      assert.ok(run.counts.rows_loaded >= n);

      const rows = await fetch(served.url(`/feeds/${feed}/rows?limit=1000`), { headers: auth });
      const body = await rows.json();
      assert.equal(rows.status, 200);
      assert.equal(body.count, n);
      assert.deepEqual(
        new Set(body.rows.map((r: { ORDER_ID: string }) => r.ORDER_ID)),
        new Set(Array.from({ length: n }, (_, i) => `O${i}`)),
      );
      const france =
        await (await fetch(served.url(`/feeds/${feed}/rows?COUNTRY=France&limit=1000`), {
          headers: auth,
        })).json();
      assert.equal(france.count, n / 2);

      // A record posted through the API takes the same road.
      const posted = await fetch(served.url(`/feeds/${feed}/records`), {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: order(1000, "API"),
      });
      assert.equal(posted.status, 202);
      await posted.body?.cancel();
      await waitFor(
        "the posted record in the lake",
        async () =>
          (await lakeLines(config.dataLakeDir, feed, DAY)).length === n + 1 ? true : undefined,
      );
      const again = await fetch(served.url("/jobs/load/run?wait=true"), {
        method: "POST",
        headers: auth,
      });
      assert.equal(again.status, 200);
      await again.body?.cancel();
      const one = await (await fetch(served.url(`/feeds/${feed}/rows?ORDER_ID=API1000`), {
        headers: auth,
      })).json();
      assert.equal(one.count, 1);

      const status = await (await fetch(served.url("/status"))).json();
      const feedStatus = status.feeds.find((f: { name: string }) => f.name === feed);
      assert.equal(feedStatus.warehouseRows, n + 1);
      assert.equal(status.kafka.connected, true);
    } finally {
      assert.equal(await served.stop(), 0, served.output.slice(-20).join("\n"));
    }
    assert.ok(!served.output.join("\n").includes(ADMIN_TOKEN), "the admin token was logged");
  },
);

testWithKcat("serve under SIGTERM while consuming loses and duplicates nothing", async () => {
  const { feed, config, env } = await setup();
  const batches = 30;
  const perBatch = 500;
  const total = batches * perBatch;
  const batch = (b: number) =>
    produceWithKcat(feed, Array.from({ length: perBatch }, (_, i) => order(b * perBatch + i)));

  const served = await startServe(["--no-process"], env);
  // Records keep arriving while serve runs; SIGTERM lands in the middle of that stream.
  let produced = 0;
  const producing = (async () => {
    for (let b = 0; b < batches; b++) {
      await batch(b);
      produced++;
      await new Promise((resolve) => setTimeout(resolve, 50)); // a stream, not one burst
    }
  })();
  const atSignal = await waitFor("some lake lines", async () => {
    const lines = await lakeLines(config.dataLakeDir, feed, DAY);
    return lines.length >= 5 * perBatch ? lines.length : undefined;
  });
  assert.equal(await served.stop(), 0, served.output.slice(-20).join("\n"));
  const afterStop = (await lakeLines(config.dataLakeDir, feed, DAY)).length;
  console.log(
    `lake lines at SIGTERM: ${atSignal}; after exit: ${afterStop}; batches produced by then: ${produced} of ${batches}`,
  );
  await producing;

  const again = await startServe(["--no-process"], env);
  try {
    await waitFor(
      "every record in the lake",
      async () =>
        (await lakeLines(config.dataLakeDir, feed, DAY)).length >= total ? true : undefined,
    );
  } finally {
    assert.equal(await again.stop(), 0, again.output.slice(-20).join("\n"));
  }
  const lines = await lakeLines(config.dataLakeDir, feed, DAY);
  const ids = lines.map((line) => JSON.parse(line).ORDER_ID);
  assert.equal(lines.length, total, "no duplicates");
  assert.equal(new Set(ids).size, total, "nothing lost");
});
