// Every field of a Step (and of a run and a result) comes back from the store as it went in: each optional field
// present or absent, in every combination, plus a field a later version may add (kept whole in the step's JSON).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { openStore } from "../../src/store/registry.ts";
import { saveResult } from "../../src/store/results.ts";
import type { Result, Run, Step } from "../../src/types.ts";
import { tempDir } from "../support/tmp.ts";

/** The optional fields of a Step, each with the values it can take (null where the type allows it). */
const OPTIONAL: Record<string, unknown[]> = {
  raw: ["x, y", "", "<b>é</b>"],
  value: [0.37, -1.2e-1, 0],
  unknown: [0, 0.3, 1e-12],
  outside: [["3", "4"], []],
  entropy_full: [0.94, null, 0],
  entropy_full_bounds: [[1.08, null], [0.5, 2.25]],
  // A field a later ptalign adds: the store keeps it without a schema change.
  later_field: [{ nested: [1, "a", null] }, "text"],
};
const KEYS = Object.keys(OPTIONAL);

/** Deterministic pseudo-random numbers (the test is the same on every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** One step per subset of the optional fields (2^7 = 128 steps), values drawn from each field's list. */
function steps(rand: () => number): Step[] {
  return Array.from({ length: 2 ** KEYS.length }, (_, mask) => {
    const p = rand();
    const step: Record<string, unknown> = { t: mask, ptoken: [p, 1 - p], leak: rand() / 10, sample: mask % 3 === 0 ? null : mask % 3 === 1 ? "a" : "b, c" };
    KEYS.forEach((k, i) => {
      if (mask & (1 << i)) step[k] = OPTIONAL[k]![Math.floor(rand() * OPTIONAL[k]!.length)];
    });
    return step as unknown as Step;
  });
}

describe("store round trip", () => {
  it("every optional Step field, in every combination, step by step and as a whole result", async () => {
    const rand = rng(42);
    const dir = await tempDir();
    const store = await openStore(dir, { write: true });
    const target = { support: ["a", "b, c"], probs: [0.5, 0.5] };
    const runs: Run[] = [{ seed: 3, steps: steps(rand) }, { seed: 4, steps: steps(rand), stopped: "5 unparseable answers in a row" }, { seed: 5, steps: [] }];
    try {
      await store.beginRun({ id: "s", model: "m", protocol: "batch", target, settings: {} });
      for (const [r, run] of runs.entries()) for (const step of run.steps) await store.addStep("s", r, run.seed, step);
      assert.deepEqual((await store.runsOf("s")).slice(0, 2).map((r) => r.steps), runs.slice(0, 2).map((r) => r.steps));
      // A study records each run complete with its own fields (finishPart): runsOf has them before the measurement ends.
      await store.finishPart("s", 1, 4, runs[1]!.steps.length, { stopped: runs[1]!.stopped });
      assert.deepEqual((await store.runsOf("s"))[1], runs[1]);
      // Finishing records the run-level fields (seed, stopped; a run with no step) without writing a step again.
      const metrics = { atvd: 0.1, marginal_tvd: 0.1, sample_tvd: null, volatility: 0.2, concentration: 0.5, entropy_ratio: null, e_score: 0.9, leak: 0, chi2: null, chi2_p: null, w1: null };
      const verdict = { type: "E" as const, reasons: ["r"], ci: { atvd: [0, 1] as [number, number], volatility: [0, 1] as [number, number] } };
      await store.finishRun("s", { model: "m", protocol: "batch", target, runs, metrics, verdict, settings: { steps: 128 } });
      assert.deepEqual(await store.runsOf("s"), runs);
      const rec = (await store.getRun("s"))!;
      const back = await store.resultOf(rec);
      assert.deepEqual(back.runs, runs);
      assert.deepEqual(back.metrics, metrics);
    } finally {
      await store.close();
    }

    // A whole result, with a result-level field a later version adds: the store and its runs/<id>.json export keep all.
    const result = { version: 1, model: "m", protocol: "batch", target, runs, metrics: { atvd: 0 } as Result["metrics"], verdict: { type: "E", reasons: [], ci: { atvd: [0, 0], volatility: [0, 0] } }, settings: { x: 1 }, id: "w", later_key: { a: 1 } } as Result & { later_key: unknown };
    const file = await saveResult(dir, result);
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), JSON.parse(JSON.stringify(result)));
    const again = (await openStore(dir))!;
    try {
      const { status, error, created: _c, ...stored } = await again.resultOf((await again.getRun("w"))!);
      assert.equal(status, "done");
      assert.equal(error, null);
      assert.deepEqual(stored, result);
    } finally {
      await again.close();
    }
  });
});
