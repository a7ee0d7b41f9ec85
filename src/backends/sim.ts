// Simulated model families (MODEL spec `sim:FAMILY[?name=value&...]`): models whose per-step P_token is known by
// construction, used by the tests, the calibration study (scripts/calibrate.ts) and `ptalign demo`.
// docs/classification.md ("Simulated models") documents every family and parameter.
//
//   d          q_t = peak·onehot(c_t) + (1 − peak)·p,  c_t ~ p drawn afresh each step.
//              Each step is far from p, yet E[q_t] = p, so the samples match p in aggregate.  peak = 0 gives p itself.
//   e          q_t ∝ p · exp(noise · z),  z_i ~ N(0, 1) iid each step (logit-Gaussian perturbation of p).
//   collapsed  q_t ∝ (peak·onehot(mode) + (1 − peak)·p) · exp(jitter · z): always the same (wrong) answer.
//   d-plan     as d, but c_t is drawn from w ∝ p · exp(plan · (t·p − n_t)), n_t = the answers' counts so far: a D model
//              that plans its sequence, committing to the answers it has drawn too rarely (docs/classification.md).
//
// Every family also takes `leak` (raw mass outside the support reported at every step) and `repeat` (history
// dependence: q(x) is multiplied by exp(repeat × number of times x was drawn so far), then renormalised).
// All randomness comes from the `rng` argument, so a seeded protocol reproduces a run exactly.

import { InputError } from "../errors.ts";
import { drawIndex, gaussian, normalise, type Rng } from "../rng.ts";
import type { Target } from "../types.ts";
import type { Capabilities } from "./types.ts";

export type SimFamily = "d" | "e" | "collapsed" | "d-plan";

export interface SimModel {
  readonly kind: "sim";
  readonly capabilities: Capabilities;
  /** Canonical spec: family and every parameter with its value, e.g. "sim:d?peak=0.95&leak=0.01&repeat=0". */
  spec: string;
  family: SimFamily;
  params: Record<string, number>;
  /**
   * P_token over the support at step t given the indices of the samples drawn so far (at temperature 1; the protocol
   * applies temperature and draws). leak = raw mass outside the support.
   */
  step(target: Target, history: readonly number[], rng: Rng): { ptoken: number[]; leak: number };
}

interface ParamSpec {
  name: string;
  /** undefined: no numeric default (collapsed `mode` defaults to the least likely answer of p). */
  default: number | undefined;
  range: string;
  valid: (v: number) => boolean;
  help: string;
}

const LEAK: ParamSpec = {
  name: "leak",
  default: 0.01,
  range: "0 ≤ leak < 1",
  valid: (v) => v >= 0 && v < 1,
  help: "raw probability mass outside the support at every step",
};
const REPEAT: ParamSpec = {
  name: "repeat",
  default: 0,
  range: "-20 ≤ repeat ≤ 20",
  valid: (v) => v >= -20 && v <= 20,
  help: "history dependence: q(x) × exp(repeat × times x was drawn so far); 0 = memoryless",
};

const FAMILY_PARAMS: Record<SimFamily, ParamSpec[]> = {
  d: [
    {
      name: "peak",
      default: 0.95,
      range: "0 ≤ peak ≤ 1",
      valid: (v) => v >= 0 && v <= 1,
      help: "mass moved onto the answer drawn from p for this step (rest follows p)",
    },
    LEAK,
    REPEAT,
  ],
  e: [
    {
      name: "noise",
      default: 0.1,
      range: "0 ≤ noise ≤ 10",
      valid: (v) => v >= 0 && v <= 10,
      help: "standard deviation of the Gaussian noise added to log p at each step",
    },
    LEAK,
    REPEAT,
  ],
  "d-plan": [
    {
      name: "peak",
      default: 0.95,
      range: "0 ≤ peak ≤ 1",
      valid: (v) => v >= 0 && v <= 1,
      help: "mass moved onto the answer committed to for this step (rest follows p)",
    },
    {
      name: "plan",
      default: 2,
      range: "0 ≤ plan ≤ 50",
      valid: (v) => v >= 0 && v <= 50,
      help: "planning strength: the committed answer is drawn ∝ p · exp(plan × (t·p − times drawn)); 0 = sim:d",
    },
    LEAK,
    REPEAT,
  ],
  collapsed: [
    {
      name: "peak",
      default: 0.9,
      range: "0 ≤ peak ≤ 1",
      valid: (v) => v >= 0 && v <= 1,
      help: "mass moved onto the fixed mode (rest follows p)",
    },
    {
      name: "mode",
      default: undefined,
      range: "integer ≥ 0, an index into the support",
      valid: (v) => Number.isInteger(v) && v >= 0,
      help: "index of the answer the model collapses onto; default: the least likely answer of p (first on ties)",
    },
    {
      name: "jitter",
      default: 0.2,
      range: "0 ≤ jitter ≤ 10",
      valid: (v) => v >= 0 && v <= 10,
      help: "standard deviation of the Gaussian noise added to the log-probabilities at each step",
    },
    LEAK,
    REPEAT,
  ],
};

/**
 * P_token over the support is given, exact by construction; bias, truncations (the leak standing for the rest of the
 * vocabulary) and any temperature apply to it directly. No tokens to generate: batch draws each answer from q, which
 * the model sees in its history, exactly like sequential. Runs are one after another (nothing to wait for).
 */
export const SIM_CAPABILITIES: Capabilities = { scoring: "exact", generation: false, protocols: ["sequential", "independent", "batch"], parallel: 1, logitBias: true, samplerTruncation: true, temperatures: "any" };

export const SIM_FAMILIES: readonly SimFamily[] = ["d", "e", "collapsed", "d-plan"];

