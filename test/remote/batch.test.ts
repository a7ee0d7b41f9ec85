import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { startFakeServer, type FakeServer } from "./fakeServer.ts";

/** What a Batch API does with our file: POST each body to its url, write {custom_id, response: {status_code, body}}. */
async function processBatch(srv: FakeServer, input: string, output: string): Promise<number> {
  const lines = (await readFile(input, "utf8")).split("\n").filter((l) => l.trim());
  const origin = new URL(srv.url).origin;
  const out: string[] = [];
  for (const l of lines) {
    const req = JSON.parse(l) as { custom_id: string; method: string; url: string; body: unknown };
    assert.equal(req.method, "POST");
    assert.match(req.url, /^\/v1\/(chat\/)?completions$/);
    const res = await fetch(origin + req.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req.body) });
    out.push(JSON.stringify({ id: `batch_req_${out.length}`, custom_id: req.custom_id, response: { status_code: res.status, request_id: "r", body: await res.json() }, error: null }));
  }
  await writeFile(output, out.join("\n") + "\n");
  return lines.length;
}

describe("ptalign batch export / import (Batch API JSONL)", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("vllm");
  });
  after(() => srv.close());
  const env = { OPENAI_BASE_URL: "", OPENAI_API_KEY: "" };
  const exp = ["--model", "openai:m", "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "3", "--runs", "2", "--seed", "3", "--scoring", "echo"];

  it("sequential: one round per step; the imported result equals a direct run", async () => {
    const dir = await tempDir();
    const cache = join(dir, "cache");
    const file = join(dir, "round.jsonl");
    const output = join(dir, "out.jsonl");
    const ex = await ptalign(["batch", "export", ...exp, "--cache-dir", cache, "--file", file], { env });
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stderr, /wrote 4 requests to/); // step 0: the same prompt for both runs, one request per answer
    let rounds = 0;
    let result: { runs: unknown } | undefined;
    for (;;) {
      rounds++;
      await processBatch(srv, file, output);
      const im = await ptalign(["batch", "import", output, ...exp, "--cache-dir", cache, "--next", file, "--json", "--no-save"], { env });
      assert.equal(im.code, 0, im.stderr);
      if (im.stdout.trim()) {
        result = JSON.parse(im.stdout) as { runs: unknown };
        break;
      }
      assert.match(im.stderr, /requests are still needed \(the sequential protocol needs a round per step\)/);
      assert.ok(rounds < 10);
    }
    assert.equal(rounds, 3);
    const direct = await ptalign(["run", ...exp, "--base-url", srv.url, "--cache-dir", join(dir, "direct"), "--json", "--no-save"], { env });
    assert.equal(direct.code, 0, direct.stderr);
    assert.deepEqual(result!.runs, (JSON.parse(direct.stdout) as { runs: unknown }).runs);
  });

  it("independent: one round", async () => {
    const dir = await tempDir();
    const args = [...exp.map((a) => (a === "3" ? "6" : a)), "--protocol", "independent", "--cache-dir", join(dir, "c")];
    const file = join(dir, "r.jsonl");
    await ptalign(["batch", "export", ...args, "--file", file], { env });
    assert.equal(await processBatch(srv, file, join(dir, "o.jsonl")), 4);
    const im = await ptalign(["batch", "import", join(dir, "o.jsonl"), ...args, "--json", "--no-save"], { env });
    assert.equal(im.code, 0, im.stderr);
    const r = JSON.parse(im.stdout) as { runs: { steps: unknown[] }[] };
    assert.equal(r.runs.length, 2);
    assert.equal(r.runs[0]!.steps.length, 6);
  });

  it("auto scoring is refused in batch mode (exit 2): no server is contacted", async () => {
    const res = await ptalign(["batch", "export", "--model", "openai:m", "--target", "extreme", "--file", "/dev/null"], { env });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /batch mode needs --scoring echo/);
  });
});
