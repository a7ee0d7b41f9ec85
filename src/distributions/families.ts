// Parametric families and presets of P_task. Each family validates its parameters and throws InputError with one
// line naming the parameter, its value, the rule and an example. The answers are the integers of the support as strings.
import { InputError } from "../errors.ts";
import type { Target } from "../types.ts";

/** A family larger than this is almost certainly a typo, and its prompt and scoring cost would be prohibitive. */
export const MAX_SUPPORT = 10_000;

export const FAMILY_NAMES = ["uniform", "binomial", "poisson", "geometric", "zipf", "bernoulli"] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];

/** Parameter names in positional order (every one may also be given by name, e.g. max=15), usage and example. */
export const FAMILY_SIGNATURES: Readonly<Record<FamilyName, { params: readonly string[]; usage: string; example: string }>> = {
  uniform: { params: ["a", "b"], usage: "uniform(a,b)", example: "uniform(1,10)" },
  binomial: { params: ["n", "p"], usage: "binomial(n,p)", example: "binomial(10,0.5)" },
  poisson: { params: ["lambda", "max"], usage: "poisson(lambda,max=M)", example: "poisson(5,max=15)" },
  geometric: { params: ["p", "max"], usage: "geometric(p,max=M)", example: "geometric(0.3,max=10)" },
  zipf: { params: ["s", "n"], usage: "zipf(s,n)", example: "zipf(1.1,20)" },
  bernoulli: { params: ["p"], usage: "bernoulli(p)", example: "bernoulli(0.7)" },
};

export const PRESET_NAMES = ["extreme", "flat"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const PRESETS: Readonly<Record<PresetName, Target>> = {
  extreme: { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] },
  flat: {
    support: ["1", "2", "3", "4", "5", "6", "7", "8", "9"],
    probs: [0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1],
  },
};

/** A fresh copy of a preset (callers may mutate what they get). */
export function preset(name: PresetName): Target {
  const t = PRESETS[name];
  return { support: [...t.support], probs: [...t.probs] };
}

/** Integers a..b inclusive, each 1/(b−a+1). */
export function uniform(a: number, b: number, label = `uniform(${a},${b})`): Target {
  requireInteger(label, "a", a, -Infinity);
  requireInteger(label, "b", b, -Infinity);
  if (a > b) throw new InputError(`${label}: a is ${a} > b = ${b}; write the smaller bound first, e.g. uniform(${b},${a})`);
  const k = b - a + 1;
  requireSize(label, k);
  return { support: range(a, b), probs: new Array<number>(k).fill(1 / k) };
}

/** Support 0..n, P(k) = C(n,k) p^k (1−p)^(n−k). */
export function binomial(n: number, p: number, label = `binomial(${n},${p})`): Target {
  requireInteger(label, "n", n, 1);
  requireProbability(label, "p", p, true);
  requireSize(label, n + 1);
  const support = range(0, n);
  // Degenerate ends: log(0) would give NaN from 0·(−∞).
  if (p === 0 || p === 1) return { support, probs: support.map((_, k) => (k === (p === 0 ? 0 : n) ? 1 : 0)) };
  // Log space so that large n neither overflows C(n,k) nor underflows p^k.
  const lf = logFactorials(n);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  const probs = support.map((_, k) => Math.exp(lf[n]! - lf[k]! - lf[n - k]! + k * lp + (n - k) * lq));
  return { support, probs };
}

/** Support 0..max, P(k) = e^−λ λ^k / k!, with P(X ≥ max) folded into max so the support carries all the mass. */
export function poisson(lambda: number, max: number, label = `poisson(${lambda},max=${max})`): Target {
  if (!Number.isFinite(lambda) || lambda <= 0) throw new InputError(`${label}: lambda is ${lambda}; lambda must be a finite number > 0`);
  requireInteger(label, "max", max, 0);
  requireSize(label, max + 1);
  const lf = logFactorials(max);
  const ll = Math.log(lambda);
  const pmf = (k: number): number => Math.exp(-lambda + k * ll - lf[k]!);
  const probs: number[] = [];
  let below = 0;
  for (let k = 0; k < max; k++) {
    const v = pmf(k);
    probs.push(v);
    below += v;
  }
  // The tail by subtraction loses all its digits when it is tiny; in that case max > median ≥ mode, so the terms from
  // max on decrease and summing them directly is exact to rounding.
  let tail: number;
  if (below < 0.5) tail = 1 - below;
  else {
    tail = 0;
    let term = pmf(max);
    for (let k = max; term > 0 && term > tail * 1e-17; k++) {
      tail += term;
      term *= lambda / (k + 1);
    }
  }
  probs.push(tail);
  return { support: range(0, max), probs };
}

