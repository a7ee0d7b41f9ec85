// Metrics: pure functions over number arrays (definitions in docs/metrics.md).
export { tv, entropy, kl, mean, meanVector, entropyBoundsTopK } from "./basic.ts";
export { chi2Survival } from "./chisq.ts";
export { chi2Meaning, chi2Text, cochranHolds, type ChiFields } from "./chi2Cells.ts";
export { sampleStats, chiSquare, wasserstein1, numericSupport, CHI2_INFINITE } from "./samples.ts";
export type { SampleStats } from "./samples.ts";
export { runMetrics, countUnparsed, checkSteps, PTOKEN_SUM_TOLERANCE } from "./run.ts";
export { computeMetrics } from "./compute.ts";
export { METRICS, metricByName, summaryMetrics, htmlMetrics, exportMetrics, bootstrapMetrics } from "./registry.ts";
export { defineMetric, metricContext, metricValue, formatValue } from "./metric.ts";
export type { MetricDef, MetricContext, Direction, SummarySpec, HtmlSpec, BootstrapSpec, MetricFormat } from "./metric.ts";
export { ksOneSample, ksTwoSample, w1Distribution, chiSquareMerged, referenceSample } from "./continuous.ts";
export { valueMetrics, sampleTests, stepValue, stepAnswer, type ValueTestOptions, type SampleTests } from "./values.ts";
export type { RunMetrics, StepInput } from "./run.ts";
