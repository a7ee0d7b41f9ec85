// Internal properties of a model, from the per-step P_token a run recorded (docs/metrics.md, "Analysis").
// Pure functions over plain data: no model call.
import { mean, tv } from "../metrics/basic.ts";
import type { Run, Target } from "../types.ts";

/** Probabilities below this are treated as this when a logarithm is needed (documented floor). */
export const LOG_FLOOR = 1e-12;
const safeLog = (x: number) => Math.log(Math.max(x, LOG_FLOOR));

/** Two-sided 97.5% Student t quantiles for df = 1..30; 1.96 beyond. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
export const tQuantile975 = (df: number) => (df >= 1 && df <= 30 ? T975[df - 1]! : 1.96);

/** log q_t(x) and n_t(x) (times x was drawn at steps 0..t−1) of one run, both demeaned within each step. */
function stepDemeaned(target: Target, run: Run): { y: number[][]; n: number[][] } {
  const K = target.support.length;
  const y: number[][] = [];
  const n: number[][] = [];
  const counts = new Array<number>(K).fill(0);
  const centre = (r: number[]) => {
    const m = mean(r);
    return r.map((v) => v - m);
  };
  for (const step of run.steps) {
    y.push(centre(step.ptoken.map(safeLog)));
    n.push(centre([...counts]));
    const idx = step.sample === null ? -1 : target.support.indexOf(step.sample);
    if (idx >= 0) counts[idx]! += 1;
  }
  return { y, n };
}

/**
 * History coefficient of each run: the OLS slope of log q_t(x) on n_t(x), pooled over the run's steps t and answers
 * x, with a step effect (removes the per-step normaliser) and an answer effect (removes the answers' base rates:
 * likely answers are both drawn more often and more probable). The answer effect is the mean over all runs of the
 * measurement's other runs (leave-one-run-out), not of the run itself: within one run it would absorb the run's own
 * draws (a D-model's peaked answers are the ones drawn) and bias the slope towards negative values. With a single run
 * the run's own mean is used (and that bias remains). null for a run with fewer than 2 steps.
 */
export function historySlopes(target: Target, runs: readonly Run[]): (number | null)[] {
  const K = target.support.length;
  const parts = runs.map((r) => (r.steps.length >= 2 && K >= 2 ? stepDemeaned(target, r) : null));
  // Per answer: sum and number of step-demeaned values over all runs, so that a run's answer effect can leave it out.
  const sums = { y: new Array<number>(K).fill(0), n: new Array<number>(K).fill(0) };
  let count = 0;
  for (const p of parts) if (p) {
    count += p.y.length;
    p.y.forEach((row, t) => row.forEach((v, k) => { sums.y[k]! += v; sums.n[k]! += p.n[t]![k]!; }));
  }
  return parts.map((p) => {
    if (!p) return null;
    const own = (key: "y" | "n", k: number) => p[key].reduce((a, row) => a + row[k]!, 0);
    const rest = count - p.y.length;
    // Leave this run out when other runs exist (their draws are independent of this run's); else the run alone.
    const effect = (key: "y" | "n", k: number) => (rest > 0 ? (sums[key][k]! - own(key, k)) / rest : own(key, k) / p.y.length);
    const ay = Array.from({ length: K }, (_, k) => effect("y", k));
    const an = Array.from({ length: K }, (_, k) => effect("n", k));
    let sxy = 0;
    let sxx = 0;
    p.y.forEach((row, t) => row.forEach((v, k) => {
      const x = p.n[t]![k]! - an[k]!;
      sxy += x * (v - ay[k]!);
      sxx += x * x;
    }));
    return sxx > 1e-12 ? sxy / sxx : null;
  });
}

export interface HistoryDependence {
  /** Mean over runs of the per-run slopes. */
  coefficient: number | null;
  /** 95% t-interval over the per-run slopes (null with fewer than 2 runs). */
  ci: [number, number] | null;
  perRun: (number | null)[];
}

export function historyDependence(target: Target, runs: readonly Run[]): HistoryDependence {
  const perRun = historySlopes(target, runs);
  const xs = perRun.filter((s): s is number => s !== null);
  if (xs.length === 0) return { coefficient: null, ci: null, perRun };
  const m = mean(xs);
  if (xs.length < 2) return { coefficient: m, ci: null, perRun };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  const half = (tQuantile975(xs.length - 1) * sd) / Math.sqrt(xs.length);
  return { coefficient: m, ci: [m - half, m + half], perRun };
}

const argmaxOf = (q: readonly number[]) => q.reduce((best, v, i) => (v > q[best]! ? i : best), 0);

/**
 * Lag-1 autocorrelation of the categorical argmax a_t of q_t, per run: (R − E) / (1 − E), with R the fraction of
 * steps t ≥ 1 where a_t = a_{t−1} and E = Σ_k f_k² the repeat rate expected if the argmaxes were independent draws
 * from their own frequencies f. 0 = no memory, 1 = the argmax never changes, < 0 = it avoids repeating.
 * Averaged over runs; null when no run has 2 steps or the argmax is constant (E = 1: taken as 1).
 */
