// A pool of inference servers (--base-url given several times, or a study's base_urls): requests spread over
// loopback replicas, per-server concurrency, failover when one is closed mid-run (results identical to one server),
// and one line with exit 1 when all are gone, the steps measured so far kept.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { startFakeServer, type FakeServer } from "./fakeServer.ts";

const env = { PTALIGN_RETRY_BASE_MS: "5", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" };
const TARGET = "{1:0.25,2:0.25,3:0.25,4:0.25}";
const run = (urls: string[], extra: string[] = []) => ["run", "--model", "openai:m", ...urls.flatMap((u) => ["--base-url", u]), "--target", TARGET, "--steps", "10", "--runs", "3", "--seed", "3", "--json", "--no-cache", ...extra];
const strip = (stdout: string) => {
  const r = JSON.parse(stdout) as Record<string, unknown>;
  delete r.id;
  return r;
};
const posts = (s: FakeServer) => s.log.filter((e) => e.method === "POST" && e.answered).length;

/** Counts the requests a server holds at once. */
function watchInFlight(s: FakeServer): { max: () => number } {
  let active = 0;
  let max = 0;
  s.fault = (_n, _req, res) => {
    active++;
    max = Math.max(max, active);
    res.on("close", () => active--);
    return false;
  };
  return { max: () => max };
}

describe("a pool of servers (--base-url several times)", () => {
  let a: FakeServer;
  let b: FakeServer;
  let expected: Record<string, unknown>;
  before(async () => {
    a = await startFakeServer("vllm", { delayMs: 2 });
    b = await startFakeServer("vllm", { delayMs: 2 });
    const one = await ptalign([...run([a.url]), "--no-save"], { env });
    assert.equal(one.code, 0, one.stderr);
    expected = strip(one.stdout);
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it("spreads the requests over both servers, with the result of the first alone", async () => {
    a.log.length = 0;
    b.log.length = 0;
    const r = await ptalign([...run([a.url, b.url]), "--no-save"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(strip(r.stdout), expected);
    const [na, nb] = [posts(a), posts(b)];
    assert.ok(na > 20 && nb > 20, `requests: ${na} on the first, ${nb} on the second`);
    assert.ok(Math.abs(na - nb) <= (na + nb) / 4, `roughly even: ${na} / ${nb}`);
  });

  it("--server-concurrency caps the requests in flight on each server", async () => {
    const wa = watchInFlight(a);
    const wb = watchInFlight(b);
    try {
      const capped = await ptalign([...run([a.url, b.url], ["--concurrency", "8", "--server-concurrency", "1"]), "--no-save"], { env });
      assert.equal(capped.code, 0, capped.stderr);
      assert.deepEqual(strip(capped.stdout), expected);
      assert.deepEqual([wa.max(), wb.max()], [1, 1]);
      const free = await ptalign([...run([a.url, b.url], ["--concurrency", "8"]), "--no-save"], { env });
      assert.deepEqual(strip(free.stdout), expected);
      assert.ok(Math.max(wa.max(), wb.max()) > 1, "without the cap a server holds several requests at once");
    } finally {
      a.fault = undefined;
      b.fault = undefined;
    }
  });

  it("a server closed mid-run: its requests go to the other, it is dropped with one warning, the result is the same", async () => {
    const c = await startFakeServer("vllm", { delayMs: 2 });
    c.fault = (n, _req, res) => {
      if (n < 25) return false;
      res.socket?.destroy();
      void c.close();
      return true;
    };
    const r = await ptalign([...run([a.url, c.url]), "--no-save"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(strip(r.stdout), expected);
    const warnings = r.stderr.trim().split("\n").filter(Boolean);
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, new RegExp(`^ptalign: warning: server ${c.url.replace(/[.]/g, "\\.")} dropped from the pool after .*going on with 1 of 2`));
  });

  it("llama-server's native endpoints (/tokenize, /completion under the root) are routed to each replica too", async () => {
    const servers = [await startFakeServer("llamacpp", { delayMs: 1 }), await startFakeServer("llamacpp", { delayMs: 1 })];
    try {
      const one = await ptalign([...run([servers[0]!.url]), "--no-save"], { env });
      assert.equal(one.code, 0, one.stderr);
      for (const s of servers) s.log.length = 0;
      servers[1]!.fault = (n, _req, res) => {
        if (n < 20) return false;
        res.socket?.destroy();
        void servers[1]!.close();
        return true;
      };
      const pooled = await ptalign([...run(servers.map((s) => s.url)), "--no-save"], { env });
      assert.equal(pooled.code, 0, pooled.stderr);
      assert.deepEqual(strip(pooled.stdout), strip(one.stdout));
      assert.ok(servers[1]!.log.some((e) => e.path === "/completion" && e.answered), "the second server answered native requests before it was closed");
      assert.match(pooled.stderr, /dropped from the pool/);
    } finally {
      for (const s of servers) await s.close();
    }
  });

  it("a first server that cannot be reached is dropped at once; the others measure", async () => {
    const r = await ptalign([...run(["http://127.0.0.1:9/v1", a.url]), "--no-save"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /server http:\/\/127\.0\.0\.1:9\/v1 dropped from the pool after it could not be reached/);
    // The first URL names the measurement: the recorded server is the first one's.
    const got = strip(r.stdout) as { settings: Record<string, unknown> };
    assert.deepEqual({ ...got, settings: undefined }, { ...expected, settings: undefined });
  });

  it("every server gone: one line, exit 1, the steps measured so far kept", async () => {
    const out = join(await tempDir(), "out");
    const servers = [await startFakeServer("vllm", { delayMs: 2 }), await startFakeServer("vllm", { delayMs: 2 })];
    for (const s of servers) {
      s.fault = (n, _req, res) => {
        if (n < 15) return false;
        res.socket?.destroy();
        void s.close();
        return true;
      };
    }
    const r = await ptalign([...run(servers.map((s) => s.url)).filter((x) => x !== "--json"), "--out", out], { env });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.match(lines.at(-1)!, /no server of the pool answers \(.*1 dropped; last: .*\); check that the servers are up/);
    assert.ok(lines.length <= 2, r.stderr);
    const ls = await ptalign(["ls", out, "--json"]);
    const [stored] = JSON.parse(ls.stdout) as { status: string; progress: { steps: number } }[];
    assert.equal(stored!.status, "failed");
    assert.ok(stored!.progress.steps > 0, "steps measured before the servers went are stored");
  });

  it("a study's base_urls: the cells are those of the first server (same hash), the requests go to all", async () => {
    const dir = await tempDir();
    const write = async (name: string, urls: string[]) => {
      const file = join(dir, name);
      await writeFile(file, `models: [openai:m]\ntargets: ["${TARGET}"]\nsteps: 4\nruns: 2\nbase_urls: [${urls.map((u) => JSON.stringify(u)).join(", ")}]\n`);
      return file;
    };
    const pooled = await write("pool.yaml", [a.url, b.url]);
    const single = await write("one.yaml", [a.url]);
    const hash = async (file: string) => (JSON.parse((await ptalign(["run", file, "--dry-run", "--json", "--out", join(dir, "x")], { env })).stdout) as { cells: { hash: string }[] }).cells[0]!.hash;
    assert.equal(await hash(pooled), await hash(single));
    a.log.length = 0;
    b.log.length = 0;
    const r = await ptalign(["run", pooled, "--out", join(dir, "out"), "--no-cache"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(posts(a) > 0 && posts(b) > 0, `${posts(a)} / ${posts(b)}`);
  });
});
