// The report: one self-contained HTML page (inline CSS, inline SVG charts, a few lines of inline script for sorting
// and, in `view`, live refresh). Every string that comes from a model, a prompt or a file goes through esc().

import { createHash } from "node:crypto";
import { DEFAULT_THRESHOLDS, type Thresholds } from "../classify/index.ts";
import type { Result } from "../types.ts";
import { heatmapSpec, histogramSpec, renderSvg, scatterSpec, tvSpec, VERDICT_COLORS, type MapPoint } from "./charts.ts";
import { densitySpec, valueHistogramSpec } from "./density.ts";
import { analyzeRuns } from "../analysis/properties.ts";
import { counterfactualBlock } from "./counterfactual.ts";
import { esc } from "./escape.ts";
import { htmlMetrics, metricValue, type MetricDef } from "../metrics/index.ts";
import { logitBiasOf, promptNameOf } from "../config/recorded.ts";
import { targetLabel, type StoredRun } from "../store/read.ts";
import { taskReportSection } from "./tasks.ts";
import { probeSection } from "./probe.ts";
import type { TaskResult } from "../types/task.ts";

export { esc };

export interface ReportOptions {
  /** Shown in the title (usually the results directory). */
  source: string;
  thresholds?: Thresholds;
  /** `view`: poll this URL and reload when what it returns changes. */
  live?: { versionUrl: string; version: string };
  now?: Date;
  /** Downstream task results (DIR/tasks): their charts go after the comparison table. */
  tasks?: readonly TaskResult[];
  /**
   * How many measurements get their charts inline (default CHART_LIMIT; Infinity: all). Above it every section is
   * compact (verdict, reasons, analysis; no charts): three charts per measurement made a 2,000-cell study's report
   * 96 MB and 78 s. `view` loads a compact section's charts on demand from `onDemand` + the measurement's id.
   */
  charts?: number;
  onDemand?: string;
}

/** Measurements whose charts a report shows inline by default; a larger directory gets compact sections. */
export const CHART_LIMIT = 100;

const num = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(d));

function runSettings(r: Pick<Result, "settings">) {
  const s = r.settings ?? {};
  return { temperature: s.temperature as number | undefined, seed: s.seed as number | undefined, steps: s.steps as number | undefined, runs: s.runs as number | undefined };
}

/** The study prompt a measurement used ("default" for the built-in template and for single runs). */
const promptOf = (r: Pick<Result, "settings">) => promptNameOf(r.settings);

