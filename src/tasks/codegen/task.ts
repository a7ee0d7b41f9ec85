// `task codegen` as a Task (src/tasks/task.ts): its options, the problem set and its check, and a thin adapter over
// runCodegen / calibrateCodegen. The numbers and the result layout are run.ts's.

import type { Task, TaskData, TaskOptionValues, TaskTable, TaskText } from "../task.ts";
import { modelLabel } from "../task.ts";
import { InputError } from "../../errors.ts";
import { SAMPLER_ORDERS, truncates, type SamplerOrder, type SamplerSettings } from "../../scoring/sampler.ts";
import { calibrateCodegen, type CodegenEstimate } from "./estimate.ts";
import { passDiversitySpec } from "./plots.ts";
import { BUILTIN_PROBLEMS, checkProblems, describeFailures, loadProblems, type Problem, type ProblemFailure } from "./problems.ts";
import { DEFAULT_CODEGEN, runCodegen, type CodegenResult, type CodegenSettings } from "./run.ts";

export interface CodegenTaskSettings {
  run: CodegenSettings;
  /** JSONL problem file (HumanEval layout); the built-in set by default. */
  problems: string;
  limit?: number;
  /** Check each canonical solution first: warn = skip the failing problems, strict = refuse, false = no check. */
  check: "warn" | "strict" | false;
}

export interface CodegenData {
  problems: Problem[];
  /** Problems the check left out (recorded in each result as "skipped"). */
  skipped: ProblemFailure[];
}

