// Completions from a model: free generation token by token from a TokenBackend (embedded llama.cpp), or a program
// chosen by a simulated family (sim:d / sim:e / sim:collapsed) from a pool of variants. Both record the P_token
// profile: per decision, the entropy and the top-1 probability of the model's distribution at temperature 1.

import type { PromptParts, TokenBackend } from "../../backends/types.ts";
import type { SimModel } from "../../backends/sim.ts";
import { fromBytes } from "../../backends/vocab.ts";
import { InputError } from "../../errors.ts";
import { applyTemperature, drawIndex, type Rng } from "../../rng.ts";
import { profile, type SamplerSettings } from "../../scoring/index.ts";
import { generateUntil } from "../../scoring/generate.ts";
import type { Problem } from "./problems.ts";

export interface Completion {
  completion: string;
  /** Decisions the model made: tokens generated (EOS included) or, for sim models, 1 (the program chosen). */
  steps: number;
  /** Σ over decisions of the entropy (nats) of the model's distribution at temperature 1. */
  entropy_sum: number;
  /** Decisions whose most probable choice had probability > 0.9. */
  confident: number;
  /** Why generation stopped. */
  stop: "eos" | "stop" | "max" | "sim";
}

export const CODEGEN_INSTRUCTION = "Complete the following JavaScript function. Continue the code exactly where it stops and end with the function's closing brace.";

export function codegenPrompt(problem: Problem): PromptParts {
  return { user: CODEGEN_INSTRUCTION, prefill: problem.prompt };
}

export interface GenerateOptions {
  temperature: number;
  maxTokens: number;
  stops: readonly string[];
  rng: Rng;
  /** Deployed sampler truncations (top-k, top-p, min-p), applied like the batch protocol's; absent = none. */
  sampler?: SamplerSettings;
}

/**
 * Samples one completion after `promptTokens` with the protocols' own generation (scoring/generate.ts): each token
 * from the deployed sampler's distribution (softmax(logits/T), truncated by top-k/top-p/min-p when set; T = 0 is
 * greedy), until an end-of-generation token, a stop string (the completion is cut before it) or maxTokens.
 */
export async function generateTokens(backend: TokenBackend, promptTokens: readonly number[], opts: GenerateOptions): Promise<Completion> {
  let entropySum = 0;
  let confident = 0;
  const gen = await generateUntil(backend, [...promptTokens], "", {
    temperature: opts.temperature,
    sampler: opts.sampler,
    rng: opts.rng,
    budget: opts.maxTokens,
    done: (written) => firstStop(fromBytes(written), opts.stops) >= 0,
    // One pass over the engine's logits (no whole-vocabulary Map): entropy and top-1 of the P_token profile.
    onDistribution: (dist) => {
      const { entropy, top } = profile(dist);
      entropySum += entropy;
      if (top > 0.9) confident++;
    },
  });
  const text = fromBytes(gen.written);
  const cut = gen.ended ? -1 : firstStop(text, opts.stops);
  const stop: Completion["stop"] = gen.ended ? "eos" : cut >= 0 ? "stop" : "max";
  return { completion: cut >= 0 ? text.slice(0, cut) : text, steps: gen.tokens, entropy_sum: entropySum, confident, stop };
}

function firstStop(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Fraction of the pool's mass the sim task target gives the wrong variants (split evenly among them). */
export const SIM_WRONG_MASS = 0.3;

/**
 * The program pool a simulated model chooses from, and the task's target over it: the canonical solution with
 * probability 1 − SIM_WRONG_MASS, each of the m wrong solutions SIM_WRONG_MASS / m (canonical alone: 1).
 */
export function simPool(problem: Problem): { programs: string[]; target: { support: string[]; probs: number[] } } {
  if (problem.canonical_solution === undefined) {
    throw new InputError(`problem ${problem.task_id} has no canonical_solution; sim: models choose among the canonical and wrong solutions, so they need one`);
  }
  const wrong = problem.wrong_solutions ?? [];
  const programs = [problem.canonical_solution, ...wrong];
  const probs = wrong.length === 0 ? [1] : [1 - SIM_WRONG_MASS, ...wrong.map(() => SIM_WRONG_MASS / wrong.length)];
  return { programs, target: { support: programs.map((_, i) => String(i)), probs } };
}

/**
 * A sim model "writes" a program in one decision: q = model.step(target over the pool, history, rng) (sim:e ≈ the
 * target, sim:d one-hot on a variant drawn from it, sim:collapsed on the least likely variant), tempered, and the
 * program drawn from it. `history` (indices drawn so far for this problem and run) feeds the families' `repeat`.
 */
export function generateSim(model: SimModel, problem: Problem, temperature: number, rng: Rng, history: number[], leakRng?: Rng): Completion {
  const { programs, target } = simPool(problem);
  const { ptoken, leak } = model.step(target, history, rng);
  const q = applyTemperature(ptoken, temperature);
  const idx = drawIndex(q, rng);
  history.push(idx);
  let h = 0;
  for (const p of ptoken) if (p > 0) h -= p * Math.log(p);
  // The family's leak: with that probability the model writes prose instead of code (drawn from its own stream).
  const completion = leakRng && leakRng() < leak ? SIM_OFF_FORMAT : programs[idx]!;
  return { completion, steps: 1, entropy_sum: h, confident: Math.max(...ptoken) > 0.9 ? 1 : 0, stop: "sim" };
}

/** What a sim model writes when it leaks: text that is not a program (a syntax error in every layout). */
export const SIM_OFF_FORMAT = "Sure! Here is the function you asked for.\n";
