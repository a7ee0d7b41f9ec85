// Continuous families of P_task, binned at the precision the model writes (docs/metrics.md, "Continuous targets").
// The CDFs, densities and quantiles come from stdlib (Boost-derived special functions, tested against R and
// scipy by their authors), never from formulas written here: the only arithmetic of our own is the binning.
import { InputError } from "../errors.ts";
import { lazyRequire } from "../lazyRequire.ts";
import type { ContinuousInfo, Target } from "../types.ts";
import { MAX_SUPPORT } from "./families.ts";

// Loaded on first use (src/lazyRequire.ts): a measurement on a discrete target never loads them.
const betaCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-beta-cdf")>("@stdlib/stats-base-dists-beta-cdf");
const betaPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-beta-pdf")>("@stdlib/stats-base-dists-beta-pdf");
const betaQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-beta-quantile")>("@stdlib/stats-base-dists-beta-quantile");
const cauchyCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-cauchy-cdf")>("@stdlib/stats-base-dists-cauchy-cdf");
const cauchyPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-cauchy-pdf")>("@stdlib/stats-base-dists-cauchy-pdf");
const cauchyQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-cauchy-quantile")>("@stdlib/stats-base-dists-cauchy-quantile");
const chisqCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-chisquare-cdf")>("@stdlib/stats-base-dists-chisquare-cdf");
const chisqPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-chisquare-pdf")>("@stdlib/stats-base-dists-chisquare-pdf");
const chisqQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-chisquare-quantile")>("@stdlib/stats-base-dists-chisquare-quantile");
const expCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-exponential-cdf")>("@stdlib/stats-base-dists-exponential-cdf");
const expPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-exponential-pdf")>("@stdlib/stats-base-dists-exponential-pdf");
const expQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-exponential-quantile")>("@stdlib/stats-base-dists-exponential-quantile");
const fCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-f-cdf")>("@stdlib/stats-base-dists-f-cdf");
const fPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-f-pdf")>("@stdlib/stats-base-dists-f-pdf");
const fQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-f-quantile")>("@stdlib/stats-base-dists-f-quantile");
const gammaCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-gamma-cdf")>("@stdlib/stats-base-dists-gamma-cdf");
const gammaPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-gamma-pdf")>("@stdlib/stats-base-dists-gamma-pdf");
const gammaQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-gamma-quantile")>("@stdlib/stats-base-dists-gamma-quantile");
const laplaceCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-laplace-cdf")>("@stdlib/stats-base-dists-laplace-cdf");
const laplacePdf = lazyRequire<typeof import("@stdlib/stats-base-dists-laplace-pdf")>("@stdlib/stats-base-dists-laplace-pdf");
const laplaceQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-laplace-quantile")>("@stdlib/stats-base-dists-laplace-quantile");
const logisticCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-logistic-cdf")>("@stdlib/stats-base-dists-logistic-cdf");
const logisticPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-logistic-pdf")>("@stdlib/stats-base-dists-logistic-pdf");
const logisticQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-logistic-quantile")>("@stdlib/stats-base-dists-logistic-quantile");
const normalCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-normal-cdf")>("@stdlib/stats-base-dists-normal-cdf");
const normalPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-normal-pdf")>("@stdlib/stats-base-dists-normal-pdf");
const normalQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-normal-quantile")>("@stdlib/stats-base-dists-normal-quantile");
const tCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-t-cdf")>("@stdlib/stats-base-dists-t-cdf");
const tPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-t-pdf")>("@stdlib/stats-base-dists-t-pdf");
const tQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-t-quantile")>("@stdlib/stats-base-dists-t-quantile");
const uniformCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-uniform-cdf")>("@stdlib/stats-base-dists-uniform-cdf");
const uniformPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-uniform-pdf")>("@stdlib/stats-base-dists-uniform-pdf");
const uniformQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-uniform-quantile")>("@stdlib/stats-base-dists-uniform-quantile");
const weibullCdf = lazyRequire<typeof import("@stdlib/stats-base-dists-weibull-cdf")>("@stdlib/stats-base-dists-weibull-cdf");
const weibullPdf = lazyRequire<typeof import("@stdlib/stats-base-dists-weibull-pdf")>("@stdlib/stats-base-dists-weibull-pdf");
const weibullQuantile = lazyRequire<typeof import("@stdlib/stats-base-dists-weibull-quantile")>("@stdlib/stats-base-dists-weibull-quantile");