function validParamsLine(family: SimFamily): string {
  return FAMILY_PARAMS[family]
    .map((p) => `${p.name} (${p.range}, default ${p.default ?? "least likely answer of p"})`)
    .join(", ");
}

function isFamily(s: string): s is SimFamily {
  return (SIM_FAMILIES as readonly string[]).includes(s);
}

/** Parses "sim:d", "sim:e?noise=0.05", "sim:collapsed?mode=0&jitter=0.1". Bad input → InputError (one line). */
export function parseSimSpec(spec: string): SimModel {
  const m = /^sim:([^?]*)(?:\?(.*))?$/.exec(spec.trim());
  if (!m) {
    throw new InputError(
      `not a sim model spec: "${spec}"; use sim:FAMILY[?name=value&...] with FAMILY one of ${SIM_FAMILIES.join(", ")}`,
    );
  }
  const familyText = m[1] ?? "";
  if (!isFamily(familyText)) {
    throw new InputError(
      `unknown sim family "${familyText}" in "${spec}"; valid families: ${SIM_FAMILIES.join(", ")} (e.g. sim:d?peak=0.9)`,
    );
  }
  const family = familyText;
  const specs = FAMILY_PARAMS[family];
  const params: Record<string, number> = {};
  for (const p of specs) if (p.default !== undefined) params[p.name] = p.default;
  const given = new Set<string>();
  const query = m[2] ?? "";
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    const valueText = eq < 0 ? "" : part.slice(eq + 1);
    const ps = specs.find((p) => p.name === name);
    if (!ps) {
      throw new InputError(
        `unknown parameter "${name}" for sim:${family} in "${spec}"; valid parameters: ${validParamsLine(family)}`,
      );
    }
    if (given.has(name)) throw new InputError(`parameter "${name}" given twice in "${spec}"; give it once`);
    given.add(name);
    const value = valueText.trim() === "" ? Number.NaN : Number(valueText);
    if (!Number.isFinite(value) || !ps.valid(value)) {
      throw new InputError(
        `bad value "${valueText}" for ${name} in "${spec}": need ${ps.range}; valid parameters: ${validParamsLine(family)}`,
      );
    }
    params[name] = value;
  }
  const canonical =
    `sim:${family}?` +
    specs
      .filter((p) => params[p.name] !== undefined)
      .map((p) => `${p.name}=${params[p.name]}`)
      .join("&");
  return makeModel(family, params, canonical);
}

/** Multiplies q by exp(logBoost_i) in log space (so large boosts do not overflow) and renormalises; zeros stay zero. */
function tilt(q: readonly number[], logBoost: (i: number) => number): number[] {
  const logs = q.map((v, i) => (v > 0 ? Math.log(v) + logBoost(i) : -Infinity));
  const max = Math.max(...logs);
  if (max === -Infinity) return normalise(q);
  return normalise(logs.map((l) => (l === -Infinity ? 0 : Math.exp(l - max))));
}

/** Times each answer index occurs in the history (indices outside the support are ignored). */
function countsOf(history: readonly number[], K: number): number[] {
  const counts = new Array<number>(K).fill(0);
  for (const h of history) if (h >= 0 && h < K) counts[h]! += 1;
  return counts;
}

function leastLikely(probs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! < probs[best]!) best = i;
  return best;
}

function makeModel(family: SimFamily, params: Record<string, number>, spec: string): SimModel {
  const leak = params.leak ?? 0;
  const repeat = params.repeat ?? 0;
  const applyRepeat = (q: number[], history: readonly number[]): number[] => {
    if (repeat === 0 || history.length === 0) return q;
    const counts = countsOf(history, q.length);
    return tilt(q, (i) => repeat * counts[i]!);
  };

  let base: (target: Target, rng: Rng, history: readonly number[]) => number[];
  switch (family) {
    case "d": {
      const peak = params.peak ?? 0.95;
      base = (target, rng) => {
        const c = drawIndex(target.probs, rng);
        return target.probs.map((p, i) => (1 - peak) * p + (i === c ? peak : 0));
      };
      break;
    }
    case "e": {
      const noise = params.noise ?? 0.1;
      base = (target, rng) => {
        const z = target.probs.map(() => gaussian(rng));
        return noise === 0 ? normalise(target.probs) : tilt(target.probs, (i) => noise * z[i]!);
      };
      break;
    }
    case "d-plan": {
      const peak = params.peak ?? 0.95;
      const plan = params.plan ?? 2;
      base = (target, rng, history) => {
        // The deficit t·p(x) − n_t(x): how far behind its share answer x is after t draws. One uniform per step, as sim:d.
        const counts = countsOf(history, target.probs.length);
        const c = drawIndex(tilt(target.probs, (i) => plan * (history.length * target.probs[i]! - counts[i]!)), rng);
        return target.probs.map((p, i) => (1 - peak) * p + (i === c ? peak : 0));
      };
      break;
    }
    case "collapsed": {
      const peak = params.peak ?? 0.9;
      const jitter = params.jitter ?? 0.2;
      base = (target, rng) => {
        const mode = params.mode ?? leastLikely(target.probs);
        if (mode >= target.probs.length) {
          throw new InputError(
            `sim:collapsed mode=${mode} is out of range for a support of ${target.probs.length} answers; use 0..${target.probs.length - 1}`,
          );
        }
        const q = target.probs.map((p, i) => (1 - peak) * p + (i === mode ? peak : 0));
        const z = q.map(() => gaussian(rng));
        return jitter === 0 ? normalise(q) : tilt(q, (i) => jitter * z[i]!);
      };
      break;
    }
  }

  return {
    kind: "sim",
    capabilities: SIM_CAPABILITIES,
    spec,
    family,
    params: { ...params },
    step(target, history, rng) {
      return { ptoken: applyRepeat(base(target, rng, history), history), leak };
    },
  };
}
