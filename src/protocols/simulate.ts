// The sequential protocol for a sim model, synchronously: the tests and the calibration study (scripts/calibrate.ts)
// use it to simulate many runs cheaply. It is the loop's own step (ports/sim.ts's score, step.ts's P_token, draw and
// Step), so it measures exactly what `ptalign run` does with sim models (test/protocols/golden.test.ts checks both).
import { SIM_CAPABILITIES, type SimModel } from "../backends/sim.ts";
import { InputError } from "../errors.ts";
import { drawIndex, makeRng } from "../rng.ts";
import type { Run, Target } from "../types.ts";
import { simPort, simScore } from "./ports/sim.ts";
import { runSeed } from "./settings.ts";
import { buildStep, ptokenOf } from "./step.ts";

export interface SimulateOptions {
  steps: number;
  runs: number;
  /** Run r uses seed + r (recorded as Run.seed), so simulateRuns(..., {runs: 1, seed: seed + r}) reproduces run r. */
  seed: number;
  /** Applied to q before drawing; the tempered q is what is recorded as ptoken. Default 1. */
  temperature?: number;
}

/**
 * At each step q = step(target, history) at temperature 1, tempered, a sample index drawn from the tempered q and
 * appended to the history. One generator per run feeds both the model and the draws.
 */
export function simulateRuns(model: Pick<SimModel, "step">, target: Target, opts: SimulateOptions): Run[] {
  const temperature = opts.temperature ?? 1;
  if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new InputError(`steps must be an integer ≥ 1 (got ${opts.steps})`);
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new InputError(`runs must be an integer ≥ 1 (got ${opts.runs})`);
  if (!Number.isFinite(opts.seed)) throw new InputError(`seed must be a finite number (got ${opts.seed})`);
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new InputError(`temperature must be a finite number ≥ 0 (got ${temperature})`);
  }
  const settings = { steps: opts.steps, runs: opts.runs, seed: opts.seed, temperature, prune: 0 };
  const port = simPort({ step: model.step, capabilities: SIM_CAPABILITIES }, target, settings);
  const runs: Run[] = [];
  for (let r = 0; r < settings.runs; r++) {
    const run: Run = { seed: runSeed(settings.seed, r), steps: [] };
    runs.push(run);
    const rng = makeRng(run.seed);
    const history: number[] = [];
    for (let t = 0; t < settings.steps; t++) {
      const scored = simScore(model, target, history, rng, settings);
      const ptoken = ptokenOf(port, t, scored, temperature);
      const idx = drawIndex(ptoken, rng);
      run.steps.push(buildStep(t, ptoken, scored, target.support[idx]!, target));
      history.push(idx);
    }
  }
  return runs;
}
