import { addEngineOptions, engineOptions, type EngineFlags } from "./engineFlags.ts";
import { Command, InvalidArgumentError } from "commander";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";
import { checkProblems, describeFailures, loadProblems, BUILTIN_PROBLEMS, type ProblemFailure } from "../tasks/codegen/problems.ts";
import { runCodegen, DEFAULT_CODEGEN, type CodegenResult } from "../tasks/codegen/run.ts";
import { calibrateCodegen, type CodegenEstimate } from "../tasks/codegen/estimate.ts";
import { InputError } from "../errors.ts";
import { DEFAULT_WORLD, generateWorld } from "../tasks/recommend/data.ts";
import { loadMovieLens, TIE_RULES, type TieRule } from "../tasks/recommend/movielens.ts";
import { DEFAULT_RECOMMEND, runRecommend, type LabelMode, type RecommendResult } from "../tasks/recommend/run.ts";
import { saveTaskResult } from "../tasks/store.ts";
import type { TaskDemo } from "../tasks/demo.ts";
import { fmt, Progress, realNumber, table, wholeNumber } from "./common.ts";

const list = (flag: string, min: number, whole: boolean) => (value: string): number[] => {
  const parts = value.split(",").map((s) => s.trim());
  const parse = whole ? wholeNumber(flag, min) : realNumber(flag, min);
  if (parts.some((p) => p === "")) throw new InvalidArgumentError(`${flag} must be a comma-separated list of numbers (got ${value})`);
  return parts.map(parse);
};
const collect = (value: string, prev: string[] | undefined) => [...(prev ?? []), value];

interface Common extends EngineFlags {
  model: string[];
  seed: number;
  runs: number;
  json?: boolean;
  out: string;
  save: boolean;
  threads: number;
  contextSize?: number;
  raw?: boolean;
}

interface CodegenFlags extends Common {
  problems?: string;
  limit?: number;
  n: number;
  temperature: number[];
  k: number[];
  maxTokens: number;
  timeout: number;
  memory: number;
  check: "warn" | "strict" | false;
  dryRun?: boolean;
}

interface RecommendFlags extends Common {
  data?: string;
  users?: number;
  items: number;
  categories: number;
  history?: number;
  candidates?: number;
  alpha: number;
  temperature: number;
  permutations: number;
  k: number[];
  labels: LabelMode;
  prune: number;
  ties: TieRule;
}

const backendOptions = (f: Common) => ({ threads: f.threads, contextSize: f.contextSize, raw: f.raw, ...engineOptions(f, 1) }); // tasks generate one sample at a time: one sequence unless --parallel

function common(cmd: Command): Command {
  cmd
    .requiredOption("-m, --model <spec>", "model (PATH.gguf, hf:..., sim:d|e|collapsed); repeat to compare models", collect)
    .option("-r, --runs <n>", "independent runs (seeds seed..seed+runs-1): stability is measured across them", wholeNumber("--runs", 1))
    .option("--seed <s>", "seed of the first run", wholeNumber("--seed", 0), 1)
    .option("-o, --out <dir>", "results directory the task results are added to (DIR/tasks/<id>.json)", DEFAULT_RESULTS_DIR)
    .option("--no-save", "do not write the results")
    .option("--json", "print the task result JSONs as one JSON array")
    .option("--threads <n>", "CPU threads of the embedded engine", wholeNumber("--threads", 1), 1)
    .option("--context-size <n>", "context size of the embedded engine", wholeNumber("--context-size", 16))
    .option("--raw", "skip the model's chat template");
  return addEngineOptions(cmd);
}

