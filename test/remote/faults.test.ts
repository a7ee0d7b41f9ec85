import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isTransient, RemoteClient, UnsupportedRequest } from "../../src/backends/remote/http.ts";
import { parseFirstAlternatives } from "../../src/backends/remote/shapes.ts";
import { RunError } from "../../src/errors.ts";
import { RequestCache } from "../../src/store/cache.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";
import { startFakeServer, type FakeServer } from "./fakeServer.ts";

const BODY = { model: "m", prompt: "Draw\nSamples:", max_tokens: 1, logprobs: 3, temperature: 0 };
const parse = (j: unknown) => parseFirstAlternatives(j, "srv");

describe("remote client faults (loopback server)", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("openai");
  });
  after(() => srv.close());
  const client = (o: Partial<ConstructorParameters<typeof RemoteClient>[0]> = {}) => new RemoteClient({ baseUrl: srv.url, model: "m", retries: 3, backoffMs: 5, timeoutMs: 2000, cache: null, ...o });
  const post = (c: RemoteClient) => c.post(`${srv.url}/completions`, BODY, parse);
  const withFault = async <T>(fault: FakeServer["fault"], fn: () => Promise<T>): Promise<T> => {
    let k = 0; // requests counted from this test's start
    srv.fault = fault ? (_n, req, res, body) => fault(k++, req, res, body) : undefined;
    srv.log.length = 0;
    try {
      return await fn();
    } finally {
      srv.fault = undefined;
    }
  };

  it("429 with Retry-After: waits as told, then succeeds", async () => {
    const start = Date.now();
    const c = client();
    const alts = await withFault((n, _req, res) => {
      if (n > 0) return false;
      res.writeHead(429, { "retry-after": "1", "content-type": "application/json" }).end(JSON.stringify({ error: { message: "rate limited" } }));
      return true;
    }, () => post(c));
    assert.ok(Date.now() - start >= 950, `waited ${Date.now() - start} ms`);
    assert.equal(alts.length, 3);
    assert.equal(c.stats.retried, 1);
  });

  it("retry-after-ms (OpenAI's header) is honoured too", async () => {
    const start = Date.now();
    await withFault((n, _req, res) => (n === 0 ? (res.writeHead(429, { "retry-after-ms": "300" }).end("{}"), true) : false), () => post(client()));
    assert.ok(Date.now() - start >= 290);
  });

  it("500s are retried with backoff until the server answers", async () => {
    const c = client();
    const alts = await withFault((n, _req, res) => (n < 2 ? (res.writeHead(500).end("boom"), true) : false), () => post(c));
    assert.equal(alts.length, 3);
    assert.equal(srv.log.length, 3);
    assert.equal(c.stats.retried, 2);
  });

  it("a 500 that says the request is unsupported (llama-server on echo) fails at once: one attempt, no retry", async () => {
    const c = client({ retries: 6 });
    const llamaBody = JSON.stringify({ error: { code: 500, message: "Unsupported param: echo", type: "server_error" } });
    await withFault((_n, _req, res) => (res.writeHead(500, { "content-type": "application/json" }).end(llamaBody), true), async () => {
      await assert.rejects(c.post(`${srv.url}/completions`, BODY, parse, { hint: "use --scoring tokens" }), (e: Error) => {
        assert.ok(e instanceof UnsupportedRequest && e instanceof RunError);
        assert.match(e.message, /^http:\/\/127\.0\.0\.1:\d+\/v1\/completions does not support this request \(HTTP 500: Unsupported param: echo\); use --scoring tokens$/);
        return true;
      });
    });
    assert.equal(srv.log.length, 1);
    assert.deepEqual(c.stats, { sent: 1, cached: 0, retried: 0 });
  });

  it("4xx other than 408/429, and 501, are not retried; 408 is", async () => {
    for (const status of [400, 404, 422, 501]) {
      const c = client({ retries: 3 });
      await withFault((_n, _req, res) => (res.writeHead(status).end(JSON.stringify({ error: { message: "no" } })), true), () => assert.rejects(post(c), RunError));
      assert.equal(srv.log.length, 1, `HTTP ${status}`);
      assert.equal(c.stats.retried, 0, `HTTP ${status}`);
    }
    const c = client({ retries: 3 });
    await withFault((n, _req, res) => (n === 0 ? (res.writeHead(408).end("{}"), true) : false), () => post(c));
    assert.equal(srv.log.length, 2);
    assert.equal(c.stats.retried, 1);
  });

  it("isTransient: 408, 429 and 5xx unless the server states the request is unsupported", () => {
    const table: [number, string, boolean][] = [
      [408, "", true],
      [429, "unsupported", true],
      [500, "internal error", true],
      [502, "", true],
      [503, "Loading model", true],
      [500, "Unsupported param: echo", false],
      [500, "Only no echo is supported", false],
      [500, "logprobs is not supported for this model", false],
      [500, "this model does not support prompt_logprobs", false],
      [501, "", false],
      [400, "bad", false],
      [404, "", false],
    ];
    for (const [status, body, want] of table) assert.equal(isTransient(status, body), want, `${status} ${body}`);
  });

  it("a request that hangs past the timeout is retried", async () => {
    const c = client({ timeoutMs: 150 });
    const start = Date.now();
    const alts = await withFault((n) => n === 0, () => post(c)); // the first request is never answered
    assert.equal(alts.length, 3);
    assert.ok(Date.now() - start >= 150);
    assert.equal(srv.log.length, 2);
  });

  it("a connection reset mid-body is retried", async () => {
    const c = client();
    const alts = await withFault((n, _req, res) => {
      if (n > 0) return false;
      res.writeHead(200, { "content-type": "application/json", "content-length": "400" });
      res.write('{"choices":[{"logprobs":');
      setTimeout(() => res.socket?.destroy(), 10);
      return true;
    }, () => post(c));
    assert.equal(alts.length, 3);
    assert.equal(srv.log.length, 2);
  });

  it("malformed JSON is a one-line RunError naming the server, not retried", async () => {
    await withFault((_n, _req, res) => (res.writeHead(200, { "content-type": "application/json" }).end("{not json at all"), true), async () => {
      await assert.rejects(post(client()), (e: Error) => {
        assert.ok(e instanceof RunError);
        assert.match(e.message, /^http:\/\/127\.0\.0\.1:\d+\/v1\/completions answered with a body that is not JSON \("\{not json at all"\)/);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      });
    });
    assert.equal(srv.log.length, 1);
  });

  it("a server that stays down: a clear final error after the retries", async () => {
    const c = client({ retries: 2 });
    await withFault((_n, _req, res) => (res.writeHead(503).end(JSON.stringify({ error: { message: "overloaded" } })), true), async () => {
      await assert.rejects(post(c), /still failing after 3 attempts \(last: HTTP 503: overloaded\); check that the server is up/);
    });
    assert.equal(srv.log.length, 3);
  });

  it("an unreachable server at start is a one-line error at once (no retries)", async () => {
    const dead = await startFakeServer("openai");
    const url = dead.url;
    await dead.close();
    const c = new RemoteClient({ baseUrl: url, model: "m", retries: 5, backoffMs: 1000, cache: null });
    const start = Date.now();
    await assert.rejects(c.post(`${url}/completions`, BODY, parse), /^RunError: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/completions \(connection refused\); is the server running/);
    assert.ok(Date.now() - start < 900);
  });

  it("the API key never appears in error messages, cache keys or cache files", async () => {
    const key = "sk-test-SECRET-0123456789";
    const keyed = await startFakeServer("openai", { apiKey: key });
    const dir = await tempDir();
    try {
      const wrong = new RemoteClient({ baseUrl: keyed.url, model: "m", apiKey: `${key}-wrong`, cache: null, retries: 0 });
      await assert.rejects(wrong.post(`${keyed.url}/completions`, BODY, parse), (e: Error) => {
        assert.match(e.message, /HTTP 401 Incorrect API key provided: \*\*\*/);
        assert.ok(!e.message.includes(key));
        return true;
      });
      const cache = new RequestCache(dir);
      const good = new RemoteClient({ baseUrl: keyed.url, model: "m", apiKey: key, cache, retries: 0 });
      await good.post(`${keyed.url}/completions`, BODY, parse);
      assert.equal(cache.writes, 1);
      for (const sub of await readdir(dir)) {
        for (const f of await readdir(join(dir, sub))) {
          assert.ok(!f.includes(key));
          const { gunzipSync } = await import("node:zlib");
          assert.ok(!gunzipSync(await readFile(join(dir, sub, f))).toString().includes(key));
        }
      }
    } finally {
      await keyed.close();
    }
  });

  it("--concurrency caps the requests in flight; --rpm spaces their starts", async () => {
    let inFlight = 0;
    let most = 0;
    const c = client({ concurrency: 2 });
    await withFault((_n, _req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ logprobs: { content: [{ top_logprobs: [{ token: "a", logprob: 0 }] }] } }] }));
      }, 20);
      return true;
    }, () => Promise.all([1, 2, 3, 4, 5, 6].map((i) => c.post(`${srv.url}/completions`, { ...BODY, prompt: `p${i}` }, parse))));
    assert.equal(most, 2);
    const limited = client({ rpm: 600 }); // one start every 100 ms
    const start = Date.now();
    await Promise.all([1, 2, 3].map((i) => limited.post(`${srv.url}/completions`, { ...BODY, prompt: `r${i}` }, parse)));
    assert.ok(Date.now() - start >= 195, `3 requests at 600 rpm took ${Date.now() - start} ms`);
  });

  it("the cache answers a repeated request without the server; in-flight duplicates share one request", async () => {
    const dir = await tempDir();
    const c = new RemoteClient({ baseUrl: srv.url, model: "m", cache: new RequestCache(dir), retries: 0 });
    srv.log.length = 0;
    await Promise.all([post(c), post(c), post(c)]);
    assert.equal(srv.log.length, 1);
    const again = new RemoteClient({ baseUrl: srv.url, model: "m", cache: new RequestCache(dir), retries: 0 });
    await post(again);
    assert.equal(srv.log.length, 1);
    assert.equal(again.stats.cached, 1);
  });
});

