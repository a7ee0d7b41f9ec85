// `ptalign task codegen`: n samples per problem, per temperature, per run (seed), each executed in the sandbox;
// pass@k, diversity, stability across runs and the P_token profile per temperature.

import { closeModel, isSimModel, isTextBackend, openModel, type Model, type ModelOptions } from "../../backends/index.ts";
import { InputError } from "../../errors.ts";
import { makeRng } from "../../rng.ts";
import { truncates, type SamplerSettings } from "../../scoring/sampler.ts";
import { codegenPrompt, generateSim, generateTokens, type Completion } from "./generate.ts";
import { diversity, passAtK, sampleSd } from "./metrics.ts";
import { DEFAULT_STOPS, passRule, runCompletion, type Problem, type ProblemFailure } from "./problems.ts";
import { codegenFormatWarning } from "../warnings.ts";
import { DEFAULT_LIMITS, type Outcome, type SandboxLimits } from "./sandbox.ts";

export interface CodegenSettings {
  /** Samples per problem, per temperature, per run. */
  n: number;
  temperatures: number[];
  /** Independent runs; run r uses seed + r. */
  runs: number;
  seed: number;
  /** k values of pass@k (those with k ≤ n are reported). */
  ks: number[];
  maxTokens: number;
  limits: SandboxLimits;
  /** Deployed sampler truncations (top-k, top-p, min-p) for token models; absent = none. */
  sampler?: SamplerSettings;
}

/**
 * The default sweep: small enough that the built-in set (38 problems, 760 generations) finishes in minutes on a
 * small model on 2 CPU cores; the published protocol (n = 200, T = 0.2 and 0.8) is in the README.
 */
export const DEFAULT_CODEGEN: CodegenSettings = { n: 5, temperatures: [0.2, 0.8], runs: 2, seed: 1, ks: [1, 5], maxTokens: 256, limits: DEFAULT_LIMITS };

export interface CodegenSample {
  completion: string;
  passed: boolean;
  outcome: Outcome;
  reason: string;
  steps: number;
  mean_entropy: number;
  top1_gt_0_9: number;
  stop: Completion["stop"];
}

export interface CodegenCell {
  task_id: string;
  temperature: number;
  run: number;
  seed: number;
  n: number;
  /** Passing samples. */
  c: number;
  pass_at_k: Record<string, number | null>;
  distinct_passing: number;
  distinct_failing: number;
  edit_distance: number | null;
  samples: CodegenSample[];
}

export interface CodegenSummary {
  temperature: number;
  /** Mean over problems and runs of the per-problem estimator. */
  pass_at_k: Record<string, number | null>;
  /** pass@1 of each run (mean over problems of c/n). */
  pass1_by_run: number[];
  /** Stability: spread of pass@1 across runs. */
  stability: { pass1_sd: number | null; pass1_range: number };
  /** Means over problems and runs. */
  diversity: { distinct_passing: number; distinct_failing: number; edit_distance: number | null };
  /** P_token profile of the generated code: token-weighted over every decision of every sample. */
  profile: { mean_entropy: number; top1_gt_0_9: number; decisions: number };
  /** Why the failing samples failed: outcome → count. */
  failures: Record<string, number>;
  /** Share of samples whose program does not parse (outcome "syntax"): codegen's counterpart of the answer leak. */
  off_format: number;
}

export interface CodegenResult {
  version: 1;
  task: "codegen";
  model: string;
  settings: Record<string, unknown>;
  problems: string[];
  summaries: CodegenSummary[];
  cells: CodegenCell[];
  /** Problems the canonical check skipped, with the reason (absent: none skipped or no check). */
  skipped?: ProblemFailure[];
  /** What the numbers cannot say (off-format, a comparison that cannot discriminate); printed by the CLI. */
  warnings?: string[];
  id?: string;
}

export type CodegenListener = (done: number, total: number) => void;