export function taskCommand(): Command {
  const task = new Command("task").description("downstream tasks where diversity and stability decide the outcome: codegen, recommend");
  task.addCommand(
    common(new Command("codegen"))
      .description("code generation: n samples per problem and temperature, executed in a sandbox; pass@k, diversity, stability, P_token profile")
      .option("--problems <file>", `problems in the HumanEval JSONL layout (default: the built-in set, ${BUILTIN_PROBLEMS.replace(/^.*\/data\//, "data/")})`)
      .option("--limit <n>", "only the first N problems", wholeNumber("--limit", 1))
      .option("-n, --n <n>", "samples per problem, temperature and run", wholeNumber("--n", 1), DEFAULT_CODEGEN.n)
      .option("-t, --temperature <list>", "temperatures (comma-separated sweep)", list("--temperature", 0, false), DEFAULT_CODEGEN.temperatures)
      .option("-k, --k <list>", "k of pass@k (reported where k ≤ n)", list("--k", 1, true), DEFAULT_CODEGEN.ks)
      .option("--max-tokens <n>", "longest completion, in tokens", wholeNumber("--max-tokens", 1), 256)
      .option("--timeout <ms>", "wall-time limit of one execution", wholeNumber("--timeout", 10), 2000)
      .option("--memory <mb>", "heap limit of one execution", wholeNumber("--memory", 8), 32)
      .option("--check <mode>", "first run each canonical solution against its tests: warn = skip the failing problems with a warning, strict = refuse the file", (v) => {
        if (v !== "warn" && v !== "strict") throw new InvalidArgumentError(`--check must be warn or strict (got ${v}); --no-check skips the check`);
        return v;
      }, "warn")
      .option("--no-check", "skip the check of the canonical solutions")
      .option("--dry-run", "print the number of generations and a time estimate from a short calibration, run nothing else")
      .addHelpText("after", "\nExamples:\n  $ ptalign task codegen --model sim:e --model sim:d --n 10 --temperature 0.2,1.0 --runs 3\n  $ ptalign task codegen --model ./model.gguf --problems humaneval_js.jsonl.gz --dry-run")
      .action(async (f: CodegenFlags) => {
        const limits = { timeoutMs: f.timeout, memoryMb: f.memory, maxOutputChars: 64 * 1024 };
        let problems = await loadProblems(f.problems ?? BUILTIN_PROBLEMS);
        if (f.limit) problems = problems.slice(0, f.limit);
        let skipped: ProblemFailure[] = [];
        if (f.check) {
          const checked = await checkProblems(problems, limits);
          skipped = checked.failed;
          if (skipped.length > 0 && f.check === "strict") throw new InputError(`--check strict: ${skipped.length} of ${problems.length} problems do not hold: ${describeFailures(skipped)}; fix them, or drop --check strict to skip them with a warning`);
          if (skipped.length > 0) warn(`skipping ${skipped.length} of ${problems.length} problems whose solutions do not hold (recorded in the result as "skipped"; --check strict refuses, --no-check runs them): ${describeFailures(skipped)}`);
          problems = checked.ok;
          if (problems.length === 0) throw new InputError(`no problem left to run: every problem failed the check (${describeFailures(skipped)}); --no-check runs them anyway`);
        }
        const settings = { n: f.n, temperatures: f.temperature, runs: f.runs ?? DEFAULT_CODEGEN.runs, seed: f.seed, ks: f.k, maxTokens: f.maxTokens, limits };
        if (f.dryRun) {
          const estimates: CodegenEstimate[] = [];
          for (const model of f.model) estimates.push(await calibrateCodegen(model, problems, settings, { backend: backendOptions(f) }));
          if (f.json) process.stdout.write(JSON.stringify(estimates) + "\n");
          else process.stdout.write(estimateText(estimates, problems.length, settings) + "\n");
          return;
        }
        const results: CodegenResult[] = [];
        const progress = new Progress(f.model.length * problems.length * f.temperature.length * settings.runs * f.n, "codegen", Boolean(f.json));
        try {
          for (const model of f.model) {
            const r = await runCodegen(model, problems, settings, { backend: backendOptions(f), onSample: () => progress.tick(), skipped });
            if (f.save) await saveTaskResult(f.out, r);
            for (const w of r.warnings ?? []) warn(w);
            results.push(r);
          }
        } finally {
          progress.stop();
        }
        if (f.json) process.stdout.write(JSON.stringify(results) + "\n");
        else process.stdout.write(codegenTable(results) + (f.save ? `\n\n${results.length} task results added to ${f.out}/tasks\n` : "\n"));
      }),
  );
  task.addCommand(
    common(new Command("recommend"))
      .description("recommendation: P_token over a candidate list, ranked; HR/NDCG, TV/KL to P_task, calibration, coverage, Gini, stability")
      .option("--data <dir>", "MovieLens directory (ratings.csv + movies.csv, or u.data + u.item); default: a controlled world from --seed")
      .option("--users <n>", "users (world: generated; MovieLens: sampled)", wholeNumber("--users", 1))
      .option("--items <n>", "items in the world", wholeNumber("--items", 2), DEFAULT_WORLD.items)
      .option("--categories <n>", "categories in the world", wholeNumber("--categories", 2), DEFAULT_WORLD.categories)
      .option("--history <n>", "history items shown", wholeNumber("--history", 1))
      .option("--candidates <n>", "candidates per list (the held-out item + negatives)", wholeNumber("--candidates", 2))
      .option("--alpha <a>", "Dirichlet concentration of the world's user preferences", realNumber("--alpha", 1e-3), DEFAULT_WORLD.alpha)
      .option("-t, --temperature <t>", "temperature P_token is read at", realNumber("--temperature", 0), 1)
      .option("--permutations <n>", "random re-orderings of each list (position-bias stability)", wholeNumber("--permutations", 0), 3)
      .option("-k, --k <list>", "k of HR@k and NDCG@k", list("--k", 1, true), [1, 3, 5])
      .option("--labels <mode>", "candidates labelled by letters (A, B, ...) or by title", (v) => {
        if (v !== "letters" && v !== "titles") throw new InvalidArgumentError(`--labels must be letters or titles (got ${v})`);
        return v;
      }, "letters")
      .option("--prune <p>", "option paths less probable than p are not followed when P_token is read (their mass is lost)", realNumber("--prune", 0, 0.999999), DEFAULT_RECOMMEND.prune)
      .option("--ties <rule>", `MovieLens: the held-out rating among those tied at a user's latest timestamp: ${TIE_RULES.join(", ")} (docs/tasks.md)`, (v) => {
        if (!(TIE_RULES as readonly string[]).includes(v)) throw new InvalidArgumentError(`--ties must be ${TIE_RULES.join(", ")} (got ${v})`);
        return v;
      }, "file")
      .addHelpText("after", "\nExamples:\n  $ ptalign task recommend --model sim:e --model sim:d\n  $ ptalign task recommend --model ./model.gguf --data ./ml-latest-small --users 50 --ties item-id")
      .action(async (f: RecommendFlags) => {
        const data = f.data
          ? await loadMovieLens(f.data, { seed: f.seed, users: f.users ?? 50, history: f.history ?? 10, candidates: f.candidates ?? 10, minRatings: 5, ties: f.ties })
          : generateWorld({ seed: f.seed, items: f.items, categories: f.categories, users: f.users ?? DEFAULT_WORLD.users, history: f.history ?? DEFAULT_WORLD.history, candidates: f.candidates ?? DEFAULT_WORLD.candidates, alpha: f.alpha });
        const settings = { temperature: f.temperature, runs: f.runs ?? 2, seed: f.seed, permutations: f.permutations, ks: f.k, labels: f.labels, prune: f.prune };
        const results: RecommendResult[] = [];
        const progress = new Progress(f.model.length * data.users.length * (settings.runs + settings.permutations), "recommend", Boolean(f.json));
        try {
          for (const model of f.model) {
            const r = await runRecommend(model, data, settings, { backend: backendOptions(f), onUser: () => progress.tick() });
            if (f.save) await saveTaskResult(f.out, r);
            // The loader's notes are the same for every model: print them once.
            for (const w of r.warnings ?? []) if (results.length === 0 || !(data.notes ?? []).includes(w)) warn(w);
            results.push(r);
          }
        } finally {
          progress.stop();
        }
        if (f.json) process.stdout.write(JSON.stringify(results) + "\n");
        else process.stdout.write(recommendTable(results) + (f.save ? `\n\n${results.length} task results added to ${f.out}/tasks\n` : "\n"));
      }),
  );
  for (const c of task.commands) c.exitOverride();
  return task;
}

