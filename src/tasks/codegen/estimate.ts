// `task codegen --dry-run`: how many generations a sweep makes and how long it will take, from a short calibration
// (two samples of the first problem at each temperature, executed like the real run) on the model itself.

import { closeModel, openModel, type ModelOptions } from "../../backends/index.ts";
import type { Problem } from "./problems.ts";
import { runCodegen, type CodegenSettings } from "./run.ts";

export interface CodegenEstimate {
  model: string;
  /** problems × temperatures × runs × n. */
  generations: number;
  calibration: { samples: number; seconds: number; open_seconds: number };
  seconds_per_sample: number;
  /** open_seconds + generations × seconds_per_sample. */
  estimate_seconds: number;
}

/** Samples drawn per temperature for the calibration. */
export const CALIBRATION_SAMPLES = 2;

export async function calibrateCodegen(modelSpec: string, problems: readonly Problem[], settings: CodegenSettings, opts: { backend?: ModelOptions } = {}): Promise<CodegenEstimate> {
  const generations = problems.length * settings.temperatures.length * settings.runs * settings.n;
  const t0 = performance.now();
  const model = await openModel(modelSpec, opts.backend);
  const opened = performance.now();
  let samples = 0;
  let name = modelSpec;
  try {
    const r = await runCodegen(modelSpec, problems.slice(0, 1), { ...settings, n: Math.min(settings.n, CALIBRATION_SAMPLES), runs: 1 }, { model, onSample: () => samples++ });
    name = r.model;
  } finally {
    await closeModel(model);
  }
  const seconds = (performance.now() - opened) / 1000;
  const perSample = samples ? seconds / samples : 0;
  const openSeconds = (opened - t0) / 1000;
  return { model: name, generations, calibration: { samples, seconds, open_seconds: openSeconds }, seconds_per_sample: perSample, estimate_seconds: openSeconds + generations * perSample };
}