export async function runCodegen(modelSpec: string, problems: readonly Problem[], settings: CodegenSettings, opts: { backend?: ModelOptions; model?: Model; onSample?: CodegenListener; skipped?: ProblemFailure[] } = {}): Promise<CodegenResult> {
  if (settings.n < 1 || !Number.isInteger(settings.n)) throw new InputError(`--n must be a whole number ≥ 1 (got ${settings.n})`);
  if (settings.temperatures.length === 0) throw new InputError("give at least one --temperature");
  const model = opts.model ?? (await openModel(modelSpec, opts.backend));
  if (isTextBackend(model)) {
    if (!opts.model) await closeModel(model);
    throw new InputError(`code generation samples token by token; ${modelSpec} is scored at the text level (use a GGUF model, a token-level server, or sim:)`);
  }
  // sim: families draw whole programs, not tokens: a token sampler has nothing to truncate there.
  if (truncates(settings.sampler) && (isSimModel(model) || !model.capabilities.samplerTruncation)) {
    if (!opts.model) await closeModel(model);
    throw new InputError(`--top-k, --top-p and --min-p truncate a token model's next-token distribution; ${modelSpec} ${isSimModel(model) ? "draws whole programs" : "does not give the full distribution"} (use a GGUF model)`);
  }
  const cells: CodegenCell[] = [];
  const total = problems.length * settings.temperatures.length * settings.runs * settings.n;
  let done = 0;
  const cache = new Map<string, { passed: boolean; outcome: Outcome; reason: string }>();
  try {
    for (const temperature of settings.temperatures) {
      for (let r = 0; r < settings.runs; r++) {
        const seed = settings.seed + r;
        for (const problem of problems) {
          const rng = makeRng(`${seed}/${temperature}/${problem.task_id}`);
          // A separate stream for the sim models' off-format draws, so `leak` leaves the program draws unchanged.
          const leakRng = makeRng(`${seed}/${temperature}/${problem.task_id}/leak`);
          const history: number[] = [];
          const promptTokens = isSimModel(model) ? [] : (await model.prepare?.(codegenPrompt(problem)), model.encodePrompt(codegenPrompt(problem)));
          const samples: CodegenSample[] = [];
          for (let i = 0; i < settings.n; i++) {
            const gen = isSimModel(model)
              ? generateSim(model, problem, temperature, rng, history, leakRng)
              : await generateTokens(model, promptTokens, { temperature, maxTokens: settings.maxTokens, stops: problem.stop ?? DEFAULT_STOPS, rng, sampler: settings.sampler });
            const key = `${problem.task_id}\u0000${gen.completion}`;
            let exec = cache.get(key);
            if (!exec) {
              const e = await runCompletion(problem, gen.completion, settings.limits);
              exec = { passed: e.passed, outcome: e.outcome, reason: e.reason };
              cache.set(key, exec);
            }
            samples.push({ completion: gen.completion, ...exec, steps: gen.steps, mean_entropy: gen.entropy_sum / gen.steps, top1_gt_0_9: gen.confident / gen.steps, stop: gen.stop });
            opts.onSample?.(++done, total);
          }
          const c = samples.filter((s) => s.passed).length;
          const div = diversity(samples);
          cells.push({
            task_id: problem.task_id,
            temperature,
            run: r,
            seed,
            n: settings.n,
            c,
            pass_at_k: Object.fromEntries(settings.ks.map((k) => [String(k), passAtK(settings.n, c, k)])),
            ...div,
            samples,
          });
        }
      }
    }
  } finally {
    if (!opts.model) await closeModel(model);
  }
  const name = isSimModel(model) ? model.spec : modelSpec;
  const summaries = settings.temperatures.map((T) => summarise(cells.filter((c) => c.temperature === T), T, settings));
  const warnings = [
    ...(isSimModel(model) ? simPoolWarnings(name, problems) : []),
    ...summaries.map((s) => codegenFormatWarning(name, s.temperature, s.off_format)).filter((w): w is string => w !== undefined),
  ];
  return {
    version: 1,
    task: "codegen",
    model: name,
    settings: { n: settings.n, temperatures: settings.temperatures, runs: settings.runs, seed: settings.seed, ks: settings.ks, max_tokens: settings.maxTokens, limits: settings.limits, ...(settings.sampler ? { sampler: settings.sampler } : {}), pass_rules: Object.fromEntries(problems.map((p) => [p.layout ?? "humaneval", passRule(p)])) },
    problems: problems.map((p) => p.task_id),
    summaries,
    cells,
    ...(opts.skipped?.length ? { skipped: opts.skipped } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}

/**
 * A sim model chooses among a problem's canonical and wrong solutions: where there are no wrong ones it can only
 * pass, so its numbers say nothing about the model family.
 */
function simPoolWarnings(model: string, problems: readonly Problem[]): string[] {
  const single = problems.filter((p) => (p.wrong_solutions ?? []).length === 0).length;
  if (single === 0) return [];
  if (single === problems.length) return [`${model}: cannot discriminate: no problem has wrong_solutions, so a sim model can only write the canonical solution and passes everything (sim models suit the built-in set; measure a GGUF model on published benchmarks)`];
  return [`${model}: ${single} of ${problems.length} problems have no wrong_solutions: a sim model always passes those`];
}

const avg = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Per-temperature summary over the cells of that temperature (every problem × every run). */
export function summarise(cells: readonly CodegenCell[], temperature: number, settings: Pick<CodegenSettings, "ks" | "runs">): CodegenSummary {
  const passAt: Record<string, number | null> = {};
  for (const k of settings.ks) {
    const vals = cells.map((c) => c.pass_at_k[String(k)]);
    passAt[String(k)] = vals.some((v) => v === null || v === undefined) ? null : avg(vals as number[]);
  }
  const byRun = Array.from({ length: settings.runs }, (_, r) => avg(cells.filter((c) => c.run === r).map((c) => c.c / c.n)));
  const eds = cells.map((c) => c.edit_distance).filter((v): v is number => v !== null);
  const all = cells.flatMap((c) => c.samples);
  const decisions = all.reduce((a, s) => a + s.steps, 0);
  const failures: Record<string, number> = {};
  for (const s of all) if (!s.passed) failures[s.outcome] = (failures[s.outcome] ?? 0) + 1;
  return {
    temperature,
    pass_at_k: passAt,
    pass1_by_run: byRun,
    stability: { pass1_sd: sampleSd(byRun), pass1_range: byRun.length ? Math.max(...byRun) - Math.min(...byRun) : 0 },
    diversity: {
      distinct_passing: avg(cells.map((c) => c.distinct_passing)),
      distinct_failing: avg(cells.map((c) => c.distinct_failing)),
      edit_distance: eds.length ? avg(eds) : null,
    },
    profile: {
      mean_entropy: decisions ? all.reduce((a, s) => a + s.mean_entropy * s.steps, 0) / decisions : 0,
      top1_gt_0_9: decisions ? all.reduce((a, s) => a + s.top1_gt_0_9 * s.steps, 0) / decisions : 0,
      decisions,
    },
    failures,
    off_format: all.length ? all.filter((s) => s.outcome === "syntax").length / all.length : 0,
  };
}
