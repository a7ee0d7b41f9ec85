// The decision task's charts (Vega-Lite specs, data only; src/report/tasks.ts renders them): the model's P(B) against
// the people's bRate per two-option problem (the diagonal is a model that matches people), the model's against the
// people's probability of every label of every multi-option item, and the share of D/E verdicts per model and group.

import type * as vl from "vega-lite";
import { modelLabel } from "../task.ts";
import type { ChoiceResult } from "../choice/types.ts";
import type { DecideContextValues } from "./metrics.ts";

type Spec = vl.TopLevelSpec;

const vals = (c: ChoiceResult["contexts"][number]) => c.extra as unknown as DecideContextValues | undefined;

/** Label data (ChaosNLI) goes to the label chart whatever its number of options; choices to the P(B) chart. */
const labelData = (r: ChoiceResult) => r.data.format === "chaosnli";

/** Points (bRate, P(B)) of every scored two-option choice context, coloured by model, shaped by group; the diagonal y = x. */
export function pbVsBrateSpec(results: readonly ChoiceResult[]): Spec | null {
  const values = results.filter((r) => !labelData(r)).flatMap((r) => r.contexts.flatMap((c) => (vals(c)?.p_b !== undefined && !c.off_format ? [{ model: modelLabel(r.model), group: c.group ?? "all", id: c.id, b_rate: vals(c)!.b_rate!, p_b: vals(c)!.p_b! }] : [])));
  if (values.length === 0) return null;
  return {
    title: { text: "P(B): model against people", fontSize: 13 },
    width: 340,
    height: 300,
    layer: [
      { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: "line", color: "#999", strokeDash: [4, 4] }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } },
      {
        data: { values },
        mark: { type: "point", filled: true, opacity: 0.7, aria: true },
        encoding: {
          x: { field: "b_rate", type: "quantitative", title: "people: share choosing B (bRate)", scale: { domain: [0, 1] } },
          y: { field: "p_b", type: "quantitative", title: "model: P_token(B)", scale: { domain: [0, 1] } },
          color: { field: "model", type: "nominal", title: "model" },
          shape: { field: "group", type: "nominal", title: "group" },
          tooltip: [{ field: "id" }, { field: "model" }, { field: "group" }, { field: "b_rate", format: ".3f" }, { field: "p_b", format: ".3f" }],
        },
      },
    ],
  } as Spec;
}

/** Per label of every scored label item (ChaosNLI) or context with three or more options: the people's probability (x) against the model's (y). */
export function labelDistributionSpec(results: readonly ChoiceResult[]): Spec | null {
  const values = results.flatMap((r) =>
    r.contexts.flatMap((c) => (c.ptoken && (labelData(r) || c.options.length > 2) && !c.off_format ? c.options.map((k, i) => ({ model: modelLabel(r.model), id: c.id, label: k, human: c.target[i]!, model_p: c.ptoken![i]! })) : [])),
  );
  if (values.length === 0) return null;
  return {
    title: { text: "label distributions: model against people", fontSize: 13 },
    width: 340,
    height: 300,
    layer: [
      { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: "line", color: "#999", strokeDash: [4, 4] }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } },
      {
        data: { values },
        mark: { type: "point", filled: true, opacity: 0.6, aria: true },
        encoding: {
          x: { field: "human", type: "quantitative", title: "people: share giving the label", scale: { domain: [0, 1] } },
          y: { field: "model_p", type: "quantitative", title: "model: P_token(label)", scale: { domain: [0, 1] } },
          color: { field: "model", type: "nominal", title: "model" },
          shape: { field: "label", type: "nominal", title: "label" },
          tooltip: [{ field: "id" }, { field: "model" }, { field: "label" }, { field: "human", format: ".2f" }, { field: "model_p", format: ".3f" }],
        },
      },
    ],
  } as Spec;
}

/** Stacked bars: the share of each verdict over the contexts of each model (and group). */
export function verdictShareSpec(results: readonly ChoiceResult[]): Spec {
  const values = results.flatMap((r) =>
    [["all", r.metrics] as const, ...Object.entries(r.groups ?? {})].flatMap(([g, a]) => Object.entries(a.verdicts).map(([type, share]) => ({ row: `${modelLabel(r.model)} · ${g}`, verdict: type, share }))),
  );
  return {
    title: { text: "per-context verdicts of the sequential draws", fontSize: 13 },
    width: 340,
    data: { values },
    mark: { type: "bar", aria: true },
    encoding: {
      y: { field: "row", type: "nominal", title: null },
      x: { field: "share", type: "quantitative", title: "share of contexts", stack: "zero", scale: { domain: [0, 1] } },
      color: { field: "verdict", type: "nominal", title: "verdict", scale: { domain: ["E", "D", "collapsed", "mixed", "uncertain", "off-format"] } },
      tooltip: [{ field: "row" }, { field: "verdict" }, { field: "share", format: ".2f" }],
    },
  } as Spec;
}
