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
export { measure, collectRuns, summarise, type RunRequest } from "./run.ts";
export { saveResult, exportResult, newRunId, DEFAULT_RESULTS_DIR } from "./store/results.ts";
export { RequestCache, cacheKey, defaultCacheDir } from "./store/cache.ts";
export { openStore, registerStore, withStore, type StoreKind } from "./store/registry.ts";
export type { ResultStore, RunRecord, RunStatus, StoredResult, BeginRun, TaskRecord, TaskListing } from "./store/types.ts";
export { openRecorder, type Recorder } from "./store/recorder.ts";
export { measureRecorded, StepsKept } from "./record.ts";
export { parseStudy, loadStudy, type Study } from "./study/spec.ts";
export { cellsOf, cellHash, type Cell } from "./study/matrix.ts";
export { runStudy, planOf, type CellOutcome, type StudyHooks } from "./study/run.ts";
export { loadStored, assertResultsDir, targetLabel, type StoredRun } from "./store/read.ts";
export { loadRuns, fillPartial } from "./report/partial.ts";
export { exportLines, type ExportFormat, type ExportLevel } from "./report/export.ts";
// buildReport (src/report/html.ts) and startViewer (src/report/server.ts) load vega: import them from their modules.
export * from "./synth/index.ts";
export * from "./tasks/index.ts";
export * from "./analysis/index.ts";
export { counterfactualProbe, measureCounterfactual, checkCounterfactual, summariseCounterfactual, type CounterfactualStep, type CounterfactualSummary, type CounterfactualProbe } from "./probe/counterfactual.ts";
