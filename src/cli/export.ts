// `ptalign export DIR --format csv|jsonl`: the stored runs as CSV or JSON Lines, on stdout or into a file.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { rename, rm } from "node:fs/promises";
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
      if (!flags.out) {
        for (const chunk of exportLines(runs, flags.format, flags.level)) {
          if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
        }
        return;
      }
      // A file is written whole or not at all (a full disk leaves neither it nor its temporary file).
      const tmp = `${flags.out}.${process.pid}.tmp`;
      const stream = createWriteStream(tmp);
      const failed = new Promise<never>((_, reject) => stream.once("error", reject));
      failed.catch(() => {});
      try {
        for (const chunk of exportLines(runs, flags.format, flags.level)) {
          if (!stream.write(chunk)) await Promise.race([once(stream, "drain"), failed]);
        }
        stream.end();
        await Promise.race([once(stream, "finish"), failed]);
        await rename(tmp, flags.out);
      } catch (err) {
        stream.destroy();
        await rm(tmp, { force: true });
        const e = err as NodeJS.ErrnoException;
        if (e.path === undefined || e.path === tmp) e.path = flags.out; // the file asked for, not the temporary one
        throw err;
      }
    });
}
