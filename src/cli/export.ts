// `ptalign export DIR --format csv|jsonl`: the stored runs as CSV or JSON Lines, on stdout or into a file.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { Command, Option } from "commander";
import { exportLines, type ExportFormat, type ExportLevel } from "../report/export.ts";
import { loadRuns } from "../report/partial.ts";
import { assertResultsDir } from "../store/read.ts";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";

export function exportCommand(): Command {
  return new Command("export")
    .description("export the runs of a results directory: one row per step (default) or per run")
    .argument("[dir]", "results directory", DEFAULT_RESULTS_DIR)
    .addOption(new Option("-f, --format <format>", "output format").choices(["csv", "jsonl"]).default("csv"))
    .addOption(new Option("--level <level>", "steps: one row per step (ptoken over the support); runs: one row per run with metrics and CIs").choices(["steps", "runs"]).default("steps"))
    .option("-o, --out <file>", "write to this file instead of stdout")
    .addHelpText("after", "\nExamples:\n  $ ptalign export ./ptalign-results --format csv > steps.csv\n  $ ptalign export ./ptalign-results --format jsonl --level runs --out runs.jsonl")
    .action(async (dir: string, flags: { format: ExportFormat; level: ExportLevel; out?: string }) => {
      assertResultsDir(dir);
      const runs = await loadRuns(dir, { withSteps: true });
      const stream = flags.out ? createWriteStream(flags.out) : process.stdout;
      for (const chunk of exportLines(runs, flags.format, flags.level)) {
        if (!stream.write(chunk)) await once(stream, "drain");
      }
      if (flags.out) {
        (stream as ReturnType<typeof createWriteStream>).end();
        await once(stream, "finish");
      }
    });
}