export const CONTINUOUS_NAMES = ["normal", "cuniform", "beta", "exponential", "cauchy", "student_t", "chi2", "f", "gamma", "weibull", "laplace", "logistic"] as const;
export type ContinuousName = (typeof CONTINUOUS_NAMES)[number];

/** Decimals written after the point when neither the DIST (precision=) nor --precision says. */
export const DEFAULT_PRECISION = 1;
/** Least probability mass the bins' range must hold (the rest is reported as `tail`). */
export const DEFAULT_MASS = 0.999;
export const MAX_PRECISION = 6;

type Fn = (x: number) => number;
interface Family {
  params: readonly string[];
  usage: string;
  example: string;
  /** Checks the parameters; returns the one-line problem, or null. */
  check: (a: readonly number[]) => string | null;
  /** Support bounds: finite ends are used as the range's ends (the range then starts at the support, not a quantile). */
  bounds: (a: readonly number[]) => [number, number];
  make: (a: readonly number[]) => { cdf: Fn; pdf: Fn; quantile: Fn };
  /** Whether E|X| is finite (W1 against the distribution exists only then). */
  hasMean: (a: readonly number[]) => boolean;
}

const pos = (names: readonly string[], a: readonly number[], which: number[]): string | null => {
  for (const i of which) if (!(a[i]! > 0) || !Number.isFinite(a[i]!)) return `${names[i]} is ${a[i]}; ${names[i]} must be a finite number > 0`;
  return null;
};
const fin = (names: readonly string[], a: readonly number[], which: number[]): string | null => {
  for (const i of which) if (!Number.isFinite(a[i]!)) return `${names[i]} is ${a[i]}; ${names[i]} must be a finite number`;
  return null;
};
const R: [number, number] = [-Infinity, Infinity];
const POS: [number, number] = [0, Infinity];
const always = (): boolean => true;

