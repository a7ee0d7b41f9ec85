// `ptalign task <name>`: one subcommand per registered task (src/tasks/registry.ts), its flags built from the task's
// declared options. The CLI parses and prints: the task loads, checks, measures and describes; the CLI turns the
// task's structured check into warnings and errors that name the flags, prints tables and saves the results.

import { addEngineOptions, engineOptions, type EngineFlags } from "./engineFlags.ts";
import { Command, InvalidArgumentError } from "commander";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";
import { InputError } from "../errors.ts";
import { listTasks } from "../tasks/registry.ts";
import { type AnyTask, type ContextCheck, type TaskOption, type TaskOptionValues, type TaskTable, type TaskText } from "../tasks/task.ts";
import { saveTaskResult, type TaskResult } from "../tasks/store.ts";
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
  runs?: number;
  json?: boolean;
  out: string;
  save: boolean;
  threads: number;
  contextSize?: number;
  raw?: boolean;
  dryRun?: boolean;
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

const or = (values: readonly string[]) => (values.length === 2 ? values.join(" or ") : values.join(", "));

/** The commander parser of a declared option kind (the same one-line errors as the other commands' flags). */
function parserOf(o: TaskOption): ((value: string) => unknown) | undefined {
  const flag = `--${o.name}`;
  const k = o.kind;
  switch (k.type) {
    case "whole":
      return wholeNumber(flag, k.min);
    case "real":
      return realNumber(flag, k.min, k.max);
    case "list":
      return list(flag, k.min, k.whole);
    case "choice":
      return (v) => {
        if (!k.values.includes(v)) throw new InvalidArgumentError(`${flag} must be ${or(k.values)} (got ${v})${k.hint ? `; ${k.hint}` : ""}`);
        return v;
      };
    default:
      return undefined;
  }
}

function addTaskOption(cmd: Command, o: TaskOption): void {
  if (o.kind.type === "negate") {
    cmd.option(`--no-${o.name}`, o.description);
    return;
  }
  const flags = `${o.short ? `-${o.short}, ` : ""}--${o.name}${o.value ? ` <${o.value}>` : ""}`;
  const parse = parserOf(o);
  const def = o.default as string | boolean | string[] | undefined; // commander's typing; the value is the task's own
  if (parse) cmd.option(flags, o.description, parse, def);
  else cmd.option(flags, o.description, def);
}

/**
 * The task's check of its contexts as the CLI's advice: strict refuses (exit 2), warn prints one warning; either way
 * the flags that change it are named. Nothing left to run is an error too.
 */
function applyCheck(c: ContextCheck, left: number): void {
  const n = c.failed.length;
  const w = c.words;
  if (n > 0 && c.mode === "strict") throw new InputError(`--check strict: ${n} of ${c.total} ${w.many} ${w.fails}: ${c.detail}; fix them, or drop --check strict to skip them with a warning`);
  if (n > 0) warn(`skipping ${n} of ${c.total} ${w.many} whose ${w.subject} ${w.fails} (recorded in the result as "skipped"; --check strict refuses, --no-check runs them): ${c.detail}`);
  if (left === 0) throw new InputError(`no ${w.one} left to run: every ${w.one} failed the check (${c.detail}); --no-check runs them anyway`);
}

/** A task's text (lines and tables) as printed: numbers in tables with fmt. */
export function renderText(text: TaskText): string {
  return text.map((part) => (typeof part === "string" ? part : renderTable(part))).join("\n");
}

export function renderTable(t: TaskTable): string {
  return table([...t.header], t.rows.map((row) => row.map((c) => (typeof c === "string" ? c : fmt(c)))));
}

function subcommand(task: AnyTask): Command {
  const cmd = common(new Command(task.name)).description(task.description);
  for (const o of task.options) addTaskOption(cmd, o);
  if (task.examples.length) cmd.addHelpText("after", `\n${task.examples.length > 1 ? "Examples" : "Example"}:\n${task.examples.map((e) => `  $ ${e}`).join("\n")}`);
  return cmd.action(async (f: Common & TaskOptionValues) => {
    const settings = task.settings(f);
    const data = await task.load(settings);
    if (data.check) applyCheck(data.check, data.contexts.length);
    const env = { backend: backendOptions(f) };
    if (f.dryRun && task.estimate) {
      const e = await task.estimate(f.model, data, settings, env);
      process.stdout.write((f.json ? JSON.stringify(e.json) : renderText(e.text)) + "\n");
      return;
    }
    const results: TaskResult[] = [];
    const progress = new Progress(f.model.length * task.units(data, settings), task.name, Boolean(f.json));
    try {
      for (const model of f.model) {
        const r = await task.measure(model, data, settings, { ...env, onUnit: () => progress.tick() });
        if (f.save) {
          await saveTaskResult(f.out, r);
          await task.stored?.(r);
        }
        // The loader's notes are the same for every model: print them once.
        for (const w of r.warnings ?? []) if (results.length === 0 || !data.notes.includes(w)) warn(w);
        results.push(r);
      }
    } finally {
      progress.stop();
    }
    if (f.json) process.stdout.write(JSON.stringify(results) + "\n");
    else process.stdout.write(renderTable(task.table(results)) + (f.save ? `\n\n${results.length} task results added to ${f.out}/tasks\n` : "\n"));
  });
}

export function taskCommand(): Command {
  const tasks = listTasks();
  const task = new Command("task").description(`downstream tasks where diversity and stability decide the outcome: ${tasks.map((t) => t.name).join(", ")}`);
  for (const t of tasks) task.addCommand(subcommand(t));
  for (const c of task.commands) c.exitOverride();
  return task;
}

/** A warning on stderr, one line each ("ptalign: warning: ..."); the result records it too. */
function warn(text: string): void {
  process.stderr.write(`ptalign: warning: ${text}\n`);
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
