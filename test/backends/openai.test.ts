import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { closeModel, isTextBackend, openModel, type Model, type TextBackend, type TokenBackend } from "../../src/backends/index.ts";
import { parseEcho, parseFirstAlternatives, parseNative, parseNativeProbs, tokenBytes } from "../../src/backends/remote/shapes.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { RunError } from "../../src/errors.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import { measure } from "../../src/run.ts";
import { optionTexts, scoreOptions } from "../../src/scoring/index.ts";
import { EXACT, startFakeServer, type FakeServer, type Flavor } from "../remote/fakeServer.ts";

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);
const closeAll = (a: readonly number[], b: readonly number[], what: string) => {
  assert.equal(a.length, b.length, what);
  a.forEach((x, i) => close(x, b[i]!, `${what}[${i}]`));
};
const PROMPT = { user: "Draw samples", prefill: "Samples:" };
const TEXTS = optionTexts(["1", "2", "3", "4"], " ", ",");

describe("response shapes (recorded from the servers' documented formats)", () => {
  it("OpenAI legacy completions: top_logprobs as a list of dicts, bytes:\\x tokens", () => {
    const body = { choices: [{ text: " 2", logprobs: { tokens: [" 2"], token_logprobs: [Math.log(0.6)], top_logprobs: [{ " 2": Math.log(0.6), " 1": Math.log(0.3), "bytes:\\xc3": Math.log(0.05) }], text_offset: [8] } }] };
    const alts = parseFirstAlternatives(body, "srv");
    closeAll(alts.map((a) => Math.exp(a.logprob)), [0.6, 0.3, 0.05], "p");
    assert.deepEqual(alts.map((a) => a.bytes), [" 2", " 1", "\xc3"]);
  });
  it("chat: logprobs.content[].top_logprobs[] with bytes (multi-byte token matched by bytes)", () => {
    const body = { choices: [{ message: { content: " é" }, logprobs: { content: [{ token: " é", logprob: Math.log(0.7), bytes: [32, 195, 169], top_logprobs: [{ token: " é", logprob: Math.log(0.7), bytes: [32, 195, 169] }, { token: "\ufffd", logprob: Math.log(0.2), bytes: [32, 195] }] }] } }] };
    const alts = parseFirstAlternatives(body, "srv");
    closeAll(alts.map((a) => Math.exp(a.logprob)), [0.7, 0.2], "p");
    assert.deepEqual(alts.map((a) => a.bytes), [" \xc3\xa9", " \xc3"]);
  });
  it("llama-server /v1/completions: logprobs.content[] with id, token, bytes, logprob", () => {
    const body = { choices: [{ text: "1", logprobs: { content: [{ id: 16, token: "1", bytes: [49], logprob: -0.1, top_logprobs: [{ id: 16, token: "1", bytes: [49], logprob: -0.1 }, { id: 17, token: "2", bytes: [50], logprob: -2.5 }] }] } }] };
    const alts = parseFirstAlternatives(body, "srv");
    assert.deepEqual(alts.map((a) => a.id), [16, 17]);
    closeAll(alts.map((a) => a.logprob), [-0.1, -2.5], "logprob");
  });
  it("llama-server /completion: completion_probabilities[].top_logprobs[], top_probs[] and the old probs[]", () => {
    const current = { completion_probabilities: [{ id: 3, token: " a", bytes: [32, 97], logprob: -0.2, top_logprobs: [{ id: 3, token: " a", bytes: [32, 97], logprob: -0.2 }, { id: 9, token: "b", bytes: [98], logprob: -1.8 }] }] };
    const a = parseNative(current, "srv");
    assert.deepEqual(a.map((x) => [x.id, x.bytes]), [[3, " a"], [9, "b"]]);
    const post = { completion_probabilities: [{ id: 3, top_probs: [{ id: 3, token: " a", bytes: [32, 97], prob: 0.75 }] }] };
    close(Math.exp(parseNative(post, "srv")[0]!.logprob), 0.75, "top_probs");
    const old = { completion_probabilities: [{ content: "B", probs: [{ tok_str: "B", prob: 0.44 }, { tok_str: "C", prob: 0.37 }] }] };
    closeAll(parseNative(old, "srv").map((x) => Math.exp(x.logprob)), [0.44, 0.37], "probs");
  });
  it("llama-server /completion fast path (full vocabulary): probabilities by id; other shapes validated or refused", () => {
    const body = { completion_probabilities: [{ id: 1, logprob: -0.5, top_logprobs: [{ id: 1, token: "a", bytes: [97], logprob: Math.log(0.6) }, { id: 0, token: "b", bytes: [98], logprob: Math.log(0.4) }] }] };
    const probs = parseNativeProbs(body, "srv");
    close(probs.get(1)!, 0.6, "p1");
    close(probs.get(0)!, 0.4, "p0");
    closeAll([...parseNativeProbs({ completion_probabilities: [{ top_probs: [{ id: 3, prob: 0.25 }] }] }, "srv").values()], [0.25], "top_probs");
    assert.throws(() => parseNativeProbs({ completion_probabilities: [{ probs: [{ tok_str: "a", prob: 1 }] }] }, "srv"), /gives no token ids/);
    assert.throws(() => parseNativeProbs({ completion_probabilities: [{ top_logprobs: [{ id: "x", logprob: 0 }] }] }, "srv"), /^RunError: srv returned a \/completion response ptalign cannot read/);
  });
  it("vLLM echo: tokens, token_logprobs (first null), text_offset", () => {
    const body = { choices: [{ logprobs: { tokens: ["A", " b", ","], token_logprobs: [null, -1, -0.5], top_logprobs: [null, { " b": -1 }, { ",": -0.5 }], text_offset: [0, 1, 3] } }] };
    assert.deepEqual(parseEcho(body, "srv"), { tokens: ["A", " b", ","], offsets: [0, 1, 3], logprobs: [null, -1, -0.5] });
  });
  it("a malformed body is a one-line RunError naming the server and what was wrong", () => {
    assert.throws(() => parseFirstAlternatives({ choices: [{ logprobs: { content: [{ top_logprobs: [{ token: 1 }] }] } }] }, "http://127.0.0.1:9/v1/chat/completions"), (e: Error) => {
      assert.ok(e instanceof RunError);
      assert.match(e.message, /^http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions returned a completions response ptalign cannot read \(.+ at choices\.0\.logprobs/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    assert.throws(() => parseNative({ completion_probabilities: [] }, "srv"), /srv returned a \/completion response .*completion_probabilities is empty/);
  });
  it("tokenBytes: bytes arrays win, then bytes:\\x escapes, then UTF-8 of the text", () => {
    assert.equal(tokenBytes("x", [32, 195, 169]), " \xc3\xa9");
    assert.equal(tokenBytes("bytes:\\xe2\\x80"), "\xe2\x80");
    assert.equal(tokenBytes(" é"), " \xc3\xa9");
  });
});

describe("openai: models against a loopback server", () => {
  const servers: Partial<Record<Flavor, FakeServer>> = {};
  const opened: Model[] = [];
  before(async () => {
    for (const f of ["vllm", "llamacpp", "ollama", "openai"] as const) servers[f] = await startFakeServer(f);
  });
  after(async () => {
    for (const m of opened) await closeModel(m);
    for (const s of Object.values(servers)) await s!.close();
  });
  const open = async (flavor: Flavor, remote: Record<string, unknown> = {}) => {
    const m = await openModel("openai:m", { remote: { baseUrl: servers[flavor]!.url, cache: false, ...remote } });
    opened.push(m);
    return m;
  };

  it("llama-server (auto → tokens): full-vocabulary /completion, exact trie scoring equals the chain rule", async () => {
    const m = (await open("llamacpp")) as TokenBackend;
    assert.equal(m.kind, "tokens");
    await m.prepare!(PROMPT);
    const context = m.encodePrompt(PROMPT);
    const scored = await scoreOptions(m, context, TEXTS, { temperature: 1, prune: 1e-9 });
    closeAll(scored.raw, EXACT.raw, "raw");
    close(scored.leak, EXACT.leak, "leak");
    close(scored.unknown, 0, "unknown");
  });

  it("llama-server tokens path: an answer with a multi-byte character is matched by bytes", async () => {
    const m = (await open("llamacpp")) as TokenBackend;
    await m.prepare!(PROMPT);
    const scored = await scoreOptions(m, m.encodePrompt(PROMPT), optionTexts(["é", "1"], " ", ","), { temperature: 1, prune: 1e-9 });
    closeAll(scored.raw, [0.05, 0.37], "raw");
  });

  it("vLLM (auto → echo): each option scored as a continuation, exact for the server's tokenisation", async () => {
    const m = (await open("vllm")) as TextBackend;
    assert.equal(m.kind, "text");
    assert.equal(m.scoring, "echo");
    const s = await m.score(PROMPT, "", TEXTS, { prune: 1e-7 });
    closeAll(s.raw, [0.32, 0.3, 0.06, 0.05], "raw"); // " 1," as " 1" + "," only: the " "+"1" spelling is not the server's
    close(s.unknown, 0, "unknown");
    close(s.leak, 1 - 0.73, "leak");
    // After samples: context "Samples: 2," — the row after "," is the start row again.
    const later = await m.score(PROMPT, " 2,", TEXTS, { prune: 1e-7 });
    closeAll(later.raw, [0.32, 0.3, 0.06, 0.05], "raw after a sample");
  });

  it("vLLM with --chat (auto → echo over chat): prompt_logprobs of the continued assistant message, same exact values", async () => {
    const m = (await open("vllm", { chat: true })) as TextBackend;
    assert.equal(m.scoring, "echo");
    assert.equal(m.describe().endpoint, "chat/completions");
    const s = await m.score(PROMPT, " 1,", TEXTS, { prune: 1e-7 });
    closeAll(s.raw, [0.32, 0.3, 0.06, 0.05], "raw");
  });

  // Top-k = 3 at each trie node: the root shows " 1" .4, " 2" .3, " " .1 (0.2 unknown); " 3," is outside.
  const TOPK = { raw: [0.36, 0.3, 0, 0.05], unknown: 0.2, leak: 0.09, outside: [2] };
  for (const [flavor, chat, shape] of [
    ["openai", false, "OpenAI legacy completions (dicts)"],
    ["openai", true, "OpenAI chat (content[].top_logprobs with bytes)"],
    ["ollama", true, "Ollama chat"],
    ["llamacpp", false, "llama-server /v1/completions (content[] with id)"],
    ["vllm", false, "vLLM legacy completions"],
  ] as const) {
    it(`top-k over ${shape}: visible mass exact, unknown and outside reported`, async () => {
      const m = (await open(flavor, { scoring: "top-k", chat, topLogprobs: 3 })) as TextBackend;
      const s = await m.score(PROMPT, "", TEXTS, { prune: 1e-7 });
      closeAll(s.raw, TOPK.raw, "raw");
      close(s.unknown, TOPK.unknown, "unknown");
      close(s.leak, TOPK.leak, "leak");
      assert.deepEqual(s.outside, TOPK.outside);
      // Entropy bound from the root's top 3 (.4, .3, .1; .2 hidden, no hidden token above .1):
      // H ≥ .4 ln(1/.4) + .3 ln(1/.3) + .1 ln 10 + 2 × .1 ln 10 = 1.418484; no upper bound without the vocabulary size.
      assert.ok(Math.abs(s.entropyBounds![0] - 1.418484) < 1e-5, String(s.entropyBounds));
      assert.equal(s.entropyBounds![1], null);
    });
  }

  it("top-k over chat: an answer with a leading space and a multi-byte character is matched by the bytes the server gives", async () => {
    const m = (await open("ollama", { scoring: "top-k", chat: true, topLogprobs: 6 })) as TextBackend;
    const s = await m.score(PROMPT, "", optionTexts(["é", "2"], " ", ","), { prune: 1e-7 });
    closeAll(s.raw, [0.05, 0.3], "raw");
    close(s.unknown, 0, "unknown"); // the start row has six tokens: k = 6 shows them all
  });

  it("chat prefill: vLLM is asked to continue the assistant message (continue_final_message), OpenAI is not sent that field", async () => {
    for (const [flavor, expected] of [["vllm", true], ["openai", false]] as const) {
      const srv = servers[flavor]!;
      srv.log.length = 0;
      const m = (await open(flavor, { scoring: "top-k", chat: true, topLogprobs: 3 })) as TextBackend;
      await m.score(PROMPT, "", TEXTS, { prune: 1e-7 });
      const chats = srv.log.filter((e) => e.path.endsWith("/chat/completions")).map((e) => JSON.parse(e.body) as Record<string, unknown>);
      assert.ok(chats.length > 0);
      for (const b of chats) assert.equal(b.continue_final_message === true && b.add_generation_prompt === false, expected, flavor);
    }
  });

  it("a whole run with top-k: steps carry unknown and the answers outside the top-k; the verdict says why it is uncertain", async () => {
    const target = parseDist("{1:0.25,2:0.25,3:0.25,4:0.25}");
    const res = await measure({ model: "openai:m", target, protocol: "sequential", settings: { steps: 6, runs: 3, temperature: 1, seed: 1, prune: 1e-7 }, template: DEFAULT_TEMPLATE, backend: { remote: { baseUrl: servers.openai!.url, cache: false, chat: true, topLogprobs: 3 } } });
    const step = res.runs[0]!.steps[0]!;
    close(step.unknown!, 0.2, "unknown");
    assert.deepEqual(step.outside, ["3"]);
    closeAll(step.ptoken, TOPK.raw.map((x) => x / 0.71), "ptoken");
    assert.equal(res.verdict.type, "uncertain");
    assert.ok(res.verdict.reasons.some((r) => /top-k truncation: up to 20\.0% of a step's mass/.test(r)), res.verdict.reasons.join(" | "));
    assert.deepEqual((res.settings as { remote: unknown }).remote, { server: servers.openai!.url, scoring: "top-k", endpoint: "chat/completions", top_logprobs: 3 });
  });

  it("runs of an exact path match the embedded engine's contract: same seed, same samples, ptoken exact", async () => {
    const target = parseDist("{1:0.25,2:0.25,3:0.25,4:0.25}");
    const req = (flavor: Flavor) => ({ model: "openai:m", target, protocol: "sequential" as const, settings: { steps: 5, runs: 2, temperature: 1, seed: 7, prune: 1e-9 }, template: DEFAULT_TEMPLATE, backend: { remote: { baseUrl: servers[flavor]!.url, cache: false } } });
    const a = await measure(req("llamacpp"));
    const b = await measure(req("llamacpp"));
    assert.deepEqual(a.runs, b.runs);
    const exact = EXACT.raw.map((x) => x / 0.78);
    for (const run of a.runs) for (const s of run.steps) closeAll(s.ptoken, exact, "ptoken");
    assert.equal(a.verdict.reasons.some((r) => /top-k/.test(r)), false);
  });

  it("the key comes from OPENAI_API_KEY or --api-key-env NAME, is sent as a Bearer token and never recorded", async () => {
    const key = "sk-env-SECRET-42424242";
    const keyed = await startFakeServer("openai", { apiKey: key });
    try {
      const target = parseDist("{1:0.5,2:0.5}");
      const run = (remote: Record<string, unknown>) => measure({ model: "openai:m", target, protocol: "independent", settings: { steps: 2, runs: 1, temperature: 1, seed: 1, prune: 1e-7 }, template: DEFAULT_TEMPLATE, backend: { remote: { baseUrl: keyed.url, cache: false, chat: true, ...remote } } });
      const res = await run({ apiKeyEnv: "MY_KEY", env: { MY_KEY: key } });
      assert.ok(!JSON.stringify(res).includes(key));
      await run({ env: { OPENAI_API_KEY: key } });
      await assert.rejects(run({ env: {} }), (e: Error) => /HTTP 401/.test(e.message) && !e.message.includes(key));
      await assert.rejects(run({ apiKeyEnv: "NOT_SET", env: {} }), /--api-key-env NOT_SET: that environment variable is not set/);
    } finally {
      await keyed.close();
    }
  });

  it("temperatures other than 1 and 0, and the batch protocol, are refused for text-level scoring (exit 2 errors)", async () => {
    const target = parseDist("extreme");
    const base = { model: "openai:m", target, template: DEFAULT_TEMPLATE, backend: { remote: { baseUrl: servers.vllm!.url, cache: false } } };
    await assert.rejects(measure({ ...base, protocol: "sequential", settings: { steps: 2, runs: 1, temperature: 0.7, seed: 1, prune: 1e-7 } }), /--temperature must be 1/);
    await assert.rejects(measure({ ...base, protocol: "batch", settings: { steps: 2, runs: 1, temperature: 1, seed: 1, prune: 1e-7 } }), /batch protocol needs free generation/);
    assert.ok(isTextBackend(await open("vllm")));
  });
});