const FAMILIES: Readonly<Record<ContinuousName, Family>> = {
  normal: {
    params: ["mu", "sigma"], usage: "normal(mu,sigma)", example: "normal(0,1)",
    check: (a) => fin(["mu"], a, [0]) ?? pos(["mu", "sigma"], a, [1]),
    bounds: () => R, hasMean: always,
    make: ([m, s]) => ({ cdf: (x) => normalCdf()(x, m!, s!), pdf: (x) => normalPdf()(x, m!, s!), quantile: (p) => normalQuantile()(p, m!, s!) }),
  },
  cuniform: {
    params: ["a", "b"], usage: "cuniform(a,b)", example: "cuniform(0,1)",
    check: (a) => fin(["a", "b"], a, [0, 1]) ?? (a[0]! < a[1]! ? null : `a is ${a[0]}, not below b = ${a[1]}; write the smaller bound first`),
    bounds: ([a, b]) => [a!, b!], hasMean: always,
    make: ([a, b]) => ({ cdf: (x) => uniformCdf()(x, a!, b!), pdf: (x) => uniformPdf()(x, a!, b!), quantile: (p) => uniformQuantile()(p, a!, b!) }),
  },
  beta: {
    params: ["alpha", "beta"], usage: "beta(alpha,beta)", example: "beta(2,2)",
    check: (a) => pos(["alpha", "beta"], a, [0, 1]),
    bounds: () => [0, 1], hasMean: always,
    make: ([a, b]) => ({ cdf: (x) => betaCdf()(x, a!, b!), pdf: (x) => betaPdf()(x, a!, b!), quantile: (p) => betaQuantile()(p, a!, b!) }),
  },
  exponential: {
    params: ["lambda"], usage: "exponential(lambda) (rate λ, mean 1/λ)", example: "exponential(1)",
    check: (a) => pos(["lambda"], a, [0]),
    bounds: () => POS, hasMean: always,
    make: ([l]) => ({ cdf: (x) => expCdf()(x, l!), pdf: (x) => expPdf()(x, l!), quantile: (p) => expQuantile()(p, l!) }),
  },
  cauchy: {
    params: ["x0", "gamma"], usage: "cauchy(x0,gamma)", example: "cauchy(0,1,precision=0)",
    check: (a) => fin(["x0"], a, [0]) ?? pos(["x0", "gamma"], a, [1]),
    bounds: () => R, hasMean: () => false,
    make: ([x0, g]) => ({ cdf: (x) => cauchyCdf()(x, x0!, g!), pdf: (x) => cauchyPdf()(x, x0!, g!), quantile: (p) => cauchyQuantile()(p, x0!, g!) }),
  },
  student_t: {
    params: ["df"], usage: "student_t(df)", example: "student_t(3)",
    check: (a) => pos(["df"], a, [0]),
    bounds: () => R, hasMean: ([df]) => df! > 1,
    make: ([v]) => ({ cdf: (x) => tCdf()(x, v!), pdf: (x) => tPdf()(x, v!), quantile: (p) => tQuantile()(p, v!) }),
  },
  chi2: {
    params: ["k"], usage: "chi2(k) (k degrees of freedom)", example: "chi2(5)",
    check: (a) => pos(["k"], a, [0]),
    bounds: () => POS, hasMean: always,
    make: ([k]) => ({ cdf: (x) => chisqCdf()(x, k!), pdf: (x) => chisqPdf()(x, k!), quantile: (p) => chisqQuantile()(p, k!) }),
  },
  f: {
    params: ["d1", "d2"], usage: "f(d1,d2)", example: "f(5,10)",
    check: (a) => pos(["d1", "d2"], a, [0, 1]),
    bounds: () => POS, hasMean: ([, d2]) => d2! > 2,
    make: ([d1, d2]) => ({ cdf: (x) => fCdf()(x, d1!, d2!), pdf: (x) => fPdf()(x, d1!, d2!), quantile: (p) => fQuantile()(p, d1!, d2!) }),
  },
  gamma: {
    params: ["shape", "scale"], usage: "gamma(shape,scale) (mean shape·scale)", example: "gamma(2,2)",
    check: (a) => pos(["shape", "scale"], a, [0, 1]),
    bounds: () => POS, hasMean: always,
    // stdlib takes the rate β = 1/scale.
    make: ([k, s]) => ({ cdf: (x) => gammaCdf()(x, k!, 1 / s!), pdf: (x) => gammaPdf()(x, k!, 1 / s!), quantile: (p) => gammaQuantile()(p, k!, 1 / s!) }),
  },
  weibull: {
    params: ["shape", "scale"], usage: "weibull(shape,scale)", example: "weibull(1.5,1)",
    check: (a) => pos(["shape", "scale"], a, [0, 1]),
    bounds: () => POS, hasMean: always,
    make: ([k, l]) => ({ cdf: (x) => weibullCdf()(x, k!, l!), pdf: (x) => weibullPdf()(x, k!, l!), quantile: (p) => weibullQuantile()(p, k!, l!) }),
  },
  laplace: {
    params: ["mu", "b"], usage: "laplace(mu,b)", example: "laplace(0,1)",
    check: (a) => fin(["mu"], a, [0]) ?? pos(["mu", "b"], a, [1]),
    bounds: () => R, hasMean: always,
    make: ([m, b]) => ({ cdf: (x) => laplaceCdf()(x, m!, b!), pdf: (x) => laplacePdf()(x, m!, b!), quantile: (p) => laplaceQuantile()(p, m!, b!) }),
  },
  logistic: {
    params: ["mu", "s"], usage: "logistic(mu,s)", example: "logistic(0,1)",
    check: (a) => fin(["mu"], a, [0]) ?? pos(["mu", "s"], a, [1]),
    bounds: () => R, hasMean: always,
    make: ([m, s]) => ({ cdf: (x) => logisticCdf()(x, m!, s!), pdf: (x) => logisticPdf()(x, m!, s!), quantile: (p) => logisticQuantile()(p, m!, s!) }),
  },
};

/** Parameter names (positional order), usage and example of a continuous family; precision= and mass= are accepted by all. */
export function continuousSignature(name: ContinuousName): { params: readonly string[]; usage: string; example: string } {
  const f = FAMILIES[name];
  return { params: [...f.params, "precision", "mass"], usage: f.usage, example: f.example };
}

export function isContinuousName(name: string): name is ContinuousName {
  return (CONTINUOUS_NAMES as readonly string[]).includes(name);
}

