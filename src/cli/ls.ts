// `ptalign ls DIR`: the runs of a results directory, one line each.
import { Command } from "commander";
import { loadStored, assertResultsDir, targetLabel } from "../report/load.ts";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";
import { Store } from "../store/db.ts";
import { fmt, table } from "./common.ts";

function listTasks(dir: string) {
  const store = Store.openExisting(dir);
  try {
    return store?.listTaskResults() ?? [];
  } finally {
    store?.close();
  }
}

export function lsCommand(): Command {
  return new Command("ls")
    .description("list the runs of a results directory (status, model, target, protocol, verdict)")
    .argument("[dir]", "results directory", DEFAULT_RESULTS_DIR)
    .option("--json", "one JSON object per run (without steps), as a JSON array")
    .addHelpText("after", "\nExample:\n  $ ptalign ls ./ptalign-results")
    .action(async (dir: string, flags: { json?: boolean }) => {
      assertResultsDir(dir);
      const runs = await loadStored(dir, { withSteps: false });
      if (flags.json) {
        process.stdout.write(JSON.stringify(runs.map(({ runs: _r, ...rest }) => rest)) + "\n");
        return;
      }
      const tasks = listTasks(dir);
      if (runs.length === 0 && tasks.length === 0) {
        process.stdout.write(`no runs in ${dir}\n`);
        return;
      }
      if (tasks.length > 0) {
        const taskTable = table(["id", "task", "model", "created"], tasks.map((t) => [t.id, t.task, t.model, t.created.slice(0, 19)]));
        process.stdout.write(`downstream tasks:\n${taskTable}\n${runs.length ? "\n" : ""}`);
        if (runs.length === 0) return;
      }
      const rows = runs.map((r) => [
        r.id,
        r.status,
        r.model,
        targetLabel(r),
        r.protocol,
        String(r.settings?.temperature ?? "—"),
        r.progress.planned ? `${r.progress.steps}/${r.progress.planned}` : String(r.progress.steps),
        fmt(r.metrics?.atvd),
        fmt(r.metrics?.volatility),
        fmt(r.metrics?.leak),
        r.verdict?.type ?? "—",
        r.error ?? "",
      ]);
      process.stdout.write(table(["id", "status", "model", "target", "protocol", "T", "steps", "atvd", "volatility", "leak", "verdict", "error"], rows) + "\n");
    });
}
