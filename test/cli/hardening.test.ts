// The CLI fuzz cases of issue 20 (items 1–6, 8, 9), as a user runs them: each ends with its documented exit, one
// line on stderr when it fails, no "internal error" and no stack. Deeper checks (RSS, wall time, every credential
// form) are in test/hardening/*.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createGzip } from "node:zlib";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { startFakeServer, type FakeServer } from "../remote/fakeServer.ts";

const ENV = { OPENAI_API_KEY: "", OPENAI_BASE_URL: "", PTALIGN_RETRY_BASE_MS: "5" };

describe("CLI hardening cases (issue 20)", () => {
  let dir: string;
  let srv: FakeServer;
  let answer: (auth: string) => { status: number; body: string };
  before(async () => {
    dir = await tempDir();
    srv = await startFakeServer("openai");
    srv.fault = (_n, req, res) => {
      if (req.method !== "POST") return false;
      const a = answer(String(req.headers.authorization ?? ""));
      res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
      return true;
    };
    await writeFile(join(dir, "big.json"), "[[[1e308,1e308],[1e308,1e308]]]");
    await writeFile(join(dir, "half.json"), "[[[0.5,0.5],[0.5,0.5]]]");
    await writeFile(join(dir, "t.csv"), "a,1e308\nb,1e308\n");
    const problem = (id: string, solution: string) => JSON.stringify({ task_id: id, prompt: "function id(x) {\n", entry_point: "id", test: "function check(c) { if (c(2) !== 2) throw new Error('bad'); }", canonical_solution: solution });
    await writeFile(join(dir, "hostile.jsonl"), [
      problem("t/0", "  const e = new Error('x'); Object.defineProperty(e, 'message', { get() { for(;;){} } }); throw e;\n}\n"),
      problem("t/1", "  throw new Proxy({}, { get() { for(;;){} } });\n}\n"),
      problem("t/2", "  const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(65000);\n  return x;\n}\n"),
      problem("t/3", "  return x;\n}\n"),
    ].join("\n"));
    // 8 MB of spaces, gzipped chunk by chunk, against a 1 MB input limit.
    const gz = createGzip();
    const out = gz.pipe(createWriteStream(join(dir, "bomb.jsonl.gz")));
    for (let i = 0; i < 8; i++) gz.write(Buffer.alloc(1024 * 1024, 0x20));
    gz.end();
    await once(out, "close");
  });
  after(() => srv.close());

  const remote = (base = srv.url) => ["run", "--model", "openai:m", "--base-url", base, "--scoring", "top-k", "--target", "{1:0.5,2:0.5}", "--steps", "2", "--no-save", "--no-cache", "--retries", "0"];
  const tops = (list: [string, number][]) => JSON.stringify({ choices: [{ logprobs: { content: [{ token: list[0]![0], logprob: list[0]![1], top_logprobs: list.map(([token, logprob]) => ({ token, logprob })) }] } }] });
  const cases: { name: string; args: () => string[]; env?: NodeJS.ProcessEnv; code: number; stderr?: RegExp; not?: string[]; server?: typeof answer }[] = [
    { name: "1: canonical solutions that throw looping getters / Proxies (hung forever)", args: () => ["task", "codegen", "--model", "sim:e", "--problems", join(dir, "hostile.jsonl"), "--n", "1", "--dry-run"], code: 0, stderr: /skipping 3 of 4 problems.*time limit of 2000 ms exceeded.*WebAssembly is not defined/ },
    { name: "3: a password in --base-url quoted back by the server", args: () => remote(srv.url.replace("http://", "http://alice:Pa55w0rdXYZ@")), code: 1, stderr: /Basic \*\*\*/, not: ["Pa55w0rdXYZ", "YWxpY2U6UGE1NXcwcmRYWVo="], server: (auth) => ({ status: 400, body: JSON.stringify({ error: { message: `bad auth header: ${auth}` } }) }) },
    { name: "5: log-probabilities above 0", args: () => remote(), code: 1, stderr: /not a distribution: log-probability 2 > 0/, server: () => ({ status: 200, body: tops([[" 1", 2], [" 2", 1]]) }) },
    { name: "5: a token listed twice", args: () => remote(), code: 1, stderr: /not a distribution: token " 1" listed twice/, server: () => ({ status: 200, body: tops([[" 1", -0.36], [" 1", -0.36]]) }) },
    { name: "5: a visible mass above 1", args: () => remote(), code: 1, stderr: /not a distribution: the listed probabilities sum to 1\.4/, server: () => ({ status: 200, body: tops([[" 1", Math.log(0.7)], [" 2", Math.log(0.7)]]) }) },
    { name: "6: metrics --ptoken [1e308,1e308] --normalize", args: () => ["metrics", "--target", "{a:0.5,b:0.5}", "--ptoken", join(dir, "big.json"), "--normalize"], code: 0 },
    { name: "6: --target-file counts of 1e308", args: () => ["run", "--model", "sim:d", "--target-file", join(dir, "t.csv"), "--steps", "3", "--runs", "1", "--no-save"], code: 0 },
    { name: "8: a one-answer target", args: () => ["run", "--model", "sim:d", "--target", "{yes:1}", "--steps", "5", "--runs", "2", "--no-save"], code: 0 },
    { name: "9: an answer over the response limit", args: () => remote(), env: { PTALIGN_MAX_RESPONSE_MB: "1" }, code: 1, stderr: /sent an answer larger than 1 MB, the response limit/, server: () => ({ status: 200, body: " ".repeat(3 * 1024 * 1024) }) },
    { name: "9: a .jsonl.gz that inflates past the input limit", args: () => ["task", "codegen", "--model", "sim:e", "--problems", join(dir, "bomb.jsonl.gz"), "--n", "1", "--dry-run"], env: { PTALIGN_MAX_INPUT_MB: "1" }, code: 2, stderr: /its gzip data inflates to larger than 1 MB, the input limit/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      answer = c.server ?? (() => ({ status: 500, body: "{}" }));
      const res = await ptalign(c.args(), { env: { ...ENV, ...c.env } });
      assert.equal(res.code, c.code, res.stderr);
      assert.doesNotMatch(res.stderr, /internal error|\n\s+at |0x1fffffe8/, res.stderr);
      if (c.stderr) assert.match(res.stderr, c.stderr);
      if (c.code !== 0) assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
      for (const s of c.not ?? []) assert.ok(!(res.stdout + res.stderr).includes(s), `shows ${s}`);
    });
  }
});
