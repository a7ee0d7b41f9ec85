// `ptalign merge DIR… --out DIR`: joins results directories (the parts of a study run with --shard i/n) into one.
import { Command } from "commander";
import { mergeStores, type MergeSummary } from "../store/merge.ts";

export function mergeCommand(): Command {
  return new Command("merge")
    .description("combine results directories (e.g. the shards of a study) into one: identical duplicates taken once, conflicting ones refused")
    .argument("<dirs...>", "results directories (or store URLs) to read; never written")
    .requiredOption("-o, --out <dir>", "results directory (or store URL) to merge into; created if missing, what it holds is never replaced")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      `
Examples:
  $ ptalign merge shard-0 shard-1 shard-2 --out results
  $ ptalign merge results-*/ --out results --json

A measurement found twice (same id, or same study cell) is taken once when its data are identical (ids, times and
the machine's engine details aside) and refused in one line when they differ; nothing is written then. Unfinished
measurements are left out (finish them, then merge again). Merging again changes nothing (docs/scale.md).`,
    )
    .action(async (dirs: string[], flags: { out: string; json?: boolean }) => {
      const summary = await mergeStores(dirs, flags.out);
      for (const u of summary.unfinished) {
        process.stderr.write(`ptalign: warning: ${u.count} unfinished measurement${u.count === 1 ? "" : "s"} in ${u.location} left out (finish ${u.count === 1 ? "it" : "them"} with ptalign run STUDY --out ${u.location}, then merge again)\n`);
      }
      if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, sources: dirs, ...summaryJson(summary) }) + "\n");
      else process.stdout.write(summaryText(summary, dirs.length, flags.out) + "\n");
    });
}

function summaryJson(s: MergeSummary) {
  return { added: s.added, duplicates: s.duplicates, tasks_added: s.tasksAdded, task_duplicates: s.taskDuplicates, unfinished: s.unfinished.reduce((n, u) => n + u.count, 0) };
}

function summaryText(s: MergeSummary, sources: number, out: string): string {
  const tasks = s.tasksAdded + s.taskDuplicates > 0 ? `; ${s.tasksAdded} task result${s.tasksAdded === 1 ? "" : "s"} added, ${s.taskDuplicates} already there` : "";
  return `merged ${sources} director${sources === 1 ? "y" : "ies"} into ${out}: ${s.added} measurement${s.added === 1 ? "" : "s"} added, ${s.duplicates} identical duplicate${s.duplicates === 1 ? "" : "s"} taken once${tasks} (ptalign ls ${out})`;
}
