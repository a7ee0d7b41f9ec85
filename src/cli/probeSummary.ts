// The probe's part of the printed summary: per block the lens against P_task and the final block, the commit layers,
// the attention to history.
import type { HistoryComparison } from "../analysis/counterfactual.ts";
import type { CounterfactualSummary } from "../probe/counterfactual.ts";
import type { Estimate } from "../probe/interval.ts";
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

/** --counterfactual: the effects with their intervals, then the comparison with analyze's slope in words. */
export function counterfactualText(c: HistoryComparison, s: CounterfactualSummary): string {
  const ci = (e: Estimate) => (e.ci ? `[${fmt(e.ci[0])}, ${fmt(e.ci[1])}]` : "—");
  const rows: [string, Estimate, string][] = [
    ["effect", s.effect, "Δq_t(x) per extra draw of x (plus and minus pooled)"],
    ["log_effect", s.log_effect, "Δ log q_t(x) per extra draw, relative to the other answers"],
    ["plus", s.plus, "one draw of x appended"],
    ["minus", s.minus, "the latest draw of x removed"],
    ["tv_shuffled", s.tv_shuffled, "TV(q_t with the history shuffled, q_t)"],
    ["tv_removed", s.tv_removed, "TV(q_t with no history, q_t)"],
  ];
  return [
    `counterfactual  ${s.steps} steps with a history, ${s.rescored} re-scorings; intervals resample ${s.resampled}`,
    "",
    table(["measure", "value", "95% CI", "meaning"], rows.map(([name, e, meaning]) => [name, fmt(e.value), ci(e), meaning])),
    "",
    c.words,
  ].join("\n");
}
