// off-format verdicts (mean leak above the threshold) and the bound that unresolved mass (pruned paths, a remote
// top-k) puts on a verdict, both decided in src/classify.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { classify } from "../../src/classify/index.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../../src/protocols/index.ts";
import { measure } from "../../src/run.ts";
import type { Run } from "../../src/types.ts";
import { writeMultiTokenModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

const extreme = parseDist("extreme");
const settings = { steps: 30, runs: 4, temperature: 1, seed: 2, prune: 1e-7 };
const sim = (model: string, thresholds?: Record<string, number>) => measure({ model, target: extreme, protocol: "sequential", settings, template: DEFAULT_TEMPLATE, thresholds });

/** Runs whose every step is exactly P_task (atvd 0, volatility 0: E), with the given leak and unknown mass. */
function exactRuns(leak: number, unknown: number, extra: object = {}): Run[] {
  return [1, 2, 3].map((seed) => ({ seed, steps: Array.from({ length: 10 }, (_, t) => ({ t, ptoken: [...extreme.probs], leak, sample: "2", unknown, ...extra })) }));
}

describe("off-format", () => {
  it("sim:e?leak=0.9 is off-format, with how often the model writes an answer and what to do", async () => {
    const r = await sim("sim:e?leak=0.9");
    assert.equal(r.verdict.type, "off-format");
    const reason = r.verdict.reasons[0]!;
    assert.match(reason, /mean leak 0\.90 > 0\.5/);
    assert.match(reason, /about 1 time in 10\)/);
    for (const hint of ["--show-prompt", "--prompt-file", "chat template"]) assert.ok(reason.includes(hint), hint);
    // The intervals still describe P_token; no rule sentence is given.
    assert.ok(r.verdict.reasons.some((x) => x.startsWith("95% intervals")));
    assert.ok(!r.verdict.reasons.some((x) => x.includes("each step stays close")));
  });

  it("the threshold is configurable, and at or below it the rules decide", async () => {
    assert.equal((await sim("sim:e?leak=0.9", { off_format_leak: 0.95 })).verdict.type, "E");
    assert.equal((await sim("sim:e?leak=0.5")).verdict.type, "E"); // 0.5 is not above 0.5
    assert.throws(() => classify(extreme, exactRuns(0, 0), { thresholds: { off_format_leak: 1.5 } }), /off_format_leak: must be a number in \[0, 1\]/);
  });

  it("a leak near 1 prints its digits, not 1.00", () => {
    const v = classify(extreme, exactRuns(0.9999984, 0), { bootstrap: 0 });
    assert.equal(v.type, "off-format");
    assert.match(v.reasons[0]!, /mean leak 0\.9999984 > 0\.5: the model writes one of the answers with probability 0\.0000016 per step \(about 1 time in 625,000\)/);
  });
});

describe("unresolved mass bounds the verdict (src/classify/bound.ts)", () => {
  it("pruned mass that could move atvd past its threshold makes E uncertain, naming --prune", () => {
    assert.equal(classify(extreme, exactRuns(0, 0)).type, "E");
    const v = classify(extreme, exactRuns(0, 0.3));
    assert.equal(v.type, "uncertain");
    const reason = v.reasons.at(-1)!;
    assert.match(reason, /^uncertain: pruned paths: up to 30\.0% of a step's mass/);
    assert.match(reason, /atvd 0\.000–0\.300/);
    assert.match(reason, /could be not E .*--prune/);
  });

  it("unknown mass that could lift the mean leak above the threshold: off-format is within reach", () => {
    // leak .45 + unknown .1 could be .55 > .5 (and the volatility bound .36 could break E too).
    const v = classify(extreme, exactRuns(0.45, 0.1));
    assert.equal(v.type, "uncertain");
    assert.match(v.reasons.at(-1)!, /leak 0\.450–0\.550: within that range the verdict could be not E or off-format/);
    // Visible leak alone above the threshold: off-format stands (unknown mass can only add to the leak).
    assert.equal(classify(extreme, exactRuns(0.6, 0.3)).type, "off-format");
  });

  it("a bound that cannot change the verdict is stated; pruning residue is not mentioned", () => {
    const v = classify(extreme, exactRuns(0, 0.01));
    assert.equal(v.type, "E");
    assert.match(v.reasons.at(-1)!, /the verdict holds over that whole range$/);
    const tiny = classify(extreme, exactRuns(0, 1e-6));
    assert.equal(tiny.type, "E");
    assert.ok(!tiny.reasons.some((r) => r.includes("pruned")));
  });

  it("top-k steps are described as the server's truncation", () => {
    const v = classify(extreme, exactRuns(0, 0.3, { outside: ["3"] }));
    assert.equal(v.type, "uncertain");
    assert.match(v.reasons.at(-1)!, /top-k truncation: up to 30\.0% of a step's mass was not shown by the server.*exact scoring/);
  });
});

describe("no probability on any answer, because of pruning", () => {
  let multi: TokenBackend;
  before(async () => {
    multi = await loadLlamaBackend(await writeMultiTokenModel(await tempDir()));
  });
  after(() => multi.close());

  it("says how much mass was pruned and names --prune", async () => {
    const target = parseDist("uniform(1,12)");
    const prompt = renderPrompt(DEFAULT_TEMPLATE, { distribution: "", support: target.support, steps: 5 });
    // Every first token has probability ≤ .5, so with --prune 0.6 no path reaches an answer.
    await assert.rejects(runTokenProtocol(multi, "sequential", target, prompt, { ...settings, runs: 1, prune: 0.6 }), (err: Error) => {
      assert.match(err.message, /^at step 0 the model puts no probability on any answer \(leak 0\.100\); 90% of the mass was on paths pruned below --prune 0\.6 .*lower --prune \(e\.g\. --prune 0\)/);
      return true;
    });
  });
});