const anchor = (r: StoredRun) => `run-${r.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;

export async function buildReport(all: StoredRun[], opts: ReportOptions): Promise<string> {
  const th = opts.thresholds ?? DEFAULT_THRESHOLDS;
  const runs = all.filter((r) => r.runs.some((x) => x.steps.length > 0) || r.status === "failed");
  // Several prompts in one directory (a study's prompts: axis): group by prompt — a prompt column, the table and
  // the sections ordered by prompt (stable, so the stored order stays within a prompt), the prompt in the map's labels.
  const byPrompt = new Set(runs.map(promptOf)).size > 1;
  if (byPrompt) runs.sort((a, b) => promptOf(a).localeCompare(promptOf(b)));
  const measured = runs.filter((r) => r.metrics && r.verdict);
  const name = targetNames(all);
  const points: MapPoint[] = measured.map((r) => ({
    label: `${short(r.model, 80)} · ${short(name(r), 80)}${byPrompt ? ` · prompt ${short(promptOf(r), 40)}` : ""} · ${r.protocol} · T=${runSettings(r).temperature ?? "?"} · ${r.status === "done" ? r.verdict!.type : r.status}`,
    model: r.model,
    target: short(name(r), 60),
    verdict: r.status === "done" ? r.verdict!.type : "running",
    atvd: r.metrics!.atvd,
    volatility: r.metrics!.volatility,
    atvd_lo: r.verdict!.ci.atvd[0],
    atvd_hi: r.verdict!.ci.atvd[1],
    vol_lo: r.verdict!.ci.volatility[0],
    vol_hi: r.verdict!.ci.volatility[1],
  }));
  const scatter = points.length > 0 ? await renderSvg(scatterSpec(points, th)) : "";

  const limit = opts.charts ?? CHART_LIMIT;
  const compact = runs.length > limit ? (opts.onDemand !== undefined ? { onDemand: opts.onDemand } : { onDemand: undefined }) : undefined;
  const sections: string[] = [];
  for (const r of runs) sections.push(await runSection(r, name, byPrompt, compact));

  const done = runs.filter((r) => r.status === "done").length;
  const running = runs.filter((r) => r.status === "running").length;
  const failed = runs.filter((r) => r.status === "failed").length;
  const interrupted = runs.filter((r) => r.status === "interrupted").length;
  const now = (opts.now ?? new Date()).toISOString().replace("T", " ").slice(0, 19);
  // The page's one script is allowed by its hash: an injected inline handler or <script> could not run even if
  // something escaped esc().
  const script = SORT_JS + (opts.live ? liveJs(opts.live) : "") + (compact?.onDemand !== undefined ? ON_DEMAND_JS : "");
  const hash = createHash("sha256").update(script).digest("base64");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-${hash}'${opts.live ? "; connect-src 'self'" : ""}">
<title>ptalign report — ${esc(opts.source)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>ptalign report</h1>
<p class="meta">${esc(opts.source)} · ${runs.length} measurement${runs.length === 1 ? "" : "s"} (${done} done${running ? `, ${running} running` : ""}${failed ? `, ${failed} failed` : ""}${interrupted ? `, ${interrupted} interrupted` : ""}) · generated ${esc(now)} UTC${opts.live ? ' · <span id="live">live: refreshes while a study runs</span>' : ""}</p>
<p class="meta">Per step, P_token (q_t) is compared with P_task (p): <b>atvd</b> = mean_t TV(q_t, p), <b>volatility</b> = mean_t TV(q_t, q_t−1). E: atvd ≤ ${th.e_atvd} and volatility ≤ ${th.e_volatility}; D: concentration ≥ ${th.d_concentration} and volatility ≥ ${th.d_volatility}; collapsed: concentration ≥ ${th.d_concentration}, volatility &lt; ${th.d_volatility}, marginal_tvd ≥ ${th.collapsed_marginal}; otherwise mixed; uncertain when a 95% interval (or the mass left unresolved by pruning or a server's top-k) crosses the deciding threshold; <b>off-format</b>, before any rule, when the mean leak (mass outside the answers) exceeds ${th.off_format_leak}: the model rarely writes an answer, so the shape of P_token is not judged.</p>
</header>
${compact ? `<p class="meta compact-note">${runs.length} measurements: the sections below are compact (no charts inline, which kept the page small and fast to render). ${compact.onDemand !== undefined ? "Each section's “show charts” loads its charts." : `<code>ptalign view ${esc(opts.source)}</code> loads each measurement's charts on demand; <code>ptalign report ${esc(opts.source)} --charts all</code> puts them all inline.`}</p>` : ""}
${runs.length === 0 ? '<p class="empty">No runs stored yet.</p>' : ""}
${scatter ? `<section id="map"><div class="chart" data-chart="scatter">${scatter}</div></section>` : ""}
${runs.length > 0 ? `<section id="compare"><h2>Comparison</h2><p class="hint">Click a column to sort. Intervals are 95% bootstrap intervals over runs.</p><div class="scroll">${comparisonTable(runs, name, byPrompt)}</div></section>` : ""}
${await taskReportSection(opts.tasks ?? [])}
${sections.join("\n")}
<script>${script}</script>
</body>
</html>
`;
}

function verdictBadge(r: StoredRun): string {
  if (r.status === "failed") return `<span class="badge failed">failed</span>`;
  if (!r.verdict) return `<span class="badge running">running</span>`;
  // An interrupted measurement is unfinished like a running one: its verdict is of the steps so far.
  const unfinished = r.status === "running" || r.status === "interrupted";
  const type = unfinished ? "running" : r.verdict.type;
  const text = unfinished ? `${r.status} (so far ${r.verdict.type})` : r.verdict.type;
  return `<span class="badge" style="background:${VERDICT_COLORS[type] ?? "#777"}">${esc(text)}</span>`;
}

/** A long text (a 10,000-answer target, a huge model name) cut for the page; the cell's title carries more of it. */
const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const shortHtml = (s: string, n: number) => (s.length > n ? `<span title="${esc(short(s, 2000))}">${esc(short(s, n))}</span>` : esc(s));

/**
 * One name per distinct P_task: equal targets written differently (a study's "extreme", a run's
 * {1:0.1,2:0.7,3:0.1,4:0.1}) are one target, named by the shortest of their labels.
 */
export function targetNames(runs: readonly StoredRun[]): (r: StoredRun) => string {
  const key = (r: StoredRun) => JSON.stringify([r.target.support, r.target.probs.map((p) => Math.round(p * 1e9))]);
  const best = new Map<string, string>();
  for (const r of runs) {
    const k = key(r);
    const label = targetLabel(r);
    const cur = best.get(k);
    if (cur === undefined || label.length < cur.length || (label.length === cur.length && label < cur)) best.set(k, label);
  }
  return (r) => best.get(key(r)) ?? targetLabel(r);
}

