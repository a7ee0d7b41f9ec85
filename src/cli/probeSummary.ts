// The probe's part of the printed summary: per block the lens against P_task and the final block, the commit layers,
// the attention to history.
import type { ProbeSummary } from "../probe/types.ts";
import { fmt, table } from "./common.ts";

export function probeText(p: ProbeSummary): string {
  const lines: string[] = [`probe     ${p.layers} blocks, ${p.steps} steps`];
  if (p.lens || p.attention) {
    const rows = Array.from({ length: p.layers }, (_, l) => {
      const lens = p.lens?.[l];
      const att = p.attention?.[l];
      return [String(l), fmt(lens?.tv_task), fmt(lens?.tv_final), fmt(lens?.entropy), fmt(lens?.leak), fmt(att?.history), fmt(att?.target), fmt(att?.prompt)];
    });
    lines.push("", table(["block", "tv_task", "tv_final", "entropy", "leak", "att_history", "att_target", "att_prompt"], rows));
  }
  if (p.commit_histogram) {
    const hist = Object.entries(p.commit_histogram).map(([k, n]) => `${k}: ${n}`).join(", ");
    lines.push("", `commit    median block ${p.commit_median ?? "none"} (steps per commit block: ${hist})`);
  }
  return lines.join("\n");
}
