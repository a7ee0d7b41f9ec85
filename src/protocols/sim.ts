import type { SimModel } from "../backends/sim.ts";
import { applyTemperature, drawIndex, makeRng, normalise } from "../rng.ts";
import type { ProtocolName, Run, Step, Target } from "../types.ts";
import { applySampler, truncates } from "../scoring/sampler.ts";
import { runSeed, type RunSettings, type StepListener } from "./tokens.ts";

/**
 * The protocols for simulated models, which give P_token over the support directly. sequential and batch let the
 * model see the samples drawn so far (its `history`); independent shows it none. The step's distribution is tempered
 * like an engine's (T = 0: the most probable answer).
 */
export function runSimProtocol(model: Pick<SimModel, "step">, protocol: ProtocolName, target: Target, settings: RunSettings, onStep?: StepListener, runs: Run[] = []): Run[] {
  for (let r = 0; r < settings.runs; r++) {
    const run: Run = { seed: runSeed(settings.seed, r), steps: [] };
    runs.push(run);
    const rng = makeRng(run.seed);
    const history: number[] = [];
    for (let t = 0; t < settings.steps; t++) {
      const q = model.step(target, protocol === "independent" ? [] : history, rng);
      const bias = settings.logitBias;
      // Logit bias on q directly, before temperature: q_i × exp(b_i), renormalised.
      const base = bias ? normalise(q.ptoken.map((v, i) => v * Math.exp(bias[target.support[i]!] ?? 0))) : q.ptoken;
      // Sampler truncations see the answers plus the sim's leak as one more token standing for the rest of the vocabulary.
      const sampled = truncates(settings.sampler) && settings.temperature > 0 ? applySampler([...base.map((v) => v * (1 - q.leak)), q.leak], settings.temperature, settings.sampler) : undefined;
      const ptoken = sampled ? normalise(Array.from(sampled.subarray(0, base.length))) : applyTemperature(base, settings.temperature);
      const leak = sampled ? sampled[base.length]! : q.leak;
      const idx = drawIndex(ptoken, rng);
      history.push(idx);
      const step: Step = { t, ptoken, leak, sample: target.support[idx]!, unknown: 0 };
      run.steps.push(step);
      onStep?.(r, step, run);
    }
  }
  return runs;
}
