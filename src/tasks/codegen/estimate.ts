// `task codegen --dry-run`: how many generations a sweep makes and how long it will take, from a short calibration
// on the model itself: one sample of the first problem at each temperature, at most CALIBRATION_TOKENS tokens long,
// executed like the real run. The cost of a decision (a token; a program for sim models) times the tokens a sample
// takes gives the cost of a sample; a calibration sample cut at the cap only bounds its length by --max-tokens.

import { closeModel, openModel, type ModelOptions } from "../../backends/index.ts";
import type { Problem } from "./problems.ts";
import { runCodegen, type CodegenSettings } from "./run.ts";

export interface CodegenEstimate {
  model: string;
  /** problems × temperatures × runs × n. */
  generations: number;
  calibration: { samples: number; decisions: number; seconds: number; open_seconds: number };
  seconds_per_decision: number;
  /** Mean decisions of the calibration samples; --max-tokens when one was cut at the cap (then `upper_bound`). */
  decisions_per_sample: number;
  /** The estimate is an upper bound: a calibration sample did not end within the cap, so --max-tokens is assumed. */
  upper_bound: boolean;
  seconds_per_sample: number;
  /** open_seconds + generations × seconds_per_sample. */
  estimate_seconds: number;
}

/** Longest calibration sample, in tokens: enough to time a token, short enough for a dry run on a slow model. */
export const CALIBRATION_TOKENS = 16;

export async function calibrateCodegen(modelSpec: string, problems: readonly Problem[], settings: CodegenSettings, opts: { backend?: ModelOptions } = {}): Promise<CodegenEstimate> {
  const generations = problems.length * settings.temperatures.length * settings.runs * settings.n;
  const t0 = performance.now();
  const model = await openModel(modelSpec, opts.backend);
  const opened = performance.now();
  const cap = Math.min(settings.maxTokens, CALIBRATION_TOKENS);
  let name = modelSpec;
  let samples: { steps: number; stop: string }[] = [];
  try {
    const r = await runCodegen(modelSpec, problems.slice(0, 1), { ...settings, n: 1, runs: 1, maxTokens: cap }, { model });
    name = r.model;
    samples = r.cells.flatMap((c) => c.samples);
  } finally {
    await closeModel(model);
  }
  const seconds = (performance.now() - opened) / 1000;
  const decisions = samples.reduce((a, s) => a + s.steps, 0);
  const perDecision = decisions ? seconds / decisions : 0;
  // A sample cut at the cap would have gone on: only --max-tokens bounds it.
  const cut = samples.some((s) => s.stop === "max" && cap < settings.maxTokens);
  const perSampleDecisions = cut ? settings.maxTokens : samples.length ? decisions / samples.length : 0;
  const perSample = perDecision * perSampleDecisions;
  const openSeconds = (opened - t0) / 1000;
  return {
    model: name,
    generations,
    calibration: { samples: samples.length, decisions, seconds, open_seconds: openSeconds },
    seconds_per_decision: perDecision,
    decisions_per_sample: perSampleDecisions,
    upper_bound: cut,
    seconds_per_sample: perSample,
    estimate_seconds: openSeconds + generations * perSample,
  };
}
