// The choice-task core's pieces: option orders, the seeded subset, bootstrap means, P_token at one state.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openModel } from "../../src/backends/index.ts";
import { bootstrapMean } from "../../src/tasks/choice/aggregate.ts";
import { letterLabel, permutationsOf, permuteContext } from "../../src/tasks/choice/permute.ts";
import { scoreState } from "../../src/tasks/choice/score.ts";
import { selectContexts } from "../../src/tasks/choice/select.ts";
import { choicePrompt } from "../../src/tasks/choice/prompt.ts";
import type { ChoiceContext } from "../../src/tasks/choice/types.ts";

const ctx: ChoiceContext = {
  id: "c",
  context: "Pick one.",
  options: [
    { label: "A", text: "red", key: "r" },
    { label: "B", text: "green", key: "g" },
    { label: "C", text: "blue", key: "b" },
  ],
  target: [0.5, 0.3, 0.2],
  source: "x.jsonl:1",
};

describe("choice core", () => {
  it("labels A … Z, AA; permutations distinct and never the identity, all 5 of 3! − 1 when asked for more", () => {
    assert.deepEqual([0, 1, 25, 26, 27].map(letterLabel), ["A", "B", "Z", "AA", "AB"]);
    const all = permutationsOf(3, 10, "k");
    assert.equal(all.length, 5);
    assert.equal(new Set(all.map((p) => p.join())).size, 5);
    assert.ok(all.every((p) => p.join() !== "0,1,2"));
    assert.deepEqual(permutationsOf(3, 2, "k"), all.slice(0, 2), "seeded: the same orders every time");
    const big = permutationsOf(9, 4, "k");
    assert.equal(new Set(big.map((p) => p.join())).size, 4);
    assert.deepEqual(permutationsOf(1, 3, "k"), []);
  });

  it("a permuted context keeps labels in place and moves texts, keys and targets together", () => {
    const p = permuteContext(ctx, [2, 0, 1]);
    assert.deepEqual(p.options.map((o) => [o.label, o.text, o.key]), [["A", "blue", "b"], ["B", "red", "r"], ["C", "green", "g"]]);
    assert.deepEqual(p.target, [0.2, 0.5, 0.3]);
    assert.equal(choicePrompt(p).user, "Pick one.\n\nA. blue\nB. red\nC. green\n\nAnswer with the letter of one option. Write it followed by a comma.");
  });

  it("--limit then --sample: reproducible, in file order, an error when more are asked than there are", () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const a = selectContexts(xs, { sample: 5, seed: 3 });
    assert.deepEqual(selectContexts(xs, { sample: 5, seed: 3 }), a);
    assert.deepEqual(a, [...a].sort((x, y) => x - y));
    assert.deepEqual(selectContexts(xs, { limit: 4, seed: 3 }), [0, 1, 2, 3]);
    assert.ok(selectContexts(xs, { limit: 6, sample: 3, seed: 1 }).every((x) => x < 6));
    assert.throws(() => selectContexts(xs, { limit: 4, sample: 5, seed: 1 }), /--sample 5 is more than the 4 contexts left by --limit/);
  });

  it("bootstrap mean: the mean, an interval around it, seeded; empty → null", () => {
    const v = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
    const e = bootstrapMean(v, 500, "s");
    assert.equal(e.mean, 0.7);
    assert.ok(e.ci![0] < 0.7 && e.ci![1] > 0.7 && e.ci![0] >= 0.3 && e.ci![1] <= 1);
    assert.deepEqual(bootstrapMean(v, 500, "s"), e);
    assert.deepEqual(bootstrapMean([], 500, "s"), { mean: null, ci: null, n: 0 });
    assert.deepEqual(bootstrapMean([0.4], 500, "s"), { mean: 0.4, ci: [0.4, 0.4], n: 1 });
  });

  it("scoreState reads P_token over the labels through the model's port (sim: the target, leak reported)", async () => {
    const m = await openModel("sim:e?noise=0&leak=0.2");
    const s = await scoreState(m, choicePrompt(ctx), ["A", "B", "C"], ctx.target, { temperature: 1, prune: 0, seed: 1 }, "k");
    assert.deepEqual(s.ptoken!.map((x) => Number(x.toFixed(12))), [0.5, 0.3, 0.2]);
    assert.equal(s.leak, 0.2);
    const greedy = await scoreState(m, choicePrompt(ctx), ["A", "B", "C"], ctx.target, { temperature: 0, prune: 0, seed: 1 }, "k");
    assert.deepEqual(greedy.ptoken, [1, 0, 0]);
  });
});