export function argmaxAutocorrelation(runs: readonly Run[]): number | null {
  const vals: number[] = [];
  for (const run of runs) {
    if (run.steps.length < 2) continue;
    const a = run.steps.map((s) => argmaxOf(s.ptoken));
    let same = 0;
    for (let t = 1; t < a.length; t++) if (a[t] === a[t - 1]) same++;
    const R = same / (a.length - 1);
    const freq = new Map<number, number>();
    for (const x of a) freq.set(x, (freq.get(x) ?? 0) + 1);
    const E = [...freq.values()].reduce((s, c) => s + (c / a.length) ** 2, 0);
    vals.push(E >= 1 - 1e-12 ? 1 : (R - E) / (1 - E));
  }
  return vals.length ? mean(vals) : null;
}

/** softmax(log q / T) over the support, computed in log space. */
export function retemper(q: readonly number[], T: number): number[] {
  const l = q.map((v) => safeLog(v) / T);
  const max = Math.max(...l);
  const e = l.map((v) => Math.exp(v - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** KL(p ‖ r) with the log floor on r (answers with p_i = 0 contribute 0). */
function klFloor(p: readonly number[], r: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) s += p[i]! * (Math.log(p[i]!) - safeLog(r[i]!));
  return s;
}

export interface EffectiveTemperature {
  /** T* = argmin_T mean_t KL(p ‖ softmax(log q_t / T)), relative to the temperature the run was recorded at. */
  T: number;
  /** mean_t KL at T*. */
  kl: number;
  /** atvd the re-tempered q_t would reach at T*. */
  atvd: number;
  /** atvd as recorded (T = 1). */
  atvdAt1: number;
}

/** Golden-section search on log T over [log Tmin, log Tmax]; the objective is convex in 1/T, hence unimodal in log T. */
export function effectiveTemperature(target: Target, runs: readonly Run[], bounds: [number, number] = [0.01, 100]): EffectiveTemperature | null {
  const qs = runs.flatMap((r) => r.steps.map((s) => s.ptoken));
  if (qs.length === 0) return null;
  const p = target.probs;
  const f = (logT: number) => mean(qs.map((q) => klFloor(p, retemper(q, Math.exp(logT)))));
  const g = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(bounds[0]);
  let b = Math.log(bounds[1]);
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > 1e-8) {
    if (fc < fd) {
      b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c);
    } else {
      a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d);
    }
  }
  const T = Math.exp((a + b) / 2);
  return { T, kl: f(Math.log(T)), atvd: mean(qs.map((q) => tv(retemper(q, T), p))), atvdAt1: mean(qs.map((q) => tv(q, p))) };
}

/** Mean over steps of log q_t(first) − log q_t(second), the two most probable answers of the support (log floor). */
export function topMargin(runs: readonly Run[]): number | null {
  const m = runs.flatMap((r) => r.steps.filter((s) => s.ptoken.length >= 2).map((s) => {
    const sorted = [...s.ptoken].sort((x, y) => y - x);
    return safeLog(sorted[0]!) - safeLog(sorted[1]!);
  }));
  return m.length ? mean(m) : null;
}

export interface Properties {
  history: HistoryDependence;
  argmax_autocorr: number | null;
  effective_temperature: EffectiveTemperature | null;
  top1_margin: number | null;
  /** Mean raw mass outside the support (leak) and on it (1 − leak − unknown). */
  leak: number;
  support_mass: number;
  /** Mean full-vocabulary entropy (nats) over steps that recorded it; null when none did (sim, remote). */
  entropy_full: number | null;
  /** Top-k remote steps: mean lower and upper bound on that entropy (upper null when the vocabulary is unknown). */
  entropy_full_bounds: [number, number | null] | null;
}

export function analyzeRuns(target: Target, runs: readonly Run[]): Properties {
  const steps = runs.flatMap((r) => r.steps);
  const ent = steps.map((s) => s.entropy_full).filter((e): e is number => typeof e === "number");
  const leak = steps.length ? mean(steps.map((s) => s.leak)) : 0;
  return {
    history: historyDependence(target, runs),
    argmax_autocorr: argmaxAutocorrelation(runs),
    effective_temperature: effectiveTemperature(target, runs),
    top1_margin: topMargin(runs),
    leak,
    support_mass: steps.length ? mean(steps.map((s) => 1 - s.leak - (s.unknown ?? 0))) : 1,
    entropy_full: ent.length ? mean(ent) : null,
    entropy_full_bounds: meanBounds(steps.map((s) => s.entropy_full_bounds).filter((b): b is [number, number | null] => Array.isArray(b))),
  };
}

function meanBounds(bounds: readonly [number, number | null][]): [number, number | null] | null {
  if (bounds.length === 0) return null;
  const his = bounds.map((b) => b[1]);
  return [mean(bounds.map((b) => b[0])), his.every((h): h is number => h !== null) ? mean(his) : null];
}