const seconds = (s: number) => (s < 90 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

/** The dry run's text: generations per model, the calibration, and the estimate per model and in all. */
export function estimateText(estimates: readonly CodegenEstimate[], problems: number, s: { n: number; temperatures: number[]; runs: number }): TaskText {
  const rows = estimates.map((e) => [
    modelLabel(e.model),
    String(e.generations),
    `${e.calibration.samples} samples, ${e.calibration.decisions} decisions in ${e.calibration.seconds.toFixed(2)} s`,
    `${(1000 * e.seconds_per_decision).toFixed(1)} ms`,
    `${e.upper_bound ? "≤ " : ""}${e.decisions_per_sample.toFixed(e.upper_bound ? 0 : 1)}`,
    `${e.upper_bound ? "≤ " : ""}${seconds(e.estimate_seconds)}`,
  ]);
  const total = estimates.reduce((a, e) => a + e.estimate_seconds, 0);
  const bound = estimates.some((e) => e.upper_bound);
  return [
    `${problems} problem${problems === 1 ? "" : "s"} × ${s.temperatures.length} temperature${s.temperatures.length > 1 ? "s" : ""} (${s.temperatures.join(", ")}) × ${s.runs} run${s.runs > 1 ? "s" : ""} × n ${s.n} = ${problems * s.temperatures.length * s.runs * s.n} generations per model`,
    "",
    { header: ["model", "generations", "calibration", "per decision", "decisions/sample", "estimate"], rows },
    "",
    `${bound ? "at most about" : "about"} ${seconds(total)} in all. Calibrated on one sample of the first problem per temperature (a decision is a token; a program for sim: models)${bound ? "; ≤: a calibration sample did not end within its cap, so every sample is assumed to run to --max-tokens" : ""}. Nothing was stored.`,
  ];
}

export function codegenTable(results: readonly CodegenResult[]): TaskTable {
  const ks = (results[0]?.settings.ks as number[] | undefined) ?? [1];
  const rows = results.flatMap((r) =>
    r.summaries.map((s) => [
      modelLabel(r.model),
      String(s.temperature),
      ...ks.map((k) => s.pass_at_k[String(k)]),
      s.stability.pass1_sd,
      s.diversity.distinct_passing.toFixed(2),
      s.diversity.distinct_failing.toFixed(2),
      s.diversity.edit_distance,
      s.profile.mean_entropy,
      s.profile.top1_gt_0_9,
      s.off_format,
    ]),
  );
  return { header: ["model", "T", ...ks.map((k) => `pass@${k}`), "pass1_sd", "distinct_pass", "distinct_fail", "edit_dist", "entropy", "top1>0.9", "off_format"], rows };
}

const num = (v: unknown) => v as number;

export const codegenTask: Task<CodegenTaskSettings, CodegenData, CodegenResult> = {
  name: "codegen",
  description: "code generation: n samples per problem and temperature, executed in a sandbox; pass@k, diversity, stability, P_token profile",
  examples: ["ptalign task codegen --model sim:e --model sim:d --n 10 --temperature 0.2,1.0 --runs 3", "ptalign task codegen --model ./model.gguf --problems humaneval_js.jsonl.gz --dry-run"],
  options: [
    { name: "problems", value: "file", description: `problems in the HumanEval JSONL layout (default: the built-in set, ${BUILTIN_PROBLEMS.replace(/^.*\/data\//, "data/")})`, kind: { type: "text" } },
    { name: "limit", value: "n", description: "only the first N problems", kind: { type: "whole", min: 1 } },
    { name: "n", short: "n", value: "n", description: "samples per problem, temperature and run", kind: { type: "whole", min: 1 }, default: DEFAULT_CODEGEN.n },
    { name: "temperature", short: "t", value: "list", description: "temperatures (comma-separated sweep)", kind: { type: "list", whole: false, min: 0 }, default: DEFAULT_CODEGEN.temperatures },
    { name: "k", short: "k", value: "list", description: "k of pass@k (reported where k ≤ n)", kind: { type: "list", whole: true, min: 1 }, default: DEFAULT_CODEGEN.ks },
    { name: "max-tokens", value: "n", description: "longest completion, in tokens", kind: { type: "whole", min: 1 }, default: 256 },
    { name: "top-k", value: "k", description: "deployed sampler: keep the k most probable tokens (0 = off; token models)", kind: { type: "whole", min: 0 }, default: 0 },
    { name: "top-p", value: "p", description: "deployed sampler: keep the smallest set of tokens whose mass reaches p (1 = off)", kind: { type: "real", min: 0, max: 1 }, default: 1 },
    { name: "min-p", value: "p", description: "deployed sampler: keep tokens with probability ≥ p × the largest (0 = off)", kind: { type: "real", min: 0, max: 1 }, default: 0 },
    { name: "sampler-order", value: "order", description: "order of the truncations: llama.cpp (top-k, top-p, min-p, then temperature) or vllm (temperature first)", kind: { type: "choice", values: SAMPLER_ORDERS }, default: "llama.cpp" },
    { name: "timeout", value: "ms", description: "wall-time limit of one execution", kind: { type: "whole", min: 10 }, default: 2000 },
    { name: "memory", value: "mb", description: "heap limit of one execution", kind: { type: "whole", min: 8 }, default: 32 },
    {
      name: "check",
      value: "mode",
      description: "first run each canonical solution against its tests: warn = skip the failing problems with a warning, strict = refuse the file",
      kind: { type: "choice", values: ["warn", "strict"], hint: "--no-check skips the check" },
      default: "warn",
    },
    { name: "check", description: "skip the check of the canonical solutions", kind: { type: "negate" } },
    { name: "dry-run", description: "print the number of generations and a time estimate from a short calibration, run nothing else", kind: { type: "switch" } },
  ],
  metrics: [
    { name: "pass_at_k", meaning: "unbiased pass@k per problem (Chen et al. 2021), mean over problems and runs", better: "higher" },
    { name: "stability.pass1_sd", meaning: "sample standard deviation of pass@1 over runs (null with one run)", better: "lower" },
    { name: "diversity.distinct_passing", meaning: "distinct normalised programs among the passing samples, mean over problems and runs" },
    { name: "diversity.distinct_failing", meaning: "distinct normalised programs among the failing samples, mean over problems and runs" },
    { name: "diversity.edit_distance", meaning: "mean pairwise normalised token edit distance between samples (null when n < 2)" },
    { name: "profile.mean_entropy", meaning: "entropy in nats of the model's distribution per decision, over every decision of every sample" },
    { name: "profile.top1_gt_0_9", meaning: "fraction of decisions whose most probable choice has probability > 0.9" },
    { name: "off_format", meaning: "share of samples whose program does not parse", better: "lower" },
  ],
  settings(v: TaskOptionValues): CodegenTaskSettings {
    if (v.topP === 0) throw new InputError("--top-p 0 keeps no token; use a value in (0, 1] (1 = off)");
    const limits = { timeoutMs: num(v.timeout), memoryMb: num(v.memory), maxOutputChars: 64 * 1024 };
    return {
      run: { n: num(v.n), temperatures: v.temperature as number[], runs: v.runs ?? DEFAULT_CODEGEN.runs, seed: v.seed, ks: v.k as number[], maxTokens: num(v.maxTokens), limits, ...samplerOf(v) },
      problems: (v.problems as string | undefined) ?? BUILTIN_PROBLEMS,
      ...(v.limit !== undefined ? { limit: num(v.limit) } : {}),
      check: v.check as CodegenTaskSettings["check"],
    };
  },
  async load(s: CodegenTaskSettings): Promise<TaskData<CodegenData>> {
    let problems = await loadProblems(s.problems);
    if (s.limit) problems = problems.slice(0, s.limit);
    if (!s.check) return { data: { problems, skipped: [] }, contexts: problems.map((p) => ({ id: p.task_id })), notes: [] };
    const checked = await checkProblems(problems, s.run.limits);
    return {
      data: { problems: checked.ok, skipped: checked.failed },
      contexts: checked.ok.map((p) => ({ id: p.task_id })),
      notes: [],
      check: {
        mode: s.check,
        total: problems.length,
        failed: checked.failed.map((f) => ({ id: f.task_id, reason: f.reason })),
        detail: describeFailures(checked.failed),
        words: { one: "problem", many: "problems", subject: "solutions", fails: "do not hold" },
      },
    };
  },
  units: (d, s) => d.data.problems.length * s.run.temperatures.length * s.run.runs * s.run.n,
  measure: (model, d, s, env) => runCodegen(model, d.data.problems, s.run, { ...(env.backend ? { backend: env.backend } : {}), ...(env.onUnit ? { onSample: env.onUnit } : {}), skipped: d.data.skipped }),
  async estimate(models, d, s, env) {
    const estimates: CodegenEstimate[] = [];
    for (const model of models) estimates.push(await calibrateCodegen(model, d.data.problems, s.run, env.backend ? { backend: env.backend } : {}));
    return { json: estimates, text: estimateText(estimates, d.data.problems.length, s.run) };
  },
  table: codegenTable,
  plots: (results) => [{ spec: passDiversitySpec(results), caption: "pass@1 against diversity (mean pairwise token edit distance), one point per model and sampling temperature; labels T=… are the temperatures (several when their points coincide)" }],
  describe: (r) => `codegen · ${r.model} · ${r.problems.length} problems · n = ${String(r.settings.n)} · T = ${(r.settings.temperatures as number[]).join(", ")}`,
};

/** The deployed sampler of the flags, when any truncation is asked for (recorded as settings.sampler, as `run` does). */
function samplerOf(v: TaskOptionValues): { sampler?: SamplerSettings } {
  const sampler: SamplerSettings = { order: v.samplerOrder as SamplerOrder, ...(num(v.topK) > 0 ? { topK: num(v.topK) } : {}), ...(num(v.topP) < 1 ? { topP: num(v.topP) } : {}), ...(num(v.minP) > 0 ? { minP: num(v.minP) } : {}) };
  return truncates(sampler) ? { sampler } : {};
}
