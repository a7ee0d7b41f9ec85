import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { parseDist } from "../distributions/index.ts";
import { DEFAULT_TEMPLATE } from "../protocols/index.ts";
import { measure } from "../run.ts";
import { DEFAULT_RESULTS_DIR, newRunId, saveResult } from "../store/results.ts";
import { writeDemoModels } from "../synth/index.ts";
import type { Result } from "../types.ts";
import { fmt, Progress, table, wholeNumber } from "./common.ts";
import { taskDemoTable } from "./task.ts";
import { runTaskDemo } from "../tasks/demo.ts";
import { saveTaskResult } from "../tasks/store.ts";

interface DemoFlags {
  steps: number;
  runs: number;
  seed: number;
  out: string;
  save: boolean;
  json?: boolean;
}

export function demoCommand(): Command {
  return new Command("demo")
    .description("the whole pipeline on built-in models (three simulated families and three generated GGUF models), no download")
    .option("-n, --steps <n>", "samples per run", wholeNumber("--steps", 1), 30)
    .option("-r, --runs <n>", "runs per model", wholeNumber("--runs", 1), 5)
    .option("--seed <s>", "seed of the first run", wholeNumber("--seed", 0), 1)
    .option("-o, --out <dir>", "results directory the runs are added to", DEFAULT_RESULTS_DIR)
    .option("--no-save", "do not write the runs to the results directory")
    .option("--json", "print the result JSONs as one JSON array")
    .addHelpText("after", "\nExample:\n  $ ptalign demo --steps 30 --runs 5")
    .action(async (flags: DemoFlags) => {
      const results = await runDemo(flags);
      if (flags.json) process.stdout.write(JSON.stringify(results) + "\n");
      else {
        process.stdout.write(demoTable(results) + "\n\n");
        // The downstream tasks on built-in models (docs/tasks.md), stored next to the runs (DIR/tasks) like any task.
        const tasks = await runTaskDemo(flags.seed);
        const taskResults = [...tasks.codegen, ...tasks.recommend].map(({ name, result }) => ({ ...result, model: name }));
        if (flags.save) for (const r of taskResults) await saveTaskResult(flags.out, r);
        const saved = flags.save ? `\n\n${results.length} runs added to ${flags.out}/runs, ${taskResults.length} task results to ${flags.out}/tasks\n` : "\n";
        process.stdout.write(taskDemoTable(tasks) + saved);
      }
    });
}

/** Runs every built-in model on the `extreme` preset with the sequential protocol. */
export async function runDemo(flags: DemoFlags): Promise<Result[]> {
  const dir = await mkdtemp(join(tmpdir(), "ptalign-demo-"));
  try {
    const synth = await writeDemoModels(dir);
    const models = ["sim:e", "sim:d", "sim:collapsed", synth.e.path, synth.d.path, synth.collapsed.path];
    const target = parseDist("extreme");
    const settings = { steps: flags.steps, runs: flags.runs, temperature: 1, seed: flags.seed, prune: 1e-7 };
    const progress = new Progress(models.length * flags.steps * flags.runs, "demo", Boolean(flags.json));
    const results: Result[] = [];
    try {
      for (const model of models) {
        const result = await measure({ model, target, protocol: "sequential", settings, template: DEFAULT_TEMPLATE, onStep: () => progress.tick() });
        // Generated models live in a temp dir: name them by what they are, not by a path that will be gone.
        result.model = model.startsWith("sim:") ? model : `synth:${model.replace(/^.*synth-(\w+)\.gguf$/, "$1")}`;
        result.id = newRunId(result.model);
        if (flags.save) await saveResult(flags.out, result);
        results.push(result);
      }
    } finally {
      progress.stop();
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function demoTable(results: Result[]): string {
  const rows = results.map((r) => [r.model, fmt(r.metrics.atvd), fmt(r.metrics.marginal_tvd), fmt(r.metrics.volatility), fmt(r.metrics.concentration), fmt(r.metrics.e_score), r.verdict.type]);
  return table(["model", "atvd", "marginal_tvd", "volatility", "concentration", "e_score", "verdict"], rows);
}
