// Scoring adapter for simulated models: the model gives q over the support directly, from its history of drawn
// answers and the run's generator. Bias, sampler truncations and temperature are applied to q here, so the loop sees
// the same kind of masses a token backend's trie gives.
import type { SimModel } from "../../backends/sim.ts";
import { RunError } from "../../errors.ts";
import { normalise, temperedWeights, type Rng } from "../../rng.ts";
import { applySampler, truncates } from "../../scoring/sampler.ts";
import type { Target } from "../../types.ts";
import type { RunCursor, ScoringPort, SupportScore } from "../port.ts";
import type { RunSettings } from "../settings.ts";

/**
 * One step of a sim model: q = step(target, history) at temperature 1, the logit bias on q directly (q_i × exp(b_i),
 * renormalised), then the sampler — truncations see the answers plus the sim's leak as one more token standing for
 * the rest of the vocabulary — or the temperature. T = 0 is read at T = 1 (the loop takes the argmax).
 */
export function simScore(model: Pick<SimModel, "step">, target: Target, history: readonly number[], rng: Rng, settings: Pick<RunSettings, "temperature" | "sampler" | "logitBias">): SupportScore {
  const q = model.step(target, history, rng);
  const bias = settings.logitBias;
  const base = bias ? normalise(q.ptoken.map((v, i) => v * Math.exp(bias[target.support[i]!] ?? 0))) : q.ptoken;
  const T = settings.temperature;
  if (truncates(settings.sampler) && T > 0) {
    const sampled = applySampler([...base.map((v) => v * (1 - q.leak)), q.leak], T, settings.sampler);
    return { raw: Array.from(sampled.subarray(0, base.length)), leak: sampled[base.length]!, unknown: 0 };
  }
  return { raw: temperedWeights(base, T === 0 ? 1 : T), leak: q.leak, unknown: 0 };
}

export function simPort(model: Pick<SimModel, "step" | "capabilities">, target: Target, settings: RunSettings, spec?: string): ScoringPort {
  return {
    capabilities: model.capabilities,
    begin: (rng) => simCursor(model, target, settings, rng, []),
    resume: (rng, written) => simCursor(model, target, settings, rng, written.map((w) => w.index)),
    noAnswer: (t, scored) => new RunError(`at step ${t} the sampler keeps no answer of the support (leak ${scored.leak.toFixed(3)}); loosen --top-k, --top-p or --min-p`),
    recorded: () => (spec === undefined ? {} : { model_spec: spec }),
  };
}

/** sequential and batch show the model the answers drawn so far; independent shows it none (advance is not called). */
function simCursor(model: Pick<SimModel, "step">, target: Target, settings: RunSettings, rng: Rng, history: number[]): RunCursor {
  return {
    score: async () => simScore(model, target, history, rng, settings),
    advance: (index) => void history.push(index),
  };
}
