// Free generation token by token (the `generation` capability): the batch protocol writes its answers with it, codegen
// its programs. One function, so both draw each token the same way: from the deployed sampler's distribution
// (temperature, top-k, top-p, min-p in the engine's order; T = 0 greedy).
import type { TokenBackend, TokenDistribution } from "../backends/types.ts";
import type { Rng } from "../rng.ts";
import { truncates, sampleWithSampler, type SamplerSettings } from "./sampler.ts";
import { argmaxToken, sampleToken } from "./temperature.ts";

/** How each token is drawn. */
export interface TokenSampling {
  /** 0 = the most probable token. */
  temperature: number;
  /** Deployed sampler truncations; absent or none = the tempered softmax. */
  sampler?: SamplerSettings;
  rng: Rng;
}

export interface GenerateUntilOptions extends TokenSampling {
  /** Stop before the next token once this holds for the bytes written so far (latin1 "binary string"). */
  done: (written: string) => boolean;
  /** Most tokens generated (an end-of-generation token counts). */
  budget: number;
  /** Sees each next-token distribution (at temperature 1) before its token is drawn: codegen's P_token profile. */
  onDistribution?: (dist: TokenDistribution) => void;
}

export interface Generated {
  /** `written` as given, followed by the bytes of every token generated (an end-of-generation token writes none). */
  written: string;
  /** The model produced an end-of-generation token. */
  ended: boolean;
  /** Tokens generated, the end-of-generation token included. */
  tokens: number;
}

/** The generation surface of a token backend. */
export type Generator = Pick<TokenBackend, "vocab" | "next" | "isEndOfGeneration">;

/** One token drawn from the sampler's distribution after `dist`. */
export function drawToken(dist: TokenDistribution, vocabSize: number, s: TokenSampling): number {
  if (s.temperature === 0) return argmaxToken(dist);
  return truncates(s.sampler) ? sampleWithSampler(dist, vocabSize, s.temperature, s.sampler, s.rng) : sampleToken(dist, s.temperature, s.rng);
}

/**
 * Samples tokens after `context` (appending each to it, the end-of-generation token too) until `done(written)`, an
 * end-of-generation token, or `budget` tokens.
 */
export async function generateUntil(backend: Generator, context: number[], written: string, opts: GenerateUntilOptions): Promise<Generated> {
  let tokens = 0;
  while (tokens < opts.budget && !opts.done(written)) {
    const dist = await backend.next(context);
    opts.onDistribution?.(dist);
    const token = drawToken(dist, backend.vocab.size, opts);
    context.push(token);
    tokens++;
    if (backend.isEndOfGeneration(token)) return { written, ended: true, tokens };
    written += backend.vocab.bytes(token);
  }
  return { written, ended: false, tokens };
}
