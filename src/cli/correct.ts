// `ptalign correct`: per-answer logit bias that brings mean P_token to P_task, iterated against the model, then a re-run.
import { writeFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { parseDist } from "../distributions/index.ts";
import { loadTemplate } from "../protocols/index.ts";
import { correctBias } from "../analysis/correct.ts";
import { DEFAULT_RESULTS_DIR, newRunId, saveResult } from "../store/results.ts";
import type { ProtocolName } from "../types.ts";
import { fmt, realNumber, table, wholeNumber } from "./common.ts";

interface CorrectFlags {
  model: string;
  target: string;
  protocol: ProtocolName;
  steps: number;
  runs: number;
  temperature: number;
  seed: number;
  prune: number;
  maxIterations: number;
  biasOut?: string;
  out: string;
  save: boolean;
  json?: boolean;
  threads: number;
  promptFile?: string;
}

export function correctCommand(): Command {
  return new Command("correct")
    .description("compute a per-answer logit bias that brings the model's mean P_token to P_task, re-run with it, report before/after")
    .requiredOption("-m, --model <spec>", "model: PATH.gguf, gguf:PATH, sim:d|e|collapsed[?name=value]")
    .requiredOption("-t, --target <dist>", "P_task (DIST syntax)")
    .addOption(new Option("-p, --protocol <name>", "scored protocol").choices(["sequential", "independent"]).default("sequential"))
    .option("-n, --steps <n>", "samples per run", wholeNumber("--steps", 1), 30)
    .option("-r, --runs <n>", "runs per measurement", wholeNumber("--runs", 1), 3)
    .option("--temperature <t>", "sampling temperature", realNumber("--temperature", 0, 100), 1)
    .option("--seed <s>", "seed of the first run", wholeNumber("--seed", 0), 1)
    .option("--prune <p>", "tokenisation paths below this probability are not expanded", realNumber("--prune", 0, 1), 1e-7)
    .option("--max-iterations <n>", "measurements at most while fitting the bias", wholeNumber("--max-iterations", 1), 10)
    .option("--bias-out <file>", "write the bias as JSON {answer: bias} (input of ptalign run --logit-bias)")
    .option("-o, --out <dir>", "results directory the corrected re-run is added to", DEFAULT_RESULTS_DIR)
    .option("--no-save", "do not store the corrected re-run")
    .option("--threads <n>", "CPU threads for the embedded engine", wholeNumber("--threads", 1), 1)
    .option("--prompt-file <file>", "prompt template")
    .option("--json", "print {bias, iterations, before, after, note}")
    .addHelpText("after", "\nDefinitions: docs/metrics.md, \"Correction\".\nExample:\n  $ ptalign correct --model ./model.gguf --target extreme --bias-out bias.json\n  $ ptalign run --model ./model.gguf --target extreme --logit-bias bias.json")
    .action(async (flags: CorrectFlags) => {
      const target = parseDist(flags.target);
      const template = await loadTemplate(flags.promptFile);
      const settings = { steps: flags.steps, runs: flags.runs, temperature: flags.temperature, seed: flags.seed, prune: flags.prune };
      const c = await correctBias({ model: flags.model, target, protocol: flags.protocol, settings, template, backend: { threads: flags.threads } }, { maxIterations: flags.maxIterations });
      if (flags.biasOut) await writeFile(flags.biasOut, JSON.stringify({ bias: c.bias, ...(c.logit_bias ? { logit_bias: c.logit_bias } : {}), note: c.note }, null, 1) + "\n");
      if (flags.save) {
        const id = newRunId(flags.model);
        await saveResult(flags.out, { ...c.result, id });
      }
      if (c.warning) process.stderr.write(`ptalign: warning: ${c.warning}\n`);
      if (flags.json) {
        const { result: _r, ...rest } = c;
        process.stdout.write(JSON.stringify(rest) + "\n");
        return;
      }
      process.stdout.write(`bias: ${Object.entries(c.bias).map(([a, b]) => `${a} ${b >= 0 ? "+" : ""}${b.toFixed(3)}`).join(", ")}  (${c.iterations.length} iteration${c.iterations.length === 1 ? "" : "s"})\n`);
      process.stdout.write(table(["", "atvd", "marginal_tvd", "volatility"], [["before", fmt(c.before.atvd), fmt(c.before.marginal_tvd), fmt(c.before.volatility)], ["after", fmt(c.after.atvd), fmt(c.after.marginal_tvd), fmt(c.after.volatility)]]) + "\n");
      process.stdout.write(`note: ${c.note}\n`);
    });
}