/** The distribution functions of a continuous target (from its stored description, e.g. a result JSON read back). */
export function continuousFunctions(info: Pick<ContinuousInfo, "family" | "params">): { cdf: Fn; pdf: Fn; quantile: Fn; hasMean: boolean } {
  const f = FAMILIES[info.family];
  const a = f.params.map((p) => info.params[p]!);
  return { ...f.make(a), hasMean: f.hasMean(a) };
}

/**
 * A continuous family binned at `precision` decimals: answers k·h written with that many decimals (h = 10^−precision),
 * answer k standing for the interval [k·h − h/2, k·h + h/2) — what a model rounding to that precision writes.
 * The range: from the support's lower end when it is finite, else the (1 − mass)/2 quantile (the whole 1 − mass on
 * the upper side when only the lower end is finite), to the matching upper point; widened to whole bins. Bin
 * probabilities are CDF differences, renormalised over the range; the mass outside is `tail`.
 */
export function continuousTarget(name: ContinuousName, args: Readonly<Record<string, number>>, label: string, defaultPrecision = DEFAULT_PRECISION): Target {
  const fam = FAMILIES[name];
  const usage = `usage ${fam.usage}, e.g. ${fam.example}`;
  for (const p of fam.params) if (args[p] === undefined) throw new InputError(`${label}: ${p} is required; ${usage}`);
  const a = fam.params.map((p) => args[p]!);
  const problem = fam.check(a);
  if (problem) throw new InputError(`${label}: ${problem}`);
  const precision = args.precision ?? defaultPrecision;
  if (!Number.isInteger(precision) || precision < 0 || precision > MAX_PRECISION) {
    throw new InputError(`${label}: precision is ${precision}; precision (decimals written after the point) must be an integer 0..${MAX_PRECISION}`);
  }
  const mass = args.mass ?? DEFAULT_MASS;
  if (!(mass > 0 && mass < 1)) throw new InputError(`${label}: mass is ${mass}; mass (the probability the range must hold) must be in (0, 1), e.g. 0.999`);
  const { cdf, quantile } = fam.make(a);
  const [lo, hi] = fam.bounds(a);
  const alpha = 1 - mass;
  const from = Number.isFinite(lo) ? lo : quantile(Number.isFinite(hi) ? alpha : alpha / 2);
  const to = Number.isFinite(hi) ? hi : quantile(Number.isFinite(lo) ? mass : 1 - alpha / 2);
  const scale = 10 ** precision;
  const kLo = Math.round(from * scale);
  const kHi = Math.round(to * scale);
  const bins = kHi - kLo + 1;
  if (bins > MAX_SUPPORT) {
    throw new InputError(`${label}: ${bins} bins at precision ${precision} (range ${fmt(from)}..${fmt(to)}); at most ${MAX_SUPPORT}: lower the precision (precision=${Math.max(0, precision - 1)}) or the mass`);
  }
  const h = 1 / scale;
  const edge = (k: number): number => (k - 0.5) / scale; // lower edge of bin k, computed from k to keep edges exact
  const support: string[] = [];
  const raw: number[] = [];
  let prev = cdf(edge(kLo));
  for (let k = kLo; k <= kHi; k++) {
    const next = cdf(edge(k + 1));
    support.push(answerText(k, precision));
    raw.push(Math.max(0, next - prev));
    prev = next;
  }
  const inside = raw.reduce((s, p) => s + p, 0);
  if (!(inside > 0)) throw new InputError(`${label}: no probability mass in the bins at precision ${precision}; raise the precision`);
  const info: ContinuousInfo = {
    family: name,
    params: Object.fromEntries(fam.params.map((p, i) => [p, a[i]!])),
    precision,
    bin_width: h,
    range: [edge(kLo), edge(kHi + 1)],
    tail: Math.max(0, 1 - inside),
    dist: label,
  };
  return { support, probs: raw.map((p) => p / inside), continuous: info };
}

/** k·10^−precision with exactly `precision` decimals, never "-0.0". */
export function answerText(k: number, precision: number): string {
  if (k === 0) return (0).toFixed(precision);
  const s = (Math.abs(k) / 10 ** precision).toFixed(precision);
  return k < 0 ? `-${s}` : s;
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}
