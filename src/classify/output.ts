// Verdict notes about the model's output itself rather than P_token's shape: answers the batch protocol could not
// parse, and runs that stopped early because of them (docs/classification.md, "Unparseable answers").
import { countUnparsed } from "../metrics/index.ts";
import type { Run } from "../types.ts";

/** Reasons to append to a verdict: how many steps were unparseable, and which runs stopped and why. Empty when none. */
export function outputNotes(runs: readonly Run[]): string[] {
  const notes: string[] = [];
  const total = runs.reduce((n, r) => n + r.steps.length, 0);
  const bad = countUnparsed(runs);
  if (bad > 0) {
    notes.push(
      `${bad} of ${total} steps (${((100 * bad) / total).toFixed(1)}%) wrote an answer that could not be parsed (sample null, text kept as raw): ` +
        `P_token was still read at every answer position; the sample statistics count only the ${total - bad} parsed samples`,
    );
  }
  runs.forEach((r, i) => {
    if (r.stopped) notes.push(`run #${i + 1} (seed ${r.seed}) stopped after ${r.steps.length} steps: ${r.stopped}`);
  });
  return notes;
}
