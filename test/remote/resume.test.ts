import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { startFakeServer, type FakeServer } from "./fakeServer.ts";

const BIN = fileURLToPath(new URL("../../bin/ptalign.js", import.meta.url));
const env = { PTALIGN_RETRY_BASE_MS: "5", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" };

describe("kill -9 and resume (request cache)", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("vllm", { delayMs: 2 });
  });
  after(() => srv.close());
  const args = (cache: string) => ["run", "--model", "openai:m", "--base-url", srv.url, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "12", "--runs", "3", "--seed", "5", "--json", "--no-save", "--cache-dir", cache];
  const strip = (stdout: string) => {
    const r = JSON.parse(stdout) as Record<string, unknown>;
    delete r.id;
    return r;
  };

  it("a run killed part way and started again gives the uninterrupted result, and no answered request is sent twice", async () => {
    const whole = await ptalign(args(await tempDir()), { env });
    assert.equal(whole.code, 0, whole.stderr);
    const expected = strip(whole.stdout);

    const cache = await tempDir();
    srv.log.length = 0;
    // After 60 answers the server stops answering (requests hang), then the CLI is killed with SIGKILL.
    let answered = 0;
    let hanging = false;
    srv.fault = () => {
      if (answered++ < 60) return false;
      hanging = true;
      return true;
    };
    const child = spawn(process.execPath, [BIN, ...args(cache)], { env: { ...process.env, CI: "1", ...env }, stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", r));
    while (!hanging) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300)); // every answer received has been written to the cache by now
    child.kill("SIGKILL");
    await exited;
    srv.fault = undefined;
    const firstPart = srv.log.filter((e) => e.answered && e.method === "POST").length;
    assert.ok(firstPart >= 50 && firstPart <= 60, `answered before the kill: ${firstPart}`);

    const resumed = await ptalign(args(cache), { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(strip(resumed.stdout), expected);

    const answeredPosts = srv.log.filter((e) => e.answered && e.method === "POST").map((e) => e.hash);
    assert.equal(new Set(answeredPosts).size, answeredPosts.length, "an answered request was sent again");
    assert.ok(answeredPosts.length > firstPart, "the resumed run continued with new requests");

    // A third run is answered entirely from the cache: no POST reaches the server.
    srv.log.length = 0;
    const again = await ptalign(args(cache), { env });
    assert.deepEqual(strip(again.stdout), expected);
    assert.equal(srv.log.filter((e) => e.method === "POST").length, 0);

    // --no-cache bypasses it: the same run sends its requests again (and gives the same result).
    const bypass = await ptalign([...args(cache), "--no-cache"], { env });
    assert.deepEqual(strip(bypass.stdout), expected);
    assert.ok(srv.log.filter((e) => e.method === "POST").length > 0);
  });
});
