// The report's charts: Vega-Lite specs rendered to static SVG in Node (vega View with renderer "none" → toSVG), so
// the HTML needs no script and no network. Text from models and prompts reaches the SVG only through Vega's renderer,
// which escapes it.

import * as vega from "vega";
import * as vl from "vega-lite";
import { DEFAULT_THRESHOLDS, type Thresholds } from "../classify/index.ts";
import { tv } from "../metrics/index.ts";
import { numericSupport } from "../metrics/samples.ts";
import type { Result } from "../types.ts";

/** What a chart reads of a measurement (a stored one may have no metrics yet). */
export type RunData = Pick<Result, "model" | "protocol" | "target" | "runs" | "settings">;

type Spec = vl.TopLevelSpec;

const FONT = "system-ui, -apple-system, Segoe UI, sans-serif";
// No per-mark ARIA labels (they would triple the size of a heatmap); the D/E map's points and regions keep theirs.
const CONFIG = { font: FONT, view: { stroke: "#ccc" }, mark: { aria: false }, axis: { labelFontSize: 10, titleFontSize: 11 }, legend: { labelFontSize: 10, titleFontSize: 11 } };

export const VERDICT_COLORS: Record<string, string> = { D: "#d62728", E: "#2ca02c", collapsed: "#9467bd", mixed: "#7f7f7f", uncertain: "#ff7f0e", "off-format": "#8c564b", running: "#1f77b4" };

