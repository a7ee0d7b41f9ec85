// Issue 20, item 4: `view` answers only requests addressed to itself (DNS rebinding defence).
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { hostAllowed } from "../../src/report/hostCheck.ts";
import { startViewer, type Viewer } from "../../src/report/server.ts";
import { tempDir } from "../support/tmp.ts";

/** A raw GET with the Host header we choose (fetch would set its own). */
const get = (port: number, host: string, path = "/version") =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });

describe("view: Host header check", () => {
  let viewer: Viewer;
  let port: number;
  before(async () => {
    viewer = await startViewer({ dir: await tempDir(), port: 0 });
    port = Number(new URL(viewer.url).port);
  });
  after(() => viewer.close());

  for (const host of ["attacker.example", "attacker.example:PORT", "localhost:1", "127.0.0.1.nip.io:PORT", "evil.localhost:PORT"]) {
    it(`refuses Host: ${host} with 421`, async () => {
      const r = await get(port, host.replace("PORT", String(port)), "/");
      assert.equal(r.status, 421);
      assert.match(r.body, /misdirected request/);
      assert.ok(r.body.length < 200);
    });
  }
  for (const host of ["127.0.0.1:PORT", "localhost:PORT", "LOCALHOST:PORT", "[::1]:PORT"]) {
    it(`answers Host: ${host}`, async () => {
      const r = await get(port, host.replace("PORT", String(port)));
      assert.equal(r.status, 200, r.body);
    });
  }
  it("accepts the name given with --host and IP literals (rebinding needs a name), on the bound port only", () => {
    assert.equal(hostAllowed("myhost.lan:8080", 8080, "myhost.lan"), true);
    assert.equal(hostAllowed("myhost.lan:8081", 8080, "myhost.lan"), false);
    assert.equal(hostAllowed("192.168.1.5:8080", 8080, "0.0.0.0"), true);
    assert.equal(hostAllowed("other.lan:8080", 8080, "myhost.lan"), false);
    assert.equal(hostAllowed("localhost", 80), true);
    assert.equal(hostAllowed(undefined, 80), false);
  });
});
