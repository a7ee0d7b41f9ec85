// The counterfactual effect beside analyze's observational slope (src/analysis/counterfactual.ts) and the cluster
// bootstrap behind its intervals (src/probe/interval.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareHistory, signOf, storedCounterfactual } from "../../src/analysis/counterfactual.ts";
import { parseSimSpec } from "../../src/backends/sim.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { bootstrapMeans } from "../../src/probe/interval.ts";
import { measureCounterfactual } from "../../src/probe/counterfactual.ts";

test("bootstrapMeans: pooled mean; clusters resampled whole; no interval from one cluster", () => {
  const e = bootstrapMeans([[1, 1, 1], [3]], 0);
  assert.equal(e.value, 1.5); // (1 + 1 + 1 + 3) / 4, pooled
  // A resample of 2 clusters holds {A,A} → 1, {A,B} → 1.5, {B,B} → 3: every mean is one of them.
  assert.ok(e.ci![0] >= 1 && e.ci![1] <= 3 && e.ci![0] < e.ci![1]);
  assert.deepEqual(bootstrapMeans([[2, 4]], 0), { value: 3, ci: null });
  assert.deepEqual(bootstrapMeans([[], []], 0), { value: null, ci: null });
  assert.deepEqual(bootstrapMeans([[0], [0], [0]], 9), { value: 0, ci: [0, 0] });
});

test("signOf: the interval decides; no interval tells nothing", () => {
  assert.equal(signOf(-1, [-2, -0.1]), "negative");
  assert.equal(signOf(1, [0.1, 2]), "positive");
  assert.equal(signOf(0.2, [-0.1, 0.5]), "none");
  assert.equal(signOf(-1, null), "unknown");
  assert.equal(signOf(null, null), "unknown");
});

const target = parseDist("extreme");
const measure = (spec: string, runs = 5) => measureCounterfactual(parseSimSpec(spec), { protocol: "sequential", target, prompt: { user: "", prefill: "" }, settings: { steps: 30, runs, seed: 7, temperature: 1, prune: 0 } });

test("compareHistory: agreement and disagreement in words", async () => {
  // repeat = −0.5: both readings find the same negative dependence (the slope ≈ r, the counterfactual exactly r).
  const rep = await measure("sim:e?repeat=-0.5");
  const a = compareHistory(target, rep.runs, rep.summary);
  assert.equal(a.counterfactual.sign, "negative");
  assert.equal(a.observational.sign, "negative");
  assert.equal(a.agree, true);
  assert.match(a.words, /The two agree\.$/);
  // sim:e: nothing either way.
  const e = await measure("sim:e");
  const b = compareHistory(target, e.runs, e.summary);
  assert.equal(b.counterfactual.sign, "none");
  assert.match(b.words, /ignores its own history/);
  // A strong planner: the counterfactual sees it; the observational slope (5 runs × 30 steps, seed 7) does not.
  const plan = await measure("sim:d-plan?plan=10");
  const c = compareHistory(target, plan.runs, plan.summary);
  assert.equal(c.counterfactual.sign, "negative");
  assert.equal(c.observational.sign, "none");
  assert.equal(c.agree, false);
  // One run: the slope has no interval, so nothing to compare.
  const one = await measure("sim:d-plan", 1);
  assert.equal(compareHistory(target, one.runs, one.summary).agree, null);
  assert.equal(one.summary.resampled, "steps");
});

test("storedCounterfactual: a stored summary is read back; anything else is none", async () => {
  const { summary } = await measure("sim:d", 2);
  assert.deepEqual(storedCounterfactual(JSON.parse(JSON.stringify({ counterfactual: summary })) as object), summary);
  assert.equal(storedCounterfactual({}), undefined);
  assert.equal(storedCounterfactual({ counterfactual: { effect: 1 } }), undefined);
});