export async function renderSvg(spec: Spec): Promise<string> {
  const compiled = vl.compile({ ...spec, config: { ...CONFIG, ...(spec as { config?: object }).config } } as Spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const truncate = (s: string, n = 24) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Longest run drawn step by step in the heatmap (a longer one shows its first HEATMAP_MAX_STEPS steps). */
export const HEATMAP_MAX_STEPS = 300;

/** Rows the heatmap and the histogram draw at most: a wider support is binned or cut to its top answers (supportRows). */
export const MAX_ROWS = 40;

/** How the support is drawn: one row per answer, or per group of answers (each row's probability is its group's sum). */
export interface SupportRows {
  labels: string[];
  /** Support indices of each row. */
  groups: number[][];
  /** Row of each support index. */
  rowOf: number[];
  /** What the chart says about the grouping (null when every answer has its own row). */
  note: string | null;
}

/**
 * Up to MAX_ROWS answers, one row each. A wider numeric support (uniform(1,1000)) is cut into MAX_ROWS bins of
 * consecutive values (in numeric order, equal numbers of answers), so the shape of P_token and P_task stays visible;
 * a wider non-numeric support shows its MAX_ROWS − 1 most probable answers (by the largest of P_task, mean P_token
 * and sample frequency) and sums the rest in one "other" row.
 */
export function supportRows(r: RunData): SupportRows {
  const support = r.target.support;
  const K = support.length;
  const rowsFrom = (groups: number[][], labels: string[], note: string | null): SupportRows => {
    const rowOf = new Array<number>(K).fill(0);
    groups.forEach((g, row) => g.forEach((i) => (rowOf[i] = row)));
    return { labels, groups, rowOf, note };
  };
  if (K <= MAX_ROWS) return rowsFrom(support.map((_, i) => [i]), [...support], null);
  const values = numericSupport(support);
  if (values) {
    const order = support.map((_, i) => i).sort((i, j) => values[i]! - values[j]!);
    const per = Math.ceil(K / MAX_ROWS);
    const groups: number[][] = [];
    for (let s = 0; s < K; s += per) groups.push(order.slice(s, s + per));
    const labels = groups.map((g) => (g.length === 1 ? support[g[0]!]! : `${support[g[0]!]}–${support[g.at(-1)!]}`));
    return rowsFrom(groups, labels, `binned: ${per} answers per row, summed`);
  }
  // An answer's weight: the largest probability it has anywhere (P_task or any step), so a spike at one step shows.
  const score = [...r.target.probs];
  for (const run of r.runs) for (const s of run.steps) s.ptoken.forEach((q, i) => (score[i] = Math.max(score[i]!, q)));
  const order = support.map((_, i) => i).sort((i, j) => score[j]! - score[i]! || i - j);
  const top = order.slice(0, MAX_ROWS - 1).sort((i, j) => i - j);
  const rest = order.slice(MAX_ROWS - 1).sort((i, j) => i - j);
  const labels = [...top.map((i) => support[i]!), `other (${rest.length} answers)`];
  return rowsFrom([...top.map((i) => [i]), rest], labels, `top ${top.length} of ${K} answers, the rest summed`);
}

const sumOf = (probs: readonly number[], group: readonly number[]) => group.reduce((s, i) => s + (probs[i] ?? 0), 0);

/** A probability as the heatmap prints it: two decimals, but never a small value rounded up (0.005 stays "0.005"). */
export function probLabel(p: number): string {
  if (p === 0) return "0";
  if (p < 0.01) return Number(p.toPrecision(1)).toString();
  return p.toFixed(2);
}

/** P_token per step of one run as a heatmap over the support (answer × step), the sample drawn marked, P_task beside. */
export function heatmapSpec(r: RunData, runIndex = 0): Spec {
  const full = r.runs[runIndex];
  const cut = full && full.steps.length > HEATMAP_MAX_STEPS;
  const run = full && cut ? { ...full, steps: full.steps.slice(0, HEATMAP_MAX_STEPS) } : full;
  const rows = supportRows(r);
  const index = new Map(r.target.support.map((a, i) => [a, i]));
  const cells = (run?.steps ?? []).flatMap((s) => rows.labels.map((a, row) => ({ t: s.t, answer: a, p: sumOf(s.ptoken, rows.groups[row]!) })));
  const samples = (run?.steps ?? []).filter((s) => s.sample !== null && index.has(s.sample)).map((s) => ({ t: s.t, answer: rows.labels[rows.rowOf[index.get(s.sample!)!]!]!, mark: "sample drawn" }));
  const steps = run?.steps.length ?? 0;
  const cell = Math.max(2, Math.min(11, Math.floor(330 / Math.max(1, steps))));
  const rowH = Math.max(11, Math.min(22, Math.floor(220 / rows.labels.length)));
  // The order comes from the scale's domain, not from `sort: [...]`: Vega-Lite compiles a sort list into one nested
  // expression per answer, which overflows Vega's expression parser on a wide support.
  const y = { field: "answer", type: "nominal" as const, sort: null, scale: { domain: rows.labels }, title: rows.note ? `answer (${rows.note})` : "answer", axis: { labelLimit: 90 } };
  const color = { field: "p", type: "quantitative" as const, title: "probability", scale: { domain: [0, 1], scheme: "blues" } };
  return {
    hconcat: [
      {
        title: { text: `P_token per step (run ${runIndex + 1}, seed ${run?.seed ?? "—"}${cut ? `, first ${HEATMAP_MAX_STEPS} of ${full.steps.length} steps` : ""})`, fontSize: 12 },
        width: cell * Math.max(1, steps),
        height: rowH * rows.labels.length,
        layer: [
          { name: "heat", data: { values: cells }, mark: { type: "rect" }, encoding: { x: { field: "t", type: "ordinal", title: "step", axis: { labelOverlap: true, labelAngle: 0 } }, y, color } },
          {
            name: "drawn",
            data: { values: samples },
            mark: { type: "point", shape: "circle", size: Math.min(30, cell * 2), color: "#e6550d", filled: true },
            encoding: { x: { field: "t", type: "ordinal" }, y, shape: { field: "mark", type: "nominal", title: null, scale: { domain: ["sample drawn"], range: ["circle"] }, legend: { orient: "bottom", symbolFillColor: "#e6550d", symbolStrokeColor: "#e6550d" } } },
          },
        ],
      },
      {
        title: { text: "P_task", fontSize: 12 },
        width: 34,
        height: rowH * rows.labels.length,
        data: { values: rows.labels.map((a, row) => { const p = sumOf(r.target.probs, rows.groups[row]!); return { answer: a, p, label: probLabel(p) }; }) },
        layer: [
          { name: "task", mark: "rect", encoding: { y: { ...y, axis: null }, color } },
          { mark: { type: "text", fontSize: 9 }, encoding: { y: { ...y, axis: null }, text: { field: "label" }, color: { condition: { test: "datum.p > 0.5", value: "white" }, value: "black" } } },
        ],
      },
    ],
    resolve: { scale: { color: "shared", y: "shared" } },
  } as Spec;
}

/** Per-step TV(q_t, p) and TV(q_t, q_t−1), mean over runs (runs shorter than a step do not count at that step). */
export function tvSeries(r: RunData): { t: number; series: string; tv: number }[] {
  const sums = new Map<string, { s: number; n: number }>();
  const add = (t: number, series: string, v: number) => {
    const key = `${series}\u0000${t}`;
    const cur = sums.get(key) ?? { s: 0, n: 0 };
    cur.s += v;
    cur.n++;
    sums.set(key, cur);
  };
  for (const run of r.runs) {
    run.steps.forEach((s, i) => {
      add(s.t, "TV(q_t, p)", tv(s.ptoken, r.target.probs));
      if (i > 0) add(s.t, "TV(q_t, q_t−1)", tv(s.ptoken, run.steps[i - 1]!.ptoken));
    });
  }
  return [...sums.entries()].map(([k, v]) => ({ series: k.split("\u0000")[0]!, t: Number(k.split("\u0000")[1]), tv: v.s / v.n }));
}

export function tvSpec(r: RunData): Spec {
  return {
    title: { text: `TV over steps (mean of ${r.runs.length} run${r.runs.length === 1 ? "" : "s"})`, fontSize: 12 },
    width: 260,
    height: 170,
    data: { values: tvSeries(r) },
    mark: { type: "line", point: { size: 12 }, strokeWidth: 1.5 },
    encoding: {
      x: { field: "t", type: "quantitative", title: "step", axis: { tickMinStep: 1 } },
      y: { field: "tv", type: "quantitative", title: "total variation", scale: { domain: [0, 1] } },
      color: { field: "series", type: "nominal", title: null, scale: { domain: ["TV(q_t, p)", "TV(q_t, q_t−1)"], range: ["#1f77b4", "#d62728"] }, legend: { orient: "top" } },
    },
  } as Spec;
}

/** Pooled sample frequencies against P_task (a wide support grouped as in the heatmap, supportRows). */
export function histogramSpec(r: RunData): Spec {
  const rows = supportRows(r);
  const index = new Map(r.target.support.map((a, i) => [a, i]));
  const counts = new Array<number>(rows.labels.length).fill(0);
  let n = 0;
  for (const run of r.runs)
    for (const s of run.steps) {
      const i = s.sample === null ? undefined : index.get(s.sample);
      if (i === undefined) continue;
      counts[rows.rowOf[i]!]!++;
      n++;
    }
  const values = rows.labels.map((a, row) => ({ answer: a, samples: n > 0 ? counts[row]! / n : 0, p_task: sumOf(r.target.probs, rows.groups[row]!) }));
  const x = { field: "answer", type: "nominal" as const, sort: null, scale: { domain: rows.labels }, title: rows.note ? `answer (${rows.note})` : "answer", axis: { labelAngle: rows.labels.length > 12 ? -60 : 0, labelLimit: 80, labelOverlap: true } };
  const legend = { scale: { domain: ["samples (frequency)", "P_task"], range: ["#9ecae1", "#08306b"] }, title: null, legend: { orient: "top" as const, symbolType: "square" } };
  return {
    title: { text: `samples (n = ${n}) vs P_task`, fontSize: 12 },
    width: Math.max(160, Math.min(360, 28 * rows.labels.length)),
    height: 170,
    data: { values },
    layer: [
      { name: "hist", mark: { type: "bar" }, encoding: { x, y: { field: "samples", type: "quantitative", title: "frequency" }, color: { datum: "samples (frequency)", ...legend } } },
      { name: "ptask", mark: { type: "tick", thickness: 2.5 }, encoding: { x, y: { field: "p_task", type: "quantitative" }, color: { datum: "P_task", ...legend } } },
    ],
  } as Spec;
}

export interface MapPoint {
  label: string;
  model: string;
  target: string;
  verdict: string;
  atvd: number;
  volatility: number;
  atvd_lo: number;
  atvd_hi: number;
  vol_lo: number;
  vol_hi: number;
}

/**
 * The D/E map: every measurement at (atvd, volatility) with its 95% intervals, over the verdict regions of the
 * thresholds. E is a box (atvd ≤ e_atvd, volatility ≤ e_volatility); D is the band volatility ≥ d_volatility (it
 * also needs concentration ≥ d_concentration, which this plane does not show); elsewhere mixed or collapsed.
 */
export function scatterSpec(points: MapPoint[], th: Thresholds = DEFAULT_THRESHOLDS): Spec {
  const regions = [
    { region: "E region", x0: 0, x1: th.e_atvd, y0: 0, y1: th.e_volatility, color: "#2ca02c", tx: th.e_atvd / 2, ty: th.e_volatility / 2, text: "E" },
    { region: "D region", x0: 0, x1: 1, y0: th.d_volatility, y1: 1, color: "#d62728", tx: 0.5, ty: (1 + th.d_volatility) / 2, text: `D (if concentration ≥ ${th.d_concentration})` },
  ];
  const x = { type: "quantitative" as const, scale: { domain: [0, 1] }, title: "atvd = mean_t TV(q_t, p)" };
  const y = { type: "quantitative" as const, scale: { domain: [0, 1] }, title: "volatility = mean_t TV(q_t, q_t−1)" };
  const models = new Set(points.map((p) => p.model)).size;
  return {
    title: { text: "D/E map: every measurement on (atvd, volatility), 95% intervals", fontSize: 13 },
    width: 420,
    height: 380,
    layer: [
      { name: "regions", data: { values: regions }, mark: { type: "rect", opacity: 0.12, aria: true }, encoding: { x: { field: "x0", ...x }, x2: { field: "x1" }, y: { field: "y0", ...y }, y2: { field: "y1" }, color: { field: "color", type: "nominal", scale: null }, description: { field: "region" } } },
      { data: { values: regions }, mark: { type: "text", fontSize: 12, fontWeight: "bold", opacity: 0.55 }, encoding: { x: { field: "tx", ...x }, y: { field: "ty", ...y }, text: { field: "text" }, color: { field: "color", type: "nominal", scale: null } } },
      { data: { values: [{ tx: 0.62, ty: th.d_volatility / 2, text: "mixed / collapsed" }] }, mark: { type: "text", fontSize: 11, opacity: 0.45 }, encoding: { x: { field: "tx", ...x }, y: { field: "ty", ...y }, text: { field: "text" } } },
      { data: { values: points }, mark: { type: "rule", color: "#444", opacity: 0.6 }, encoding: { x: { field: "atvd_lo", ...x }, x2: { field: "atvd_hi" }, y: { field: "volatility", ...y } } },
      { data: { values: points }, mark: { type: "rule", color: "#444", opacity: 0.6 }, encoding: { x: { field: "atvd", ...x }, y: { field: "vol_lo", ...y }, y2: { field: "vol_hi" } } },
      {
        name: "points",
        data: { values: points.map((p) => ({ ...p, model: truncate(p.model, 40), state: p.verdict === "running" ? "running" : "done" })) },
        mark: { type: "point", filled: true, size: 80, strokeWidth: 1, stroke: "#222", aria: true },
        encoding: {
          x: { field: "atvd", ...x },
          y: { field: "volatility", ...y },
          color: { field: "model", type: "nominal", title: "model", scale: { scheme: models > 10 ? "category20" : "category10" }, legend: { labelLimit: 220 } },
          shape: { field: "target", type: "nominal", title: "target", legend: { labelLimit: 220 } },
          opacity: { condition: { test: "datum.state === 'running'", value: 0.35 }, value: 0.95 },
          description: { field: "label" },
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
  } as Spec;
}
