/**
 * Issue 10 items 1, 3, 4, 6 and 11 through the API: POST /feeds/:feed/records applies the record
 * contract (400 with a reason), row filters named like prototype members are a 400 (not 500),
 * bodies are bounded in bytes while read (413, audited), and invalid UTF-8 is a 400.
 */
import assert from "node:assert/strict";
import { recentAudit } from "../../src/governance/audit.ts";
import { jsonInit, setupApi } from "../routes/fixtures.ts";

const ok = { ORDER_ID: "H1", COUNTRY: "France", AMOUNT: 1, CREATED_AT: "2026-11-20T10:00:00Z" };

Deno.test("POST records: the record contract refuses prototype names, rowid, out-of-range times and numbers (400 with a reason)", async () => {
  const api = await setupApi({ loadRows: false });
  try {
    const post = (body: string) =>
      api.json(`/feeds/${api.orders}/records`, jsonInit("POST", body, api.tokens.writer));
    const base = JSON.stringify(ok).slice(0, -1);
    const cases: [string, RegExp][] = [
      [`${base},"constructor":"jane@example.org"}`, /"constructor" is a reserved name/],
      [`${base},"toString":"x"}`, /"toString" is a reserved name/],
      [`${base},"__proto__":{"COUNTRY":"x"}}`, /"__proto__" is a reserved name/],
      [`${base},"hasOwnProperty":1}`, /"hasOwnProperty" is a reserved name/],
      [`${base},"valueOf":1}`, /"valueOf" is a reserved name/],
      [`${base},"rowid":1}`, /"rowid" is a reserved name/],
      [
        JSON.stringify({ ...ok, CREATED_AT: "9999-12-31T23:59:59-23:59" }),
        /outside the accepted years/,
      ],
      [
        JSON.stringify({ ...ok, CREATED_AT: "0000-01-01T00:00:00+01:00" }),
        /outside the accepted years/,
      ],
      [JSON.stringify({ ...ok, AMOUNT: 1e303 }), /AMOUNT 1e\+303 is outside the accepted range/],
      [`{"ORDER_ID":"H2","AMOUNT":1e400,"CREATED_AT":"2026-11-20T10:00:00Z"}`, /not a finite/],
    ];
    for (const [body, reason] of cases) {
      const [status, answer] = await post(body);
      assert.equal(status, 400, body);
      assert.match(answer.error, reason, body);
    }
    const [status] = await post(JSON.stringify(ok));
    assert.equal(status, 202, "a good record still goes");
  } finally {
    await api.close();
  }
});

Deno.test("GET rows: filters named like prototype members or rowid aliases are a 400, not a 500", async () => {
  const api = await setupApi();
  try {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "rowid", "oid"]) {
      const [status, body] = await api.json(`/feeds/${api.orders}/rows?${name}=x`, {
        token: api.tokens.reader,
      });
      assert.equal(status, 400, `${name}: ${JSON.stringify(body)}`);
      assert.match(body.error, /reserved/);
    }
    const [status, body] = await api.json(`/feeds/${api.orders}/rows?COUNTRY=Spain`, {
      token: api.tokens.reader,
    });
    assert.equal(status, 200);
    assert.equal(body.count, 2);
  } finally {
    await api.close();
  }
});

Deno.test("POST bodies: the limit counts bytes; invalid UTF-8 is a 400; refusals are audited", async () => {
  const api = await setupApi({ loadRows: false });
  try {
    const url = `/feeds/${api.orders}/records`;
    // 600 000 "é" are 600 000 characters but 1.2 MB.
    const wide = JSON.stringify({ ...ok, COUNTRY: "é".repeat(600_000) });
    const [status, body] = await api.json(url, jsonInit("POST", wide, api.tokens.writer));
    assert.equal(status, 413, JSON.stringify(body).slice(0, 200));
    assert.match(body.error, /larger than 1048576 bytes/);

    const bytes = new TextEncoder().encode(JSON.stringify({ ...ok, COUNTRY: "Fr_nce" }));
    bytes[bytes.indexOf(0x5f)] = 0xff; // "_" becomes a byte that is not UTF-8
    const res = await api.request(url, {
      method: "POST",
      token: api.tokens.writer,
      headers: { "Content-Type": "application/json" },
      body: bytes,
    });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /not valid UTF-8/);

    const audited = (await recentAudit(api.db, { action: "api.call", limit: 10 })).map((r) =>
      r.detail?.status
    );
    assert.ok(audited.includes(413) && audited.includes(400), JSON.stringify(audited));
  } finally {
    await api.close();
  }
});

/** A body of `size` bytes made on the fly, so the client never holds it. */
function streamOf(size: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

Deno.test("POST bodies over a real socket: three parallel 50 MB bodies get 413 and memory stays flat", async () => {
  const api = await setupApi({ loadRows: false });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) =>
      api.request(new URL(req.url).pathname, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        // @ts-ignore: a streamed request body needs duplex in fetch-style constructors
        duplex: "half",
      }),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/feeds/${api.orders}/records`;
    const size = 50 * 1024 * 1024;
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
    const send = async (chunked: boolean) => {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${api.tokens.writer}`,
            "Content-Type": "application/json",
            ...(chunked ? {} : { "Content-Length": String(size) }),
          },
          body: streamOf(size),
          // @ts-ignore: Deno's fetch takes duplex for streamed bodies
          duplex: "half",
        });
        const text = await res.text();
        return res.status === 413 ? 413 : `${res.status} ${text.slice(0, 100)}`;
      } catch (error) {
        // The server may close the socket once it has answered 413 mid-upload.
        return `closed: ${(error as Error).message.slice(0, 100)}`;
      }
    };
    const results = await Promise.all([send(true), send(true), send(false)]);
    clearInterval(sampler);
    const grownMb = (peak - before) / 1024 / 1024;
    console.log(`peak RSS growth ${grownMb.toFixed(1)} MB for 3 × 50 MB bodies: ${results}`);
    assert.ok(results.filter((r) => r === 413).length >= 1, JSON.stringify(results));
    assert.ok(results.every((r) => r === 413 || String(r).startsWith("closed")), String(results));
    assert.ok(grownMb < 100, `RSS grew ${grownMb.toFixed(1)} MB`);
  } finally {
    await server.shutdown();
    await api.close();
  }
});
