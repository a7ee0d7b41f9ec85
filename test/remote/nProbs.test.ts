import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { closeModel, openModel, type TokenBackend } from "../../src/backends/index.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { InputError } from "../../src/errors.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import { measure } from "../../src/run.ts";
import { optionTexts, scoreOptions } from "../../src/scoring/index.ts";
import { unlistedMass } from "../../src/scoring/truncated.ts";
import { ptalign } from "../support/cli.ts";
import { EXACT, startFakeServer, VOCAB, type FakeServer } from "./fakeServer.ts";

const PROMPT = { user: "Draw samples", prefill: "Samples:" };
const TEXTS = optionTexts(["1", "2", "3", "4"], " ", ",");
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe("--n-probs: llama-server lists only the top n tokens", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("llamacpp");
  });
  after(() => srv.close());
  const open = async (nProbs?: number) => (await openModel("openai:m", { remote: { baseUrl: srv.url, cache: false, scoring: "tokens", nProbs } })) as TokenBackend;
  const score = async (nProbs?: number, temperature = 1) => {
    const m = await open(nProbs);
    try {
      await m.prepare!(PROMPT);
      return await scoreOptions(m, m.encodePrompt(PROMPT), TEXTS, { temperature, prune: 1e-9 });
    } finally {
      await closeModel(m);
    }
  };

  it("top 2 after 'Samples:' (' 1' 0.4, ' 2' 0.3): the unlisted candidates ' ' and ' 3' are bounded by 1 − 0.7 as unknown", async () => {
    srv.log.length = 0;
    const s = await score(2);
    // Visible: " 1" then "," (0.4 × 0.8) and " 2" then "," (0.3); " 3", and " " + digit, are not listed at the root.
    close(s.raw[0]!, 0.32, "raw 1");
    close(s.raw[1]!, 0.3, "raw 2");
    close(s.raw[2]!, 0, "raw 3");
    close(s.raw[3]!, 0, "raw 4");
    close(s.unknown, 0.3, "unknown"); // min(1 − 0.7, 2 unlisted candidates × 0.3)
    close(s.leak, 1 - 0.32 - 0.3 - 0.3, "leak"); // " 1" then "0" (0.4 × 0.2): visible, none of the answers
    assert.equal(s.entropyFull, null);
    // Every truth is inside the bound: the exact answer mass missing here is at most `unknown`.
    const missing = EXACT.raw.reduce((a, x, i) => a + x - s.raw[i]!, 0);
    assert.ok(missing <= s.unknown + 1e-12, `${missing} ≤ ${s.unknown}`);
    // The vocabulary probe asks for every token once; the scoring requests for 2.
    const asked = srv.log.filter((r) => r.path === "/completion").map((r) => (JSON.parse(r.body) as { n_probs: number }).n_probs);
    assert.deepEqual([...new Set(asked)].sort((a, b) => a - b), [2, VOCAB.length]);
    assert.equal(asked.filter((n) => n === VOCAB.length).length, 1);
  });

  it("when the top n holds every candidate the result equals the full vocabulary's, bit for bit", async () => {
    const full = await score();
    for (const n of [6, 16, 1000]) {
      const s = await score(n);
      assert.deepEqual(s.raw, full.raw, `n = ${n}`);
      assert.equal(s.leak, full.leak, `n = ${n}`);
      assert.equal(s.unknown, 0, `n = ${n}`);
    }
  });

  it("a run records n_probs, reports the unknown mass per step and the verdict turns uncertain when it could change", async () => {
    const target = parseDist("{1:0.25,2:0.25,3:0.25,4:0.25}");
    const res = await measure({ model: "openai:m", target, protocol: "sequential", settings: { steps: 4, runs: 2, temperature: 1, seed: 3, prune: 1e-9 }, template: DEFAULT_TEMPLATE, backend: { remote: { baseUrl: srv.url, cache: false, nProbs: 2 } } });
    assert.deepEqual((res.settings as { remote: unknown }).remote, { server: srv.url, scoring: "tokens", endpoint: "completion", n_probs: 2 });
    for (const run of res.runs) for (const st of run.steps) close(st.unknown ?? 0, 0.3, "step unknown");
    assert.equal(res.verdict.type, "uncertain");
    assert.ok(res.verdict.reasons.some((r) => /n_probs truncation: up to 30\.0% of a step.s mass was on answer tokens the server did not list \(--n-probs\).*raise --n-probs/.test(r)), res.verdict.reasons.join(" | "));
  });

  it("a partial distribution cannot be tempered: --temperature other than 1 or 0 is bad input", async () => {
    await assert.rejects(score(2, 0.7), (e: Error) => e instanceof InputError && /--n-probs lists only part of the vocabulary, so --temperature must be 1/.test(e.message));
  });

  it("CLI: --n-probs with another scoring path is exit 2; with tokens it runs and says so in the result", async () => {
    const env = { PTALIGN_RETRY_BASE_MS: "5", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" };
    const base = ["run", "--model", "openai:m", "--base-url", srv.url, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--no-save", "--no-cache", "--steps", "2"];
    const wrong = await ptalign([...base, "--scoring", "top-k", "--n-probs", "5"], { env });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /^ptalign: --n-probs applies to llama-server's token path \(--scoring tokens\), not to top-k scoring/);
    const zero = await ptalign([...base, "--n-probs", "0"], { env });
    assert.equal(zero.code, 2, zero.stderr);
    const ok = await ptalign([...base, "--n-probs", "2", "--json"], { env });
    assert.equal(ok.code, 0, ok.stderr);
    const r = JSON.parse(ok.stdout) as { settings: { remote: { n_probs: number } }; verdict: { type: string } };
    assert.equal(r.settings.remote.n_probs, 2);
    assert.equal(r.verdict.type, "uncertain");
  });
});

describe("unlistedMass", () => {
  it("min(1 − Σ listed, unlisted × least listed)", () => {
    const dist = { probs: new Map([[0, 0.5], [1, 0.3], [2, 0.01]]), complete: false };
    close(unlistedMass(dist, 0), 0, "none");
    close(unlistedMass(dist, 3), 0.03, "3 × 0.01");
    close(unlistedMass(dist, 100), 0.19, "1 − 0.81");
  });
});
