// Metrics: pure functions over number arrays (definitions in docs/metrics.md).
export { tv, entropy, kl, mean, meanVector, entropyBoundsTopK } from "./basic.ts";
export { chi2Survival } from "./chisq.ts";
export { sampleStats, chiSquare, wasserstein1, numericSupport, CHI2_INFINITE } from "./samples.ts";
export type { SampleStats } from "./samples.ts";
export { runMetrics, computeMetrics, countUnparsed, PTOKEN_SUM_TOLERANCE } from "./run.ts";
export { ksOneSample, ksTwoSample, w1Distribution, chiSquareMerged, referenceSample } from "./continuous.ts";
export { valueMetrics, sampleTests, stepValue, stepAnswer, type ValueTestOptions, type SampleTests } from "./values.ts";
export type { RunMetrics, StepInput } from "./run.ts";
