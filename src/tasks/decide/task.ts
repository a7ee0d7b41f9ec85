// `ptalign task decide`: human choice rates as P_task (the next action). choices13k (two gambles; P_task = (1 − bRate,
// bRate)), ChaosNLI (100 people's labels per item) or the generic JSONL, measured on the choice-task core
// (src/tasks/choice/). Its own measures: decide/metrics.ts; formulas and departures: docs/tasks.md, "task decide".

import type { TaskPlot, TaskTable } from "../task.ts";
import { modelLabel } from "../task.ts";
import { defineChoiceTask } from "../choice/define.ts";
import type { ChoiceAggregate, ChoiceResult } from "../choice/types.ts";
import { chaosNliReader } from "./chaosnli.ts";
import { choices13kReader } from "./choices13k.ts";
import { decideAggregate, decideValues, type DecideAggregate } from "./metrics.ts";
import { labelDistributionSpec, pbVsBrateSpec, verdictShareSpec } from "./plots.ts";

const extraOf = (a: ChoiceAggregate) => a.extra as unknown as DecideAggregate | undefined;

export function decideTable(results: readonly ChoiceResult[]): TaskTable {
  const rows: (string | number | null)[][] = [];
  const row = (model: string, group: string, a: ChoiceAggregate) => {
    const x = extraOf(a);
    return [modelLabel(model), group, a.contexts, x?.mse.mean ?? null, x?.correlation ?? null, x?.overconfident.mean ?? null, x?.jsd.mean ?? null, a.kl.mean, x?.accuracy.mean ?? null, a.tv.mean, a.decisions?.E ?? 0, a.decisions?.D ?? 0, a.verdicts.uncertain ?? 0, a.order_tv.mean, a.leak.mean];
  };
  for (const r of results) {
    rows.push(row(r.model, "all", r.metrics));
    for (const [g, a] of Object.entries(r.groups ?? {})) rows.push(row(r.model, g, a));
  }
  return { header: ["model", "group", "contexts", "mse_pb", "r_pb", "overconf", "jsd", "kl", "acc", "tv", "E", "D", "uncertain", "order_tv", "leak"], rows };
}

export const decideTask = defineChoiceTask({
  name: "decide",
  description: "decisions: P_token over the options against human choice rates (choices13k, ChaosNLI, JSONL); MSE of P(B), JSD/KL, accuracy, per-context D/E verdict",
  examples: ["ptalign task decide --model sim:e --data ./choices13k --sample 200 --seed 1", "ptalign task decide --model ./model.gguf --data ./chaosNLI_v1.0/chaosNLI_snli.jsonl --limit 100 --draws 8"],
  readers: [choices13kReader, chaosNliReader],
  metrics: [
    { name: "metrics.extra.mse", meaning: "mean (P_token(B) − bRate)² over two-option problems (choices13k's measure), with a 95% bootstrap interval", better: "lower" },
    { name: "metrics.extra.correlation", meaning: "Pearson's r of P_token(B) and bRate over two-option problems", better: "higher" },
    { name: "metrics.extra.overconfident", meaning: "share of problems where the model's top option has P > 0.9 while people are split (top share ≤ 0.7)", better: "lower" },
    { name: "metrics.extra.jsd", meaning: "mean Jensen–Shannon distance to the human label distribution (natural log, as ChaosNLI)", better: "lower" },
    { name: "metrics.extra.jsd_bits", meaning: "the same distance with base-2 logs (in [0, 1])", better: "lower" },
    { name: "metrics.extra.accuracy", meaning: "share of items whose model top label is the majority label", better: "higher" },
  ],
  contextExtra: (ctx, record) => ({ ...decideValues(record, ctx.meta?.majority), ...(ctx.meta ? { meta: ctx.meta } : {}) }),
  aggregateExtra: (records, s, group) => ({ ...decideAggregate(records, s.bootstrap, `${s.seed}/decide/${group}`) }),
  table: decideTable,
  plots(results): TaskPlot[] {
    const out: TaskPlot[] = [];
    const pb = pbVsBrateSpec(results);
    if (pb) out.push({ spec: pb, caption: "choices: the model's P_token(B) against the share of people choosing B; the dashed diagonal is a model that matches people (MSE 0)" });
    const labels = labelDistributionSpec(results);
    if (labels) out.push({ spec: labels, caption: "labels: the model's P_token of each label against the share of the 100 annotators giving it" });
    out.push({ spec: verdictShareSpec(results), caption: "per-context verdicts of the sequential draws: E follows the people's distribution draw after draw; D decides and varies" });
    return out;
  },
});
