// The batch protocol on answers it cannot parse: recorded as null samples with their raw text, generation goes on
// after the next delimiter, and the run stops cleanly (Run.stopped) when answers keep failing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { classify } from "../../src/classify/index.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { computeMetrics } from "../../src/metrics/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../../src/protocols/index.ts";
import { completePieces, writeBigramModel, type BigramSpec } from "../../src/synth/index.ts";
import { tempDir } from "../support/tmp.ts";

const target = parseDist("{1:0.5,2:0.5}");
const prompt = renderPrompt(DEFAULT_TEMPLATE, { distribution: "", support: target.support, steps: 10 });
const settings = { steps: 40, runs: 1, temperature: 1, seed: 5, prune: 1e-9 };

async function model(dir: string, name: string, rows: BigramSpec["rows"], start: Record<string, number>): Promise<TokenBackend> {
  const path = join(dir, `${name}.gguf`);
  await writeBigramModel(path, { name, pieces: completePieces(["▁", ",", "x", "▁1", "▁2"]), defaultRow: start, rows: { ",": start, ...rows } });
  return loadLlamaBackend(path);
}

describe("batch protocol: unparseable answers", () => {
  // rambler: after an answer position " 1" .4, " 2" .4, "x" .2; "x" goes on with "x" .8 or ends with "," .2, so some
  // answers run past 6 tokens without a delimiter. never: "x" forever (no delimiter ever follows). junk: "x," always.
  let rambler: TokenBackend;
  let never: TokenBackend;
  let junk: TokenBackend;
  before(async () => {
    const dir = await tempDir();
    const answers = { "▁1": { ",": 1 }, "▁2": { ",": 1 } };
    rambler = await model(dir, "rambler", { ...answers, x: { x: 0.8, ",": 0.2 } }, { "▁1": 0.4, "▁2": 0.4, x: 0.2 });
    never = await model(dir, "never", { ...answers, x: { x: 1 } }, { "▁1": 0.3, "▁2": 0.3, x: 0.4 });
    junk = await model(dir, "junk", { ...answers, x: { ",": 1 } }, { "▁1": 0.05, "▁2": 0.05, x: 0.9 });
  });
  after(async () => {
    await Promise.all([rambler, never, junk].map((m) => m.close()));
  });

  it("an answer with no delimiter within maxAnswerTokens is a null step with its raw text, and the run goes on after the next delimiter", async () => {
    const runs = await runTokenProtocol(rambler, "batch", target, prompt, { ...settings, maxAnswerTokens: 4, maxFailures: 100 });
    const steps = runs[0]!.steps;
    assert.equal(steps.length, 40);
    assert.equal(runs[0]!.stopped, undefined);
    const overlong = steps.filter((s) => s.sample === null && (s.raw ?? "").length >= 4);
    // P(an answer starts with x and has no "," in its first 4 tokens) = .2 × .8^3 ≈ .1 per step.
    assert.ok(overlong.length > 0, "some answers overran maxAnswerTokens (seeded run)");
    for (const s of steps.filter((x) => x.sample === null)) assert.match(s.raw!, /^x+$/);
    // Every step, also right after an overlong answer, is read at an answer position: P_token .5/.5, leak .2.
    for (const s of steps) {
      assert.ok(Math.abs(s.ptoken[0]! - 0.5) < 1e-4 && Math.abs(s.leak - 0.2) < 1e-4, `step ${s.t}: ${s.ptoken} leak ${s.leak}`);
    }
    const m = computeMetrics(target, runs);
    assert.equal(m.unparsed, steps.filter((s) => s.sample === null).length);
    const v = classify(target, runs, { bootstrap: 50 });
    assert.ok(v.reasons.some((r) => r.startsWith(`${m.unparsed} of 40 steps`)), v.reasons.join("\n"));
  });

  it("no delimiter even after a second maxAnswerTokens: the run stops cleanly and says why", async () => {
    const runs = await runTokenProtocol(never, "batch", target, prompt, { ...settings, maxAnswerTokens: 5 });
    const run = runs[0]!;
    assert.ok(run.steps.length >= 1 && run.steps.length < 40);
    const last = run.steps.at(-1)!;
    assert.equal(last.sample, null);
    assert.equal(last.raw, "x".repeat(25));
    assert.match(run.stopped!, /wrote 25 tokens without a ","/);
    assert.ok(classify(target, runs, { bootstrap: 0 }).reasons.some((r) => r.includes("stopped after")));
  });

  it("stops after maxFailures consecutive unparseable answers", async () => {
    const runs = await runTokenProtocol(junk, "batch", target, prompt, { ...settings, maxFailures: 3 });
    const run = runs[0]!;
    assert.ok(run.steps.length < 40);
    assert.deepEqual(run.steps.slice(-3).map((s) => [s.sample, s.raw]), [[null, "x"], [null, "x"], [null, "x"]]);
    assert.match(run.stopped!, /3 consecutive answers could not be parsed/);
  });

  it("the answer parser is replaceable", async () => {
    const runs = await runTokenProtocol(junk, "batch", target, prompt, { ...settings, steps: 10, parseAnswer: (text) => (text.trim() === "x" ? "1" : text.trim() || null) });
    const steps = runs[0]!.steps;
    assert.equal(steps.length, 10);
    assert.ok(steps.every((s) => s.sample === "1" || s.sample === "2"));
    assert.ok(steps.filter((s) => s.sample === "1").length >= 5);
  });
});
