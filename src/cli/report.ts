// `ptalign report DIR --out report.html`: one self-contained HTML file (no network needed to open it).
import { Command, InvalidArgumentError } from "commander";
import { loadRuns } from "../report/partial.ts";
import { assertResultsDir } from "../store/read.ts";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";
import { shownLocation } from "../store/registry.ts";
import { loadTaskResults } from "../tasks/store.ts";
import { writeAtomically } from "../store/atomic.ts";

// html.ts's CHART_LIMIT, repeated so that the help does not load vega (html.ts imports it); a test keeps them equal.
export const CHART_LIMIT_TEXT = 100;

function chartsLimit(v: string): number {
  if (v === "all") return Infinity;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`--charts must be a whole number ≥ 0 or all (got ${v})`);
  return n;
}

export function reportCommand(): Command {
  return new Command("report")
    .description("write one self-contained HTML report (charts per model and target, the D/E map, a sortable comparison table)")
    .argument("[dir]", "results directory", DEFAULT_RESULTS_DIR)
    .option("-o, --out <file>", "HTML file to write", "report.html")
    .option("--charts <n>", `measurements whose charts are inline (a larger directory gets compact sections): a number or all (default ${CHART_LIMIT_TEXT})`, chartsLimit)
    .addHelpText("after", "\nExample:\n  $ ptalign report ./ptalign-results --out report.html")
    .action(async (dir: string, flags: { out: string; charts?: number }) => {
      assertResultsDir(dir);
      const runs = await loadRuns(dir);
      // vega and vega-lite load only for this command (they would slow every other command's start-up).
      const { buildReport } = await import("../report/html.ts");
      const html = await buildReport(runs, { source: shownLocation(dir), tasks: await loadTaskResults(dir), ...(flags.charts !== undefined ? { charts: flags.charts } : {}) });
      // Whole or not at all: on a full disk the temporary file is removed and the old report stays.
      await writeAtomically(flags.out, html);
      process.stdout.write(`wrote ${flags.out} (${runs.length} measurement${runs.length === 1 ? "" : "s"}, ${(html.length / 1024).toFixed(0)} KB)\n`);
    });
}