/** Support 1..max, P(k) = (1−p)^(k−1) p, with P(X ≥ max) = (1−p)^(max−1) folded into max. */
export function geometric(p: number, max: number, label = `geometric(${p},max=${max})`): Target {
  requireProbability(label, "p", p, false);
  requireInteger(label, "max", max, 1);
  requireSize(label, max);
  const probs: number[] = [];
  for (let k = 1; k < max; k++) probs.push(Math.pow(1 - p, k - 1) * p);
  probs.push(Math.pow(1 - p, max - 1));
  return { support: range(1, max), probs };
}

/** Support 1..n, P(k) = k^−s / Σ_j j^−s. */
export function zipf(s: number, n: number, label = `zipf(${s},${n})`): Target {
  if (!Number.isFinite(s) || s < 0) throw new InputError(`${label}: s is ${s}; s must be a finite number ≥ 0`);
  requireInteger(label, "n", n, 1);
  requireSize(label, n);
  const weights = range(1, n).map((_, i) => Math.pow(i + 1, -s));
  const sum = weights.reduce((a, b) => a + b, 0);
  return { support: range(1, n), probs: weights.map((w) => w / sum) };
}

/** Support 0, 1 with P(1) = p. */
export function bernoulli(p: number, label = `bernoulli(${p})`): Target {
  requireProbability(label, "p", p, true);
  return { support: ["0", "1"], probs: [1 - p, p] };
}

/** Builds a family from already-parsed numeric arguments, by parameter name. */
export function family(name: FamilyName, args: Readonly<Record<string, number>>, label: string): Target {
  const sig = FAMILY_SIGNATURES[name];
  for (const param of sig.params) {
    if (args[param] === undefined) {
      const hint = param === "max" ? "; the tail beyond max is folded into max" : "";
      throw new InputError(`${label}: ${param} is required; usage ${sig.usage}, e.g. ${sig.example}${hint}`);
    }
  }
  const a = (param: string): number => args[param]!;
  switch (name) {
    case "uniform":
      return uniform(a("a"), a("b"), label);
    case "binomial":
      return binomial(a("n"), a("p"), label);
    case "poisson":
      return poisson(a("lambda"), a("max"), label);
    case "geometric":
      return geometric(a("p"), a("max"), label);
    case "zipf":
      return zipf(a("s"), a("n"), label);
    case "bernoulli":
      return bernoulli(a("p"), label);
  }
}

function range(a: number, b: number): string[] {
  const out: string[] = [];
  for (let k = a; k <= b; k++) out.push(String(k));
  return out;
}

/** log(k!) for k = 0..n, by summing logs (exact enough: the error is ~n·ε relative to log n!). */
function logFactorials(n: number): number[] {
  const out = [0];
  for (let k = 1; k <= n; k++) out.push(out[k - 1]! + Math.log(k));
  return out;
}

function requireInteger(label: string, param: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    const rule = min === -Infinity ? "an integer" : `an integer ≥ ${min}`;
    throw new InputError(`${label}: ${param} is ${v}; ${param} must be ${rule}`);
  }
}

function requireProbability(label: string, param: string, v: number, zeroAllowed: boolean): void {
  if (!(v >= 0 && v <= 1) || (!zeroAllowed && v === 0)) {
    throw new InputError(`${label}: ${param} is ${v}; ${param} must be in ${zeroAllowed ? "[0, 1]" : "(0, 1]"}`);
  }
}

function requireSize(label: string, k: number): void {
  if (k > MAX_SUPPORT) throw new InputError(`${label}: ${k} answers; at most ${MAX_SUPPORT} are supported`);
}
