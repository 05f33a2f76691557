import assert from "node:assert/strict";
import { UPLOT_VERSION } from "../../routes/dashboard/vendor.ts";
import { REPO_ROOT } from "../helpers/env.ts";
import { setupApi } from "./fixtures.ts";

Deno.test("GET / serves the dashboard without a token; every asset it names comes from this server", async () => {
  const api = await setupApi({ loadRows: false });
  try {
    const page = await api.request("/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length >= 4, refs.join(" "));
    for (const ref of refs) {
      assert.ok(ref.startsWith("/") || ref.startsWith("data:"), `${ref} is not on this server`);
      if (ref.startsWith("data:")) continue;
      const asset = await api.request(ref);
      assert.equal(asset.status, 200, ref);
      assert.ok((await asset.text()).length > 100, ref);
    }
    const missing = await api.request("/dashboard/nothing.js");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    assert.ok(!html.includes(api.tokens.admin));
  } finally {
    await api.close();
  }
});

Deno.test("the embedded uPlot is the version deno.json pins (deno task dashboard-assets after a bump)", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));
  assert.equal(`npm:uplot@${UPLOT_VERSION}`, config.imports.uplot);
});
