// The sample tests that look at the numbers written (continuous targets) and the peers' recipe, over a set of runs.
import { answerOfValue, continuousFunctions, parseAnswerNumber } from "../distributions/index.ts";
import { makeRng } from "../rng.ts";
import type { Metrics, PeerTests, Run, Step, Target } from "../types.ts";
import { chiSquareMerged, ksOneSample, ksTwoSample, referenceSample, w1Distribution } from "./continuous.ts";
import { expectedCells, sampleStats, wasserstein1 } from "./samples.ts";

export interface ValueTestOptions {
  /** Add the peers' recipe (two-sample KS and W1 against seeded reference draws, merged-tail chi-square). */
  peers?: { seed: number; reference?: number };
}

type Answered = Pick<Step, "sample" | "value" | "raw">;

/**
 * The number a step's answer writes: its recorded value, else its support answer or its raw free-form text read as a
 * number (so results stored before `value` existed, or by a store that keeps only raw, give the same tests).
 */
export function stepValue(step: Answered): number | null {
  if (step.value !== undefined) return step.value;
  // raw first: a free-form "0.37" is kept as raw next to the bin "0.4" it counts in.
  const fromRaw = step.raw === undefined ? null : parseAnswerNumber(step.raw);
  return fromRaw ?? (step.sample === null ? null : parseAnswerNumber(step.sample));
}

/** The support answer a step counts as in the binned tests: its sample, else the bin its free-form number falls in. */
export function stepAnswer(target: Target, step: Answered): string | null {
  if (step.sample !== null) return step.sample;
  const v = stepValue(step);
  return v === null ? null : answerOfValue(target, v);
}

/** ks, ks_p, w1_dist and n_values (continuous targets), and peers when asked for. */
export function valueMetrics(target: Target, runs: readonly Run[], opts: ValueTestOptions = {}): Partial<Metrics> {
  const steps = runs.flatMap((r) => r.steps);
  const values = steps.map(stepValue).filter((v): v is number => v !== null);
  // Discrete targets keep their metrics as they were (unparsed answers are counted by computeMetrics for all targets).
  const out: Partial<Metrics> = target.continuous ? { n_values: values.length } : {};
  const c = target.continuous;
  const fns = c ? continuousFunctions(c) : undefined;
  if (fns) {
    const ks = ksOneSample(values, fns.cdf);
    out.ks = ks?.ks ?? null;
    out.ks_p = ks?.ks_p ?? null;
    out.w1_dist = w1Distribution(values, fns.cdf, fns.quantile, fns.hasMean);
  }
  if (opts.peers) out.peers = peerTests(target, steps, values, fns?.quantile, opts.peers);
  return out;
}

function peerTests(target: Target, steps: readonly Step[], values: number[], quantile: ((p: number) => number) | undefined, o: { seed: number; reference?: number }): PeerTests {
  const nRef = o.reference ?? values.length;
  const counts = new Array<number>(target.support.length).fill(0);
  const index = new Map(target.support.map((k, i) => [k, i]));
  for (const s of steps) {
    const a = stepAnswer(target, s);
    const i = a === null ? undefined : index.get(a);
    if (i !== undefined) counts[i]!++;
  }
  const chi = chiSquareMerged(counts, target.probs);
  let ks2: { ks: number; ks_p: number } | null = null;
  let w1Ref: number | null = null;
  if (quantile && values.length > 0 && nRef > 0) {
    const ref = referenceSample(quantile, nRef, makeRng(`peers:${o.seed}`));
    ks2 = ksTwoSample(values, ref);
    const all = [...values, ...ref];
    w1Ref = wasserstein1(all, all.map((_, i) => (i < values.length ? 1 / values.length : 0)), all.map((_, i) => (i < values.length ? 0 : 1 / nRef)));
  }
  return { n_ref: quantile ? nRef : 0, ks2: ks2?.ks ?? null, ks2_p: ks2?.ks_p ?? null, w1_ref: w1Ref, chi2: chi?.chi2 ?? null, chi2_p: chi?.chi2_p ?? null, df: chi?.df ?? null };
}

/** The sample tests alone (no P_token): what `ptalign metrics --samples` reports without --ptoken. */
export interface SampleTests {
  /** Answers counted in the support (binned numbers included). */
  n: number;
  /** Answers that were neither a support answer nor a number. */
  unparsed: number;
  sample_tvd: number | null;
  chi2: number | null;
  chi2_p: number | null;
  /** chi2's smallest expected count and share of cells below 5 (Cochran's rule; null without samples). */
  chi2_min_expected: number | null;
  chi2_small_cells: number | null;
  w1: number | null;
  ks?: number | null;
  ks_p?: number | null;
  w1_dist?: number | null;
  n_values?: number;
  peers?: PeerTests;
}

export function sampleTests(target: Target, runs: readonly Run[], opts: ValueTestOptions = {}): SampleTests {
  const steps = runs.flatMap((r) => r.steps);
  const s = sampleStats(target, steps.map((st) => stepAnswer(target, st)));
  const unparsed = steps.filter((st) => st.sample === null && stepValue(st) === null).length;
  const none = s.n === 0; // no samples: no evidence either way, so the statistics are null rather than "a perfect fit"
  return {
    n: s.n,
    unparsed,
    sample_tvd: none ? null : s.sample_tvd,
    chi2: none ? null : s.chi2,
    chi2_p: none ? null : s.chi2_p,
    chi2_min_expected: expectedCells(s.n, target.probs)?.min ?? null,
    chi2_small_cells: expectedCells(s.n, target.probs)?.small ?? null,
    w1: none ? null : s.w1,
    ...valueMetrics(target, runs, opts),
  };
}
