// Issue 20, item 8 (part): a one-answer target cannot tell D from E; the verdict says so instead of E.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classify } from "../../src/classify/index.ts";
import type { Run } from "../../src/types.ts";

describe("verdicts that cannot be right", () => {
  it("a one-answer target: uncertain, with the reason first (was: E for a D-model, no word)", () => {
    const runs: Run[] = [0, 1].map((seed) => ({ seed, steps: [0, 1, 2, 3].map((t) => ({ t, ptoken: [1], leak: 0.01, sample: "yes" })) }));
    const v = classify({ support: ["yes"], probs: [1] }, runs);
    assert.equal(v.type, "uncertain");
    assert.match(v.reasons[0]!, /^uncertain: the target has one answer \("yes"\).*no rule can tell D from E/);
  });
  it("two answers: unchanged", () => {
    const runs: Run[] = [0, 1].map((seed) => ({ seed, steps: [0, 1, 2, 3].map((t) => ({ t, ptoken: [0.5, 0.5], leak: 0, sample: "a" })) }));
    assert.equal(classify({ support: ["a", "b"], probs: [0.5, 0.5] }, runs).type, "E");
  });
});
