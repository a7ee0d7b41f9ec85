// The report's charts for continuous targets (docs/report.md): P_token over the bins drawn as a density (probability
// / bin width) against the target's PDF, and the histogram of the numbers written against the PDF. A heatmap over
// hundreds of bins would be unreadable; densities are comparable across precisions.
import type * as vl from "vega-lite";
import { continuousFunctions } from "../distributions/index.ts";
import { stepValue } from "../metrics/index.ts";
import type { RunData } from "./charts.ts";

type Spec = vl.TopLevelSpec;

/** Steps of the first run drawn one by one (more would be a blur); the mean over all steps of all runs is drawn too. */
export const DENSITY_STEPS = 6;
/** Points of the PDF curve across the bins' range. */
const CURVE_POINTS = 240;

function pdfCurve(r: RunData): { x: number; density: number }[] {
  const c = r.target.continuous!;
  const { pdf } = continuousFunctions(c);
  const [lo, hi] = c.range;
  return Array.from({ length: CURVE_POINTS + 1 }, (_, i) => {
    const x = lo + ((hi - lo) * i) / CURVE_POINTS;
    const d = pdf(x);
    return { x, density: Number.isFinite(d) ? d : 0 };
  });
}

/** P_token per step over the bins as a density, the mean over every step, and the target's PDF. */
export function densitySpec(r: RunData): Spec {
  const c = r.target.continuous!;
  const w = c.bin_width;
  const centers = r.target.support.map(Number);
  const run = r.runs.find((x) => x.steps.length > 0);
  const steps = (run?.steps ?? []).slice(0, DENSITY_STEPS);
  const lines = steps.flatMap((s) => centers.map((x, i) => ({ x, density: (s.ptoken[i] ?? 0) / w, series: `step ${s.t}` })));
  const all = r.runs.flatMap((x) => x.steps);
  const mean = centers.map((x, i) => ({ x, density: all.reduce((sum, s) => sum + (s.ptoken[i] ?? 0), 0) / Math.max(1, all.length) / w, series: "mean P_token" }));
  const pdf = pdfCurve(r).map((p) => ({ ...p, series: "target PDF" }));
  const domain = [...steps.map((s) => `step ${s.t}`), "mean P_token", "target PDF"];
  const range = [...steps.map(() => "#9ecae1"), "#08519c", "#000000"];
  const x = { field: "x", type: "quantitative" as const, title: `value (bins of ${Number(w.toPrecision(6))})`, scale: { domain: c.range, nice: false } };
  const y = { field: "density", type: "quantitative" as const, title: "density" };
  return {
    title: { text: `P_token as a density (run ${run ? r.runs.indexOf(run) + 1 : "—"}, first ${steps.length} steps) vs the target PDF`, fontSize: 12 },
    width: 360,
    height: 190,
    layer: [
      { name: "steps", data: { values: lines }, mark: { type: "line", strokeWidth: 1, opacity: 0.7, interpolate: "step" }, encoding: { x, y, detail: { field: "series" }, color: { field: "series", type: "nominal", title: null, scale: { domain, range }, legend: null } } },
      { name: "mean", data: { values: mean }, mark: { type: "line", strokeWidth: 2, interpolate: "step" }, encoding: { x, y, color: { field: "series", type: "nominal", scale: { domain, range }, legend: null } } },
      { name: "pdf", data: { values: pdf }, mark: { type: "line", strokeWidth: 1.5, strokeDash: [4, 2] }, encoding: { x, y, color: { field: "series", type: "nominal", scale: { domain, range }, legend: null } } },
    ],
  } as Spec;
}

/**
 * The numbers written (pooled over runs), as a density histogram on bins of at least the target's bin width (wider
 * when there are few values, so that about 3 land per bin on average), against the PDF.
 */
export function valueHistogramSpec(r: RunData): Spec {
  const c = r.target.continuous!;
  const values = r.runs.flatMap((x) => x.steps.map(stepValue)).filter((v): v is number => v !== null);
  const inside = values.filter((v) => v >= c.range[0] && v < c.range[1]);
  const span = c.range[1] - c.range[0];
  const width = Math.max(c.bin_width, span / Math.max(1, Math.min(60, Math.floor(inside.length / 3))));
  const n = Math.max(1, Math.ceil(span / width));
  const counts = new Array<number>(n).fill(0);
  for (const v of inside) counts[Math.min(n - 1, Math.floor((v - c.range[0]) / width))]!++;
  const bars = counts.map((k, i) => ({ x0: c.range[0] + i * width, x1: c.range[0] + (i + 1) * width, density: values.length ? k / values.length / width : 0 }));
  const x = { type: "quantitative" as const, title: "value", scale: { domain: c.range, nice: false } };
  const outside = values.length - inside.length;
  return {
    title: { text: `values written (n = ${values.length}${outside ? `, ${outside} outside the range` : ""}) vs the PDF`, fontSize: 12 },
    width: 300,
    height: 190,
    layer: [
      { name: "hist", data: { values: bars }, mark: { type: "rect", color: "#9ecae1" }, encoding: { x: { field: "x0", ...x }, x2: { field: "x1" }, y: { field: "density", type: "quantitative", title: "density" }, y2: { datum: 0 } } },
      { name: "pdf", data: { values: pdfCurve(r) }, mark: { type: "line", color: "#000", strokeWidth: 1.5 }, encoding: { x: { field: "x", ...x }, y: { field: "density", type: "quantitative" } } },
    ],
  } as Spec;
}