function comparisonTable(runs: StoredRun[], name: (r: StoredRun) => string, byPrompt: boolean): string {
  // The metric columns are the registry's (src/metrics/registry.ts), in html.rank order.
  const metrics = htmlMetrics();
  const head = [...(byPrompt ? ["prompt"] : []), "model", "target", "protocol", "T", "seed", "runs × steps", "verdict", ...metrics.map((d) => (d.html!.ci ? `${d.name} [95% CI]` : d.name)), "status"];
  const cell = (text: string, sort: string | number | null | undefined, cls = "") => `<td${cls ? ` class="${cls}"` : ""} data-v="${esc(sort ?? "")}">${text}</td>`;
  const rows = runs.map((r) => {
    const s = runSettings(r);
    const steps = r.runs.reduce((n, x) => Math.max(n, x.steps.length), 0);
    return `<tr>${[
      ...(byPrompt ? [cell(shortHtml(promptOf(r), 40), promptOf(r))] : []),
      cell(`<a href="#${anchor(r)}">${shortHtml(r.model, 60)}</a>`, short(r.model, 200)),
      cell(shortHtml(name(r), 60), short(name(r), 200)),
      cell(esc(r.protocol), r.protocol),
      cell(esc(s.temperature ?? "—"), s.temperature, "n"),
      cell(esc(s.seed ?? "—"), s.seed, "n"),
      cell(`${r.runs.length} × ${steps}`, r.runs.length * steps, "n"),
      cell(verdictBadge(r), r.status === "done" ? (r.verdict?.type ?? "") : r.status),
      ...metrics.map((d) => metricCell(d, r, cell)),
      cell(esc(r.status), r.status),
    ].join("")}</tr>`;
  });
  return `<table class="sortable"><thead><tr>${head.map((h, i) => `<th data-col="${i}" tabindex="0">${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("\n")}</tbody></table>`;
}

/** A metric's cell: the value (with the verdict's interval when the metric has one), flagged above its warning threshold. */
function metricCell(d: MetricDef, r: StoredRun, cell: (text: string, sort: string | number | null | undefined, cls?: string) => string): string {
  const spec = d.html!;
  const v = metricValue(r.metrics, d);
  const digits = spec.digits ?? d.format.digits;
  if (spec.ci) {
    const ci = (r.verdict?.ci as Record<string, [number, number] | undefined> | undefined)?.[d.name];
    return cell(r.metrics ? `${num(v, digits)} <small>[${num(ci?.[0], digits)}, ${num(ci?.[1], digits)}]</small>` : "—", v, "n");
  }
  const limit = spec.warn ? DEFAULT_THRESHOLDS[spec.warn.threshold as keyof Thresholds] : undefined;
  const warn = limit !== undefined && (v ?? 0) > limit;
  return cell(`${num(v, digits)}${warn ? ` <span title="${esc(spec.warn!.title)}">⚠</span>` : ""}`, v, warn ? "n warn" : "n");
}

/**
 * The detail of one measurement: its charts (the heat map, TV over steps and the histogram; density charts for a
 * continuous target), a probe's charts, the analysis line and the counterfactual histories. The costly part of a
 * section (vega renders, analyzeRuns ~15 ms): a compact section leaves it out and `view` loads it on demand.
 */
export async function runDetail(r: StoredRun): Promise<string> {
  if (!r.runs.some((x) => x.steps.length > 0)) return "";
  return `${await runCharts(r)}${await probeSection(r.runs)}${analysisLine(r)}${await counterfactualBlock(r)}`;
}

async function runCharts(r: StoredRun): Promise<string> {
  return `<div class="charts">
${r.target.continuous
  ? `<div class="chart" data-chart="density">${await renderSvg(densitySpec(r))}</div>
<div class="chart" data-chart="tv">${await renderSvg(tvSpec(r))}</div>
<div class="chart" data-chart="values">${await renderSvg(valueHistogramSpec(r))}</div>`
  : `<div class="chart" data-chart="heatmap">${await renderSvg(heatmapSpec(r))}</div>
<div class="chart" data-chart="tv">${await renderSvg(tvSpec(r))}</div>
<div class="chart" data-chart="histogram">${await renderSvg(histogramSpec(r))}</div>`}
</div>`;
}

/** A section without inline charts (large reports): a button that loads them in `view`, nothing in a static file. */
function chartsPlaceholder(r: StoredRun, onDemand: string | undefined): string {
  if (onDemand === undefined || !r.runs.some((x) => x.steps.length > 0)) return "";
  return `<div class="charts" data-src="${esc(onDemand + encodeURIComponent(r.id))}"><button type="button" class="load">show charts</button></div>`;
}

async function runSection(r: StoredRun, name: (r: StoredRun) => string, byPrompt: boolean, compact?: { onDemand: string | undefined }): Promise<string> {
  const s = runSettings(r);
  const title = `${shortHtml(r.model, 120)} <span class="on">on</span> ${shortHtml(name(r), 120)}${r.target.support.length > 12 ? ` <span class="on">(${r.target.support.length} answers)</span>` : ""}`;
  const sub = `${byPrompt ? `prompt ${shortHtml(promptOf(r), 60)} · ` : ""}${esc(r.protocol)} · temperature ${esc(s.temperature ?? "—")} · seed ${esc(s.seed ?? "—")} · ${r.runs.length} run${r.runs.length === 1 ? "" : "s"} · id ${esc(r.id)}`;
  const hasSteps = r.runs.some((x) => x.steps.length > 0);
  const charts = compact ? chartsPlaceholder(r, compact.onDemand) : hasSteps ? await runCharts(r) : "";
  const analysis = !compact && hasSteps ? analysisLine(r) + (await counterfactualBlock(r)) : "";
  // A number counted in its bin keeps its text as raw too ("0.37" → 0.4): only answers with no sample are outside.
  const offSupport = r.runs.flatMap((run, i) => run.steps.filter((st) => st.raw !== undefined && st.sample === null).map((st) => ({ run: i + 1, t: st.t, raw: st.raw! })));
  const raw = offSupport.length
    ? `<details class="raw"><summary>${offSupport.length} answer${offSupport.length === 1 ? "" : "s"} outside the support (model output, shown as text)</summary><ul>${offSupport
        .slice(0, 200)
        .map((o) => `<li>run ${o.run}, step ${o.t}: <code>${esc(o.raw)}</code></li>`)
        .join("")}</ul></details>`
    : "";
  const prompt = promptText(r);
  const reasons = r.verdict?.reasons.length ? `<ul class="reasons">${r.verdict.reasons.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>` : "";
  const error = r.error ? `<p class="error">${esc(r.error)}</p>` : "";
  return `<section class="run" id="${anchor(r)}">
<h2>${title} ${verdictBadge(r)}</h2>
<p class="meta">${sub}</p>
${error}${charts}${!compact && hasSteps ? await probeSection(r.runs) : ""}${reasons}${analysis}${correctionTable(r)}${raw}${prompt ? `<details class="prompt"><summary>prompt</summary><pre>${esc(prompt)}</pre></details>` : ""}
</section>`;
}

/** Internal properties of the measurement (docs/metrics.md, "Analysis"): why the verdict is what it is. */
function analysisLine(r: StoredRun): string {
  const a = analyzeRuns(r.target, r.runs);
  const h = a.history;
  const T = a.effective_temperature;
  const parts = [
    `history coefficient ${num(h.coefficient)}${h.ci ? ` [${num(h.ci[0])}, ${num(h.ci[1])}]` : ""}`,
    `argmax lag-1 autocorrelation ${num(a.argmax_autocorr)}`,
    T ? `effective temperature ${num(T.T)} (atvd there ${num(T.atvd)}, recorded ${num(T.atvdAt1)})` : "",
    `top-1 margin ${num(a.top1_margin)}`,
    `mass on the support ${num(a.support_mass)}`,
    a.entropy_full !== null
      ? `full-vocabulary entropy ${num(a.entropy_full)} nats`
      : a.entropy_full_bounds
        ? `full-vocabulary entropy ≥ ${num(a.entropy_full_bounds[0])}${a.entropy_full_bounds[1] !== null ? ` and ≤ ${num(a.entropy_full_bounds[1])}` : ""} nats (top-k bound)`
        : "",
  ].filter(Boolean);
  return `<p class="analysis"><b>analysis</b>: ${parts.map(esc).join(" · ")}</p>`;
}

/** A run stored by `ptalign correct`: the metrics before the logit bias and with it. */
function correctionTable(r: StoredRun): string {
  const c = r.settings?.correction as { before?: Record<string, number>; after?: Record<string, number>; iterations?: number } | undefined;
  if (!c?.before || !c.after) return "";
  const keys = ["atvd", "marginal_tvd", "volatility"];
  const row = (label: string, m: Record<string, number>) => `<tr><td>${label}</td>${keys.map((k) => `<td>${num(m[k])}</td>`).join("")}</tr>`;
  const bias = logitBiasOf(r.settings);
  const biasText = bias ? Object.entries(bias).map(([a, b]) => `${a} ${b >= 0 ? "+" : ""}${b.toFixed(3)}`).join(", ") : "";
  return `<div class="correction"><b>logit-bias correction</b> (${esc(c.iterations ?? "?")} iterations; bias ${esc(biasText)})<table><thead><tr><th></th>${keys.map((k) => `<th>${k}</th>`).join("")}</tr></thead><tbody>${row("before", c.before)}${row("after", c.after)}</tbody></table></div>`;
}

function promptText(r: Pick<Result, "settings">): string {
  const p = r.settings?.prompt as { user?: string; prefill?: string } | string | undefined;
  if (typeof p === "string") return p;
  if (p && typeof p === "object") return `${p.user ?? ""}\n${p.prefill ?? ""}`.trim();
  const t = r.settings?.template;
  return typeof t === "string" ? t : "";
}

const CSS = `
:root{--fg:#1b1f24;--muted:#5b6470;--line:#dde1e6;--bg:#fff;--alt:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:16px 24px 48px;max-width:1500px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:0 0 2px;overflow-wrap:anywhere}
.meta,.hint{color:var(--muted);margin:2px 0 6px;font-size:12.5px}
section{margin:18px 0;padding-top:8px;border-top:1px solid var(--line)}
.charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.chart svg{max-width:100%;height:auto}
.on{color:var(--muted);font-weight:normal}
.badge{display:inline-block;color:#fff;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;vertical-align:middle}
td.warn{color:#a33;font-weight:600}.badge.failed{background:#444}.badge.running{background:#1f77b4}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{cursor:pointer;user-select:none;background:var(--alt);position:sticky;top:0}
th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
tbody tr:nth-child(even){background:var(--alt)}
small{color:var(--muted)}
.reasons{color:var(--muted);font-size:12.5px;margin:6px 0;padding-left:18px}
.analysis{color:var(--muted);font-size:12.5px;margin:4px 0}
.correction{font-size:12.5px;margin:6px 0}.correction table{border-collapse:collapse;margin-top:4px}.correction td,.correction th{border:1px solid var(--line);padding:2px 8px;text-align:right}
.error{color:#b00020}
pre{white-space:pre-wrap;background:var(--alt);padding:8px;border-radius:4px;font-size:12px}
code{background:var(--alt);padding:0 3px}
.empty{color:var(--muted)}
.scroll{overflow-x:auto;max-height:70vh}
`;

// Sorts the comparison table by the clicked column (numbers numerically, empty cells last).
const SORT_JS = `
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("th");
  heads.forEach(function (th) {
    function sort() {
      var col = +th.getAttribute("data-col"), asc = !th.classList.contains("asc");
      heads.forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(asc ? "asc" : "desc");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
        if (x === "" || y === "") return x === y ? 0 : x === "" ? 1 : -1;
        var nx = Number(x), ny = Number(y), c = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
  });
});
`;

// `view`, large reports: a compact section's "show charts" fetches its charts from the server (same origin).
const ON_DEMAND_JS = `
document.addEventListener("click", function (e) {
  var b = e.target;
  if (!b || !b.classList || !b.classList.contains("load")) return;
  var box = b.parentNode, src = box.getAttribute("data-src");
  b.disabled = true; b.textContent = "loading…";
  fetch(src, { cache: "no-store" }).then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
    .then(function (html) { box.outerHTML = html; })
    .catch(function (err) { b.disabled = false; b.textContent = "show charts (failed: " + err.message + ")"; });
});
`;

function liveJs(live: { versionUrl: string; version: string }): string {
  return `
(function () {
  var version = ${JSON.stringify(live.version).replace(/</g, "\\u003c")};
  function poll() {
    fetch(${JSON.stringify(live.versionUrl).replace(/</g, "\\u003c")}, { cache: "no-store" }).then(function (r) { return r.text(); }).then(function (v) {
      if (v !== version) { sessionStorage.setItem("ptalign-scroll", String(window.scrollY)); location.reload(); }
    }).catch(function () {}).then(function () { setTimeout(poll, 2000); });
  }
  var y = sessionStorage.getItem("ptalign-scroll");
  if (y !== null) { window.scrollTo(0, +y); sessionStorage.removeItem("ptalign-scroll"); }
  setTimeout(poll, 2000);
})();
`;
}
