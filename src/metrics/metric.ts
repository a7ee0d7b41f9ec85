// What a metric is: its name, how it is computed from one measurement's runs, what it means, and how each output
// (run summary, export, report, bootstrap) shows it. The list of metrics is src/metrics/registry.ts.

import { InputError } from "../errors.ts";
import type { Metrics, Run, Step, Target } from "../types.ts";
import { runMetrics, type RunMetrics } from "./run.ts";
import { sampleStats, type SampleStats } from "./samples.ts";
import { stepAnswer, valueMetrics, type ValueTestOptions } from "./values.ts";

/** Which way is good: the report and docs say it; no output reorders by it. */
export type Direction = "lower" | "higher" | "neither";

/** How a value is printed: a number with `digits` decimals (tiny values in exponent form, as `fmt` does). */
export interface MetricFormat {
  digits: number;
}

/**
 * The inputs of one measurement, with the computations several metrics share done once (lazily): the per-run P_token
 * metrics, the pooled sample statistics and the value tests.
 */
export interface MetricContext {
  target: Target;
  runs: readonly Run[];
  options: ValueTestOptions;
  perRun(): readonly RunMetrics[];
  samples(): SampleStats;
  values(): Partial<Metrics>;
}

/** The run summary row of a metric (`ptalign run`, `ptalign metrics`), placed by rank (ascending). */
export interface SummarySpec {
  rank: number;
  /** Shown only when this holds (default: always). */
  show?: (m: Readonly<Metrics>, target: Target) => boolean;
  /** The meaning column when it depends on the result (default: the metric's meaning). */
  meaning?: (m: Readonly<Metrics>) => string;
}

/** The report's comparison-table column of a metric, placed by rank (ascending). */
export interface HtmlSpec {
  rank: number;
  /** Show the verdict's 95% interval next to the value when the verdict has one under this name (header "NAME [95% CI]"). */
  ci?: boolean;
  /** Decimals in the table (default: the metric's format). */
  digits?: number;
  /** Flag the cell when the value exceeds this threshold of the verdict (classify/thresholds.ts), with this tooltip. */
  warn?: { threshold: string; title: string };
}

/** A metric read by the verdict rules: its per-run value (the measurement's value is the mean over runs) gets a 95% interval. */
export interface BootstrapSpec {
  /** The metric of one run (or of a resampled sequence of steps). */
  perRun: (target: Target, steps: readonly Pick<Step, "ptoken" | "leak">[]) => number;
  /** The metric is a mean over consecutive pairs of steps: the block bootstrap averages the pairs inside blocks only. */
  transitions?: boolean;
}

export interface MetricDef {
  /** The key in the result JSON's `metrics` object. Never renamed; the formula under a name never changes. */
  name: string;
  /** One line: the formula or what it counts (the run summary's meaning column). */
  meaning: string;
  direction: Direction;
  format: MetricFormat;
  /** The value for a measurement; undefined leaves the key out of the JSON (e.g. continuous-only metrics). */
  compute: (ctx: MetricContext) => number | null | undefined;
  summary?: SummarySpec;
  /** A column of `ptalign export --level runs` (CSV), in registry order. */
  export?: boolean;
  html?: HtmlSpec;
  bootstrap?: BootstrapSpec;
  /**
   * Keys that held this value before the metric had its name (a rename is additive: the old key stays registered as
   * an alias and is still written). Readers of results written before the name existed find the value there.
   */
  formerly?: readonly string[];
  /** This key is an alias kept for readers of older results: the same value as the metric named here (docs/metrics.md). */
  aliasOf?: string;
}

/** Identity with type checking: a metric file writes `export const x = defineMetric({...})`. */
export function defineMetric(def: MetricDef): MetricDef {
  return def;
}

/** The context of one measurement; every shared computation runs at most once. */
export function metricContext(target: Target, runs: readonly Run[], options: ValueTestOptions = {}): MetricContext {
  const once = <T>(f: () => T): (() => T) => {
    let done = false;
    let value: T;
    return () => {
      if (!done) {
        value = f();
        done = true;
      }
      return value;
    };
  };
  return {
    target,
    runs,
    options,
    perRun: once(() =>
      runs.map((r, i) => {
        try {
          return runMetrics(target, r.steps);
        } catch (e) {
          if (e instanceof InputError) throw new InputError(`run #${i + 1} (seed ${r.seed}): ${e.message}`);
          throw e;
        }
      }),
    ),
    // A free-form number (batch answers "0.37") counts in the binned tests as the answer it rounds to.
    samples: once(() => sampleStats(target, runs.flatMap((r) => r.steps.map((s) => stepAnswer(target, s))))),
    values: once(() => valueMetrics(target, runs, options)),
  };
}

/**
 * A metric's value in a (possibly older, stored) metrics object: undefined when it was not recorded. Given the
 * metric's definition, a result written before the metric had its name is read under its former keys.
 */
export function metricValue(m: Readonly<Metrics> | null | undefined, metric: string | Pick<MetricDef, "name" | "formerly">): number | null | undefined {
  const record = m as unknown as Record<string, unknown> | null | undefined;
  const read = (key: string) => {
    const v = record ? record[key] : undefined;
    return typeof v === "number" || v === null ? v : undefined;
  };
  if (typeof metric === "string") return read(metric);
  for (const key of [metric.name, ...(metric.formerly ?? [])]) {
    const v = read(key);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** A value as the text outputs print it: `digits` decimals, tiny non-zero values in exponent form, "—" for none. */
export function formatValue(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(1);
  return value.toFixed(digits);
}