describe("ptalign run --model openai:... (CLI contract)", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("vllm");
  });
  after(() => srv.close());
  const env = { PTALIGN_RETRY_BASE_MS: "5", OPENAI_API_KEY: "sk-cli-SECRET-987654321", OPENAI_BASE_URL: "" };

  it("llama-server through the CLI: --show-prompt shows the server's template; the run is exact and records the path", async () => {
    const llama = await startFakeServer("llamacpp");
    try {
      const base = ["run", "--model", "openai:m", "--base-url", llama.url, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--no-cache", "--chat"];
      const shown = await ptalign([...base, "--show-prompt"], { env });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^<\|user\|>You are a random number generator[\s\S]*<\|assistant\|>Samples:\n$/);
      const res = await ptalign([...base, "--steps", "3", "--runs", "2", "--json", "--no-save"], { env });
      assert.equal(res.code, 0, res.stderr);
      const r = JSON.parse(res.stdout) as { runs: { steps: { ptoken: number[] }[] }[]; settings: { remote: unknown; chat_template: boolean } };
      const exact = [0.37, 0.3, 0.06, 0.05].map((x) => x / 0.78);
      for (const run of r.runs) for (const st of run.steps) st.ptoken.forEach((p, i) => assert.ok(Math.abs(p - exact[i]!) < 1e-6));
      assert.deepEqual(r.settings.remote, { server: llama.url, scoring: "tokens", endpoint: "completion", n_probs: 16 });
      assert.equal(r.settings.chat_template, true);
    } finally {
      await llama.close();
    }
  });

  it("a run through 429s, 500s, hangs and resets mid-body gives exactly the result of a clean run", async () => {
    const args = ["run", "--model", "openai:m", "--base-url", srv.url, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "6", "--runs", "3", "--json", "--no-save", "--no-cache", "--timeout", "0.3"];
    const clean = await ptalign(args, { env });
    assert.equal(clean.code, 0, clean.stderr);
    let k = 0;
    srv.log.length = 0;
    srv.fault = (_n, req, res) => {
      if (req.method !== "POST") return false;
      const i = k++;
      if (i % 5 !== 1) return false;
      const kind = (i - 1) / 5 % 4;
      if (kind === 0) res.writeHead(429, { "retry-after-ms": "20" }).end("{}");
      else if (kind === 1) res.writeHead(500).end("internal error");
      else if (kind === 2) {
        res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
        res.write('{"choices":[');
        setTimeout(() => res.socket?.destroy(), 5);
      } // kind 3: never answered (the client times out after 0.3 s)
      return true;
    };
    try {
      const faulty = await ptalign(args, { env });
      assert.equal(faulty.code, 0, faulty.stderr);
      const strip = (t: string) => {
        const r = JSON.parse(t) as Record<string, unknown>;
        delete r.id;
        return r;
      };
      assert.deepEqual(strip(faulty.stdout), strip(clean.stdout));
      assert.ok(k > 20, `faults injected among ${k} requests`);
    } finally {
      srv.fault = undefined;
    }
  });

  it("--scoring echo against llama-server: exit 1 at once with the fix, each request sent once (no retries)", async () => {
    const llama = await startFakeServer("llamacpp");
    try {
      const res = await ptalign(["run", "--model", "openai:m", "--base-url", llama.url, "--scoring", "echo", "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--runs", "3", "--no-save", "--no-cache", "--retries", "6"], { env: { ...env, PTALIGN_RETRY_BASE_MS: "200" } });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /^ptalign: http:\/\/127\.0\.0\.1:\d+\/v1\/completions does not support this request \(HTTP 500: Unsupported param: echo\); echo scoring needs .* with llama-server use --scoring tokens \(or --scoring auto\)/);
      assert.equal(res.stderr.trim().split("\n").length, 1);
      // Step 0 of every run asks the same 4 answers (shared in flight): 4 requests, none repeated; a retry would resend.
      const posts = llama.log.filter((r) => r.method === "POST");
      assert.ok(posts.length >= 1 && posts.length <= 4, `${posts.length} requests`);
      assert.equal(new Set(posts.map((r) => r.hash)).size, posts.length);
      assert.ok(posts.every((r) => r.path === "/v1/completions" && JSON.parse(r.body).echo === true));
    } finally {
      await llama.close();
    }
  });

  it("missing --base-url is bad input: exit 2, one line", async () => {
    const res = await ptalign(["run", "--model", "openai:m", "--target", "extreme", "--no-save"], { env: { ...env, OPENAI_BASE_URL: "" } });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /^ptalign: openai:m needs the server's URL: pass --base-url URL/);
    assert.equal(res.stderr.trim().split("\n").length, 1);
  });

  it("an unreachable server is exit 1 and one line", async () => {
    const dead = await startFakeServer("vllm");
    await dead.close();
    const res = await ptalign(["run", "--model", "openai:m", "--base-url", dead.url, "--target", "extreme", "--no-save"], { env });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /^ptalign: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/models \(connection refused\)/);
    assert.equal(res.stderr.trim().split("\n").length, 1);
  });

  it("a server that goes away for good mid-run: exit 1, one line, only whole steps kept, no key anywhere", async () => {
    const out = await tempDir();
    const cache = await tempDir();
    let n = 0;
    srv.fault = (_n, _req, res) => {
      if (n++ < 40) return false;
      res.socket?.destroy();
      return true;
    };
    try {
      const res = await ptalign(["run", "--model", "openai:m", "--base-url", srv.url, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "20", "--runs", "2", "--retries", "2", "--out", out, "--cache-dir", cache, "--concurrency", "2"], { env });
      assert.equal(res.code, 1, res.stderr);
      const lines = res.stderr.trim().split("\n");
      assert.equal(lines.length, 1, res.stderr);
      assert.match(lines[0]!, /still failing after 3 attempts .* \(the \d+ steps computed before are kept in .*\.partial\.json\)/);
      const files = await readdir(join(out, "runs"));
      const partial = files.find((f) => f.endsWith(".partial.json"))!;
      const text = await readFile(join(out, "runs", partial), "utf8");
      assert.ok(!text.includes(env.OPENAI_API_KEY));
      assert.ok(!res.stderr.includes(env.OPENAI_API_KEY) && !res.stdout.includes(env.OPENAI_API_KEY));
      const result = JSON.parse(text) as { runs: { steps: { t: number; ptoken: number[]; sample: string }[] }[] };
      for (const run of result.runs) {
        run.steps.forEach((s, t) => {
          assert.equal(s.t, t);
          assert.equal(s.ptoken.length, 4);
          assert.ok(["1", "2", "3", "4"].includes(s.sample));
        });
      }
    } finally {
      srv.fault = undefined;
    }
  });
});
