export { execute, commonJs, DEFAULT_LIMITS, type SandboxLimits, type Execution, type Outcome, type PassRule } from "./codegen/sandbox.ts";
export { parseProblems, loadProblems, validateProblems, checkProblems, describeFailures, languageOf, passRule, runCompletion, program, BUILTIN_PROBLEMS, DEFAULT_STOPS, type Problem, type ProblemFailure, type Layout } from "./codegen/problems.ts";
export { calibrateCodegen, CALIBRATION_TOKENS, type CodegenEstimate } from "./codegen/estimate.ts";
export { OFF_FORMAT_LEAK } from "./warnings.ts";
export { passAtK, jsTokens, normalizeProgram, editDistance, normalizedEditDistance, diversity, sampleSd } from "./codegen/metrics.ts";
export { generateTokens, generateSim, simPool, codegenPrompt, SIM_WRONG_MASS, type Completion } from "./codegen/generate.ts";
export { runCodegen, DEFAULT_CODEGEN, type CodegenResult, type CodegenSettings, type CodegenSummary, type CodegenCell } from "./codegen/run.ts";
export { codeWriterSpec, programLines, type WeightedProgram } from "./codegen/synth.ts";
export { generateWorld, itemProbs, DEFAULT_WORLD, type RecData, type RecUser, type Item, type WorldOptions } from "./recommend/data.ts";
export { loadMovieLens, DEFAULT_MOVIELENS, type MovieLensOptions } from "./recommend/movielens.ts";
export { rankOf, hitRate, ndcg, smoothedKl, calibrationKl, categoryVector, gini, spearman, KL_ALPHA } from "./recommend/metrics.ts";
export { runRecommend, recommendPrompt, label, DEFAULT_RECOMMEND, type RecommendResult, type RecommendSettings, type RecommendMetrics } from "./recommend/run.ts";
export { saveTaskResult, loadTaskResults, type TaskResult } from "./store.ts";
// The tasks' charts (src/tasks/plots.ts) load vega: import them from their module.
