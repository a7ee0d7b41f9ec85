// `ptalign ls DIR`: the runs of a results directory, one line each.
import { Command } from "commander";
import { loadRuns } from "../report/partial.ts";
import { assertResultsDir, loadTaskListing, targetLabel } from "../store/read.ts";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";
import { shownLocation } from "../store/registry.ts";
import { abbreviate, fmt, table } from "./common.ts";

export function lsCommand(): Command {
  return new Command("ls")
    .description("list the runs of a results directory (status, model, target, protocol, verdict)")
    .argument("[dir]", "results directory", DEFAULT_RESULTS_DIR)
    .option("--json", "one JSON object per run (without steps), as a JSON array")
    .addHelpText("after", "\nExample:\n  $ ptalign ls ./ptalign-results")
    .action(async (dir: string, flags: { json?: boolean }) => {
      assertResultsDir(dir);
      const runs = await loadRuns(dir, { withSteps: false });
      if (flags.json) {
        process.stdout.write(JSON.stringify(runs.map(({ runs: _r, ...rest }) => rest)) + "\n");
        return;
      }
      const tasks = await loadTaskListing(dir);
      if (runs.length === 0 && tasks.length === 0) {
        process.stdout.write(`no runs in ${shownLocation(dir)}\n`);
        return;
      }
      // The measurements first, then the downstream task results (docs/report.md).
      // Grouped by prompt (then as stored) when the directory holds measurements of several prompts.
      const promptOf = (r: (typeof runs)[number]) => String((r.settings as Record<string, unknown> | undefined)?.prompt_name ?? "default");
      const byPrompt = new Set(runs.map(promptOf)).size > 1;
      if (byPrompt) runs.sort((a, b) => promptOf(a).localeCompare(promptOf(b)));
      const rows = runs.map((r) => [
        ...(byPrompt ? [promptOf(r)] : []),
        r.id,
        r.status,
        abbreviate(r.model, 60),
        abbreviate(targetLabel(r), 60),
        r.protocol,
        String(r.settings?.temperature ?? "—"),
        r.progress.planned ? `${r.progress.steps}/${r.progress.planned}` : String(r.progress.steps),
        fmt(r.metrics?.atvd),
        fmt(r.metrics?.volatility),
        fmt(r.metrics?.leak),
        r.verdict?.type ?? "—",
        abbreviate(r.error ?? "", 200),
      ]);
      if (runs.length > 0) process.stdout.write(table([...(byPrompt ? ["prompt"] : []), "id", "status", "model", "target", "protocol", "T", "steps", "atvd", "volatility", "leak", "verdict", "error"], rows) + "\n");
      if (tasks.length > 0) {
        const taskTable = table(["id", "task", "model", "created"], tasks.map((t) => [t.id, t.task, abbreviate(t.model, 60), t.created.slice(0, 19)]));
        process.stdout.write(`${runs.length ? "\n" : ""}downstream tasks:\n${taskTable}\n`);
      }
    });
}
