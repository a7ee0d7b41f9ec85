// Guidance from stored choice-task results (task decide, and any task built on src/tasks/choice): per task domain —
// one task on one set of contexts — the models ranked by how close their P_token is to the people's distribution,
// and which type (D or E) the data favours. Pure: no model call. docs/tasks.md, "Guidance for choice tasks".
//
// A minimal version: one ranking measure for every choice task (mean TV to P_task at the first draw, with its
// bootstrap interval); a type is "favoured" only when the best model is mostly of one type, a model mostly of the
// other type was measured on the same contexts, and their intervals do not overlap.

import { createHash } from "node:crypto";
import type { TaskResult } from "../types/task.ts";

interface Est {
  mean: number | null;
  ci: [number, number] | null;
}

/** The parts of a choice-task result this reads (src/tasks/choice/types.ts, ChoiceResult). */
interface ChoiceLike extends TaskResult {
  data: { format: string; contexts: number };
  metrics: { tv: Est; verdicts: Partial<Record<string, number>>; decisions?: Partial<Record<string, number>>; extra?: Record<string, unknown> };
  contexts: { id: string; target: number[] }[];
}

const isChoice = (r: TaskResult): r is ChoiceLike => {
  const x = r as Partial<ChoiceLike>;
  return typeof x.data?.format === "string" && Array.isArray(x.contexts) && typeof x.metrics?.tv === "object" && x.metrics.tv !== null;
};

export interface TaskAdviceLine {
  model: string;
  /** Mean TV(P_token, P_task) over the contexts (lower is better). */
  tv: number;
  ci: [number, number] | null;
  /** The type the rules give the model on most contexts at the point estimates (E, D or collapsed when that share is ≥ ½), else "mixed". */
  type: "E" | "D" | "collapsed" | "mixed";
  e_share: number;
  d_share: number;
  id: string | null;
  reason: string;
}

export interface TaskDomainAdvice {
  /** "decide · choices13k · 200 contexts". */
  domain: string;
  task: string;
  format: string;
  contexts: number;
  /** Share of contexts where people are split (their top share ≤ 0.7): where only per-draw matching (E) follows them. */
  split: number;
  ranking: TaskAdviceLine[];
  favours: "E" | "D" | null;
  why: string;
}

const pct = (x: number) => `${Math.round(100 * x)}%`;
const f3 = (x: number) => x.toFixed(3);

function extraNote(extra: Record<string, unknown> | undefined): string {
  const e = (k: string) => (extra?.[k] as Est | undefined)?.mean;
  const parts = [["mse", e("mse")], ["jsd", e("jsd")], ["accuracy", e("accuracy")]].filter((p): p is [string, number] => typeof p[1] === "number");
  return parts.length ? `, ${parts.map(([k, v]) => `${k} ${f3(v)}`).join(", ")}` : "";
}

/** Per task domain (task × the same contexts), models ranked by mean TV, and the favoured type. Latest result per model. */
export function adviseTasks(results: readonly TaskResult[]): TaskDomainAdvice[] {
  const domains = new Map<string, { task: string; format: string; contexts: ChoiceLike["contexts"]; byModel: Map<string, ChoiceLike> }>();
  for (const r of results) {
    if (!isChoice(r) || r.metrics.tv.mean === null) continue;
    const key = `${r.task}/${createHash("sha256").update(JSON.stringify(r.contexts.map((c) => c.id))).digest("hex")}`;
    const d = domains.get(key) ?? { task: r.task, format: r.data.format, contexts: r.contexts, byModel: new Map() };
    domains.set(key, d);
    d.byModel.set(r.model, r); // results come oldest first: the latest wins
  }
  return [...domains.values()].map((d) => {
    const ranking: TaskAdviceLine[] = [...d.byModel.values()]
      .map((r) => {
        // The decisions at the point estimates (few draws leave many verdicts "uncertain"); older results: the verdicts.
        const shares = r.metrics.decisions ?? r.metrics.verdicts;
        const e = shares.E ?? 0;
        const dd = shares.D ?? 0;
        const type = e >= 0.5 ? "E" : dd >= 0.5 ? "D" : (shares.collapsed ?? 0) >= 0.5 ? "collapsed" : "mixed";
        const ci = r.metrics.tv.ci;
        return {
          model: r.model,
          tv: r.metrics.tv.mean!,
          ci,
          type,
          e_share: e,
          d_share: dd,
          id: r.id ?? null,
          reason: `tv ${f3(r.metrics.tv.mean!)}${ci ? ` [${f3(ci[0])}, ${f3(ci[1])}]` : ""}${extraNote(r.metrics.extra)}; E on ${pct(e)}, D on ${pct(dd)} of the contexts; result ${r.id ?? "(unsaved)"}`,
        } satisfies TaskAdviceLine;
      })
      .sort((a, b) => a.tv - b.tv || a.model.localeCompare(b.model));
    const split = d.contexts.filter((c) => Math.max(...c.target) <= 0.7).length / Math.max(1, d.contexts.length);
    const best = ranking[0]!;
    const typed = (l: TaskAdviceLine) => l.type === "E" || l.type === "D";
    const other = ranking.find((l) => typed(l) && typed(best) && l.type !== best.type);
    let favours: "E" | "D" | null = null;
    let why: string;
    if (!typed(best)) why = `the closest model (${best.model}) is neither mostly E nor mostly D (${best.type}), so these models do not show which type the data favours`;
    else if (!other) why = `no ${best.type === "E" ? "D" : "E"}-type model was measured on these contexts; measure one to compare`;
    else if (best.ci && other.ci && best.ci[1] >= other.ci[0]) why = `${best.model} (${best.type}) and ${other.model} (${other.type}) have overlapping tv intervals: not decided`;
    else {
      favours = best.type === "E" ? "E" : "D";
      why = `${best.model} (mostly ${best.type}) is closer to the people than ${other.model} (mostly ${other.type}): tv ${f3(best.tv)} against ${f3(other.tv)}, intervals apart`;
    }
    return { domain: `${d.task} · ${d.format} · ${d.contexts.length} contexts`, task: d.task, format: d.format, contexts: d.contexts.length, split, ranking, favours, why };
  });
}
