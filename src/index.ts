// ptalign's library API: everything the CLI uses is importable from here.
export type { Target, Step, Run, Metrics, Verdict, VerdictType, ProtocolName, Result } from "./types.ts";
export { InputError, RunError } from "./errors.ts";
export { makeRng, applyTemperature, drawIndex, normalise, type Rng } from "./rng.ts";
export * from "./distributions/index.ts";
export * from "./metrics/index.ts";
export * from "./classify/index.ts";
export * from "./backends/index.ts";
export * from "./scoring/index.ts";
export * from "./protocols/index.ts";
export { measure, summarise, type RunRequest } from "./run.ts";
export { saveResult, loadResults, newRunId, DEFAULT_RESULTS_DIR } from "./store/results.ts";
export * from "./synth/index.ts";
