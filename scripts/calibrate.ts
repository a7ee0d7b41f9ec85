// Calibration study for the verdict thresholds (docs/classification.md carries its printed output).
// Run: node --import tsx scripts/calibrate.ts            (about 25 s; prints Markdown to stdout)
//
// 1. Grid: each sim family over its main parameter, on both presets, several seeds, 5 runs × 50 steps each:
//    mean of the rule metrics over seeds, and the verdicts the seeds got.
//    sim:d with peak w is q = w·onehot(c) + (1 − w)·p, i.e. exactly the mixture interpolating E (w = 0) and D (w = 1);
//    sim:collapsed with peak w interpolates E (w = 0) and a full collapse (w = 1).
// 2. Separation margins of the default models around each threshold (min/max over presets × seeds).
// 3. How often each default model is called `uncertain` at a given run size, and how that depends on d_volatility
//    (this sweep is what set the default d_volatility to 0.3 instead of 0.35).
// 4. The remaining caveat: sim:d on a very skewed target, {.05,.85,.05,.05}, by d_volatility and run size.

import { parseSimSpec } from "../src/backends/sim.ts";
import { simulateRuns } from "../src/protocols/simulate.ts";
import { assess, DEFAULT_THRESHOLDS, type Estimates, type Thresholds } from "../src/classify/index.ts";
import { parseDist } from "../src/distributions/index.ts";
import type { Target } from "../src/types.ts";

const PRESETS = ["extreme", "flat"] as const;
const TARGETS: Record<(typeof PRESETS)[number], Target> = { extreme: parseDist("extreme"), flat: parseDist("flat") };
const GRID_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const RUNS = 5;
const STEPS = 50;
const BOOT = 1000;

const GRID: string[] = [
  ...[0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99].map((v) => `sim:d?peak=${v}`),
  ...[0, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3].map((v) => `sim:e?noise=${v}`),
  ...[0, 0.2, 0.5, 1, 1.5, 2, 3].map((v) => `sim:collapsed?jitter=${v}`),
  ...[0.2, 0.4, 0.6, 0.7, 0.8].map((v) => `sim:collapsed?peak=${v}`),
];

const f3 = (x: number) => x.toFixed(3);
const metricsCols: (keyof Estimates)[] = ["atvd", "volatility", "concentration", "marginal_tvd"];

interface Cell {
  est: Estimates[];
  verdicts: string[];
}

function runCell(spec: string, target: Target, seeds: number[], runs: number, steps: number, th?: Partial<Thresholds>): Cell {
  const model = parseSimSpec(spec);
  const cell: Cell = { est: [], verdicts: [] };
  for (const seed of seeds) {
    // seed·1000: the runs of different seeds never share a generator (simulateRuns uses seed + r for run r).
    const rs = simulateRuns(model, target, { steps, runs, seed: seed * 1000, temperature: 1 });
    const a = assess(target, rs, { seed, bootstrap: BOOT, ...(th ? { thresholds: th } : {}) });
    cell.est.push(a.estimates);
    cell.verdicts.push(a.verdict.type);
  }
  return cell;
}

