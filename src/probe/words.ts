// The probe's summary in words, for the report and `ptalign analyze`.
import type { ProbeSummary } from "./types.ts";

/** The probe summary in words (report and analyze). */
export function probeWords(s: ProbeSummary): string {
  const parts: string[] = [`${s.layers} blocks, ${s.steps} steps probed`];
  if (s.lens && s.lens.length > 0) {
    const last = s.lens[s.lens.length - 1]!;
    const best = s.lens.reduce((a, b) => (b.tv_task < a.tv_task ? b : a));
    parts.push(`the final top answer is settled from block ${s.commit_median ?? "— (never)"} (median commit layer)`);
    parts.push(`TV to P_task is lowest at block ${best.layer} (${best.tv_task.toFixed(3)}; last block ${last.tv_task.toFixed(3)})`);
    // The first block from which every later block's lens stays within TV 0.05 of the last block's (mean over steps).
    let settled = s.lens.length - 1;
    while (settled > 0 && s.lens[settled - 1]!.tv_final < 0.05) settled--;
    parts.push(`the lens stays within TV 0.05 of the last block from block ${settled}`);
  }
  if (s.attention && s.attention.length > 0) {
    const peak = s.attention.reduce((a, b) => (b.history > a.history ? b : a));
    const mean = s.attention.reduce((a, b) => a + b.history, 0) / s.attention.length;
    parts.push(`attention to the earlier samples averages ${mean.toFixed(3)} per block, most at block ${peak.layer} (${peak.history.toFixed(3)})`);
  }
  return parts.join("; ");
}