/** A warning on stderr, one line each ("ptalign: warning: ..."); the result records it too. */
function warn(text: string): void {
  process.stderr.write(`ptalign: warning: ${text}\n`);
}

const seconds = (s: number) => (s < 90 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

export function estimateText(estimates: readonly CodegenEstimate[], problems: number, s: { n: number; temperatures: number[]; runs: number }): string {
  const rows = estimates.map((e) => [
    modelName(e.model),
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
    table(["model", "generations", "calibration", "per decision", "decisions/sample", "estimate"], rows),
    "",
    `${bound ? "at most about" : "about"} ${seconds(total)} in all. Calibrated on one sample of the first problem per temperature (a decision is a token; a program for sim: models)${bound ? "; ≤: a calibration sample did not end within its cap, so every sample is assumed to run to --max-tokens" : ""}. Nothing was stored.`,
  ].join("\n");
}

const modelName = (m: string) => (m.startsWith("sim:") ? m.replace(/\?.*$/, "") : m);

export function codegenTable(results: readonly CodegenResult[]): string {
  const ks = (results[0]?.settings.ks as number[] | undefined) ?? [1];
  const rows = results.flatMap((r) =>
    r.summaries.map((s) => [
      modelName(r.model),
      String(s.temperature),
      ...ks.map((k) => fmt(s.pass_at_k[String(k)])),
      fmt(s.stability.pass1_sd),
      s.diversity.distinct_passing.toFixed(2),
      s.diversity.distinct_failing.toFixed(2),
      fmt(s.diversity.edit_distance),
      fmt(s.profile.mean_entropy),
      fmt(s.profile.top1_gt_0_9),
      fmt(s.off_format),
    ]),
  );
  return table(["model", "T", ...ks.map((k) => `pass@${k}`), "pass1_sd", "distinct_pass", "distinct_fail", "edit_dist", "entropy", "top1>0.9", "off_format"], rows);
}

export function recommendTable(results: readonly RecommendResult[]): string {
  const ks = (results[0]?.settings.ks as number[] | undefined) ?? [1];
  const rows = results.map((r) => [
    modelName(r.model),
    ...ks.map((k) => fmt(r.metrics.hr[String(k)])),
    fmt(r.metrics.ndcg[String(ks.at(-1))]),
    fmt(r.metrics.tv),
    fmt(r.metrics.kl),
    fmt(r.metrics.calibration_kl),
    fmt(r.metrics.coverage),
    fmt(r.metrics.gini),
    fmt(r.metrics.stability.permutation),
    fmt(r.metrics.stability.seeds),
    fmt(r.metrics.leak),
  ]);
  return table(["model", ...ks.map((k) => `hr@${k}`), `ndcg@${ks.at(-1)}`, "tv", "kl", "calib_kl", "coverage", "gini", "stab_perm", "stab_seed", "leak"], rows);
}

/** The demo's compact view of both tasks (two tables). */
export function taskDemoTable(d: TaskDemo): string {
  const cg = table(
    ["codegen", "problems", "T", "pass@1", "pass@5", "pass1_sd", "distinct", "edit_dist", "entropy", "top1>0.9"],
    d.codegen.flatMap(({ name, problems, result }) =>
      result.summaries.map((s) => [name, String(problems), String(s.temperature), fmt(s.pass_at_k["1"]), fmt(s.pass_at_k["5"]), fmt(s.stability.pass1_sd), (s.diversity.distinct_passing + s.diversity.distinct_failing).toFixed(2), fmt(s.diversity.edit_distance), fmt(s.profile.mean_entropy), fmt(s.profile.top1_gt_0_9)]),
    ),
  );
  const rc = table(
    ["recommend", "hr@1", "ndcg@3", "tv", "calib_kl", "coverage", "gini", "stab_perm", "stab_seed"],
    d.recommend.map(({ name, result: r }) => [name, fmt(r.metrics.hr["1"]), fmt(r.metrics.ndcg["3"]), fmt(r.metrics.tv), fmt(r.metrics.calibration_kl), fmt(r.metrics.coverage), fmt(r.metrics.gini), fmt(r.metrics.stability.permutation), fmt(r.metrics.stability.seeds)]),
  );
  return `${cg}\n\n${rc}`;
}