function tally(verdicts: string[]): string {
  const counts = new Map<string, number>();
  for (const v of verdicts) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${v} ${n}`)
    .join(", ");
}

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const started = Date.now();
const out: string[] = [];
const print = (s = "") => out.push(s);

print(`#### 1. Grid (${RUNS} runs × ${STEPS} steps, temperature 1, ${GRID_SEEDS.length} seeds per cell; metrics are means over seeds; verdicts counted over seeds)`);
print();
print(`Default thresholds: ${JSON.stringify(DEFAULT_THRESHOLDS)}`);
for (const preset of PRESETS) {
  print();
  print(`##### ${preset}: ${JSON.stringify(Object.fromEntries(TARGETS[preset].support.map((s, i) => [s, TARGETS[preset].probs[i]])))}`);
  print();
  print("| model | atvd | volatility | concentration | marginal_tvd | verdicts |");
  print("|---|---|---|---|---|---|");
  for (const spec of GRID) {
    const c = runCell(spec, TARGETS[preset], GRID_SEEDS, RUNS, STEPS);
    const cols = metricsCols.map((k) => f3(avg(c.est.map((e) => e[k]))));
    print(`| \`${spec.replace(/\?/, " ").replace("=", " = ")}\` | ${cols.join(" | ")} | ${tally(c.verdicts)} |`);
  }
}

// 2. Margins: default models, both presets, 40 seeds.
const MARGIN_SEEDS = Array.from({ length: 40 }, (_, i) => 100 + i);
const defaults = { d: "sim:d", e: "sim:e", collapsed: "sim:collapsed" } as const;
const pooled: Record<keyof typeof defaults, Estimates[]> = { d: [], e: [], collapsed: [] };
for (const preset of PRESETS) {
  for (const fam of Object.keys(defaults) as (keyof typeof defaults)[]) {
    pooled[fam].push(...runCell(defaults[fam], TARGETS[preset], MARGIN_SEEDS, RUNS, STEPS).est);
  }
}
const lo = (fam: keyof typeof defaults, k: keyof Estimates) => Math.min(...pooled[fam].map((e) => e[k]));
const hi = (fam: keyof typeof defaults, k: keyof Estimates) => Math.max(...pooled[fam].map((e) => e[k]));
print();
print(`#### 2. Separation margins of the default models (sim:d, sim:e, sim:collapsed; both presets × ${MARGIN_SEEDS.length} seeds; ${RUNS} runs × ${STEPS} steps)`);
print();
print("| threshold | value | must stay below it | max | must reach it | min | margin below / above |");
print("|---|---|---|---|---|---|---|");
const row = (name: keyof Thresholds, belowLabel: string, below: number, aboveLabel: string, above: number) => {
  const t = DEFAULT_THRESHOLDS[name];
  print(`| ${name} | ${t} | ${belowLabel} | ${f3(below)} | ${aboveLabel} | ${f3(above)} | ${f3(t - below)} / ${f3(above - t)} |`);
};
row("e_atvd", "atvd of e", hi("e", "atvd"), "atvd of d, collapsed", Math.min(lo("d", "atvd"), lo("collapsed", "atvd")));
row("e_volatility", "volatility of e", hi("e", "volatility"), "volatility of d", lo("d", "volatility"));
row("d_concentration", "concentration of e", hi("e", "concentration"), "concentration of d, collapsed", Math.min(lo("d", "concentration"), lo("collapsed", "concentration")));
row("d_volatility", "volatility of collapsed", hi("collapsed", "volatility"), "volatility of d", lo("d", "volatility"));
row("collapsed_marginal", "marginal_tvd of d, e", Math.max(hi("d", "marginal_tvd"), hi("e", "marginal_tvd")), "marginal_tvd of collapsed", lo("collapsed", "marginal_tvd"));
print();
print("Per preset (mean over seeds):");
print();
print("| preset | model | atvd | volatility | concentration | marginal_tvd |");
print("|---|---|---|---|---|---|");
for (const preset of PRESETS) {
  for (const fam of Object.keys(defaults) as (keyof typeof defaults)[]) {
    const half = PRESETS.indexOf(preset) * MARGIN_SEEDS.length;
    const es = pooled[fam].slice(half, half + MARGIN_SEEDS.length);
    print(`| ${preset} | ${parseSimSpec(defaults[fam]).spec} | ${metricsCols.map((k) => f3(avg(es.map((e) => e[k])))).join(" | ")} |`);
  }
}

// 3. Uncertain rates.
const RATE_SEEDS = Array.from({ length: 100 }, (_, i) => 500 + i);
print();
print(`#### 3. Verdicts of the default models over ${RATE_SEEDS.length} seeds, by run size (default thresholds)`);
print();
print("| preset | model | 5 runs × 50 steps | 10 runs × 50 steps | 5 runs × 100 steps | 1 run × 50 steps (block bootstrap) |");
print("|---|---|---|---|---|---|");
for (const preset of PRESETS) {
  for (const fam of Object.keys(defaults) as (keyof typeof defaults)[]) {
    const sizes: [number, number][] = [[5, 50], [10, 50], [5, 100], [1, 50]];
    const cols = sizes.map(([r, s]) => tally(runCell(defaults[fam], TARGETS[preset], RATE_SEEDS, r, s).verdicts));
    print(`| ${preset} | ${defaults[fam]} | ${cols.join(" | ")} |`);
  }
}
print();
print(`sim:d on extreme (5 runs × 50 steps, ${RATE_SEEDS.length} seeds) as d_volatility varies:`);
print();
print("| d_volatility | verdicts |");
print("|---|---|");
const isDefault = (dv: number) => (dv === DEFAULT_THRESHOLDS.d_volatility ? " (default)" : "");
for (const dv of [0.25, 0.3, 0.35, 0.4]) {
  print(`| ${dv}${isDefault(dv)} | ${tally(runCell("sim:d", TARGETS.extreme, RATE_SEEDS, RUNS, STEPS, { d_volatility: dv }).verdicts)} |`);
}

// 4. Very skewed target: a D model's expected volatility is peak · (1 − Σp²) = 0.95 × 0.27 ≈ 0.26 here.
const SKEWED = parseDist("{1:0.05,2:0.85,3:0.05,4:0.05}");
const SKEW_SEEDS = Array.from({ length: 50 }, (_, i) => 500 + i);
const skewSizes: [number, number][] = [[5, 50], [10, 50], [20, 50]];
print();
print(`#### 4. sim:d on a very skewed target {"1":0.05,"2":0.85,"3":0.05,"4":0.05} (1 − Σp² = ${f3(1 - SKEWED.probs.reduce((a, p) => a + p * p, 0))}; ${SKEW_SEEDS.length} seeds)`);
print();
print(`| d_volatility | ${skewSizes.map(([r, s]) => `${r} runs × ${s} steps`).join(" | ")} |`);
print(`|---|${skewSizes.map(() => "---|").join("")}`);
for (const dv of [0.2, 0.25, 0.3]) {
  const cols = skewSizes.map(([r, s]) => {
    const c = runCell("sim:d", SKEWED, SKEW_SEEDS, r, s, { d_volatility: dv });
    return `${tally(c.verdicts)} (volatility ${f3(avg(c.est.map((e) => e.volatility)))})`;
  });
  print(`| ${dv}${isDefault(dv)} | ${cols.join(" | ")} |`);
}
print();
print(`_(generated by scripts/calibrate.ts in ${((Date.now() - started) / 1000).toFixed(1)} s)_`);
console.log(out.join("\n"));
