// The one small interface every token-level engine hides behind (embedded llama.cpp now, HTTP servers later).
// Scoring and protocols only ever see token ids, token bytes and next-token distributions.

/** Next-token probabilities at temperature 1. `complete` = the map covers the whole vocabulary (absent ids have 0). */
export interface TokenDistribution {
  probs: ReadonlyMap<number, number>;
  complete: boolean;
}

/** The bytes each token writes, as "binary strings" (one char per byte, latin1), "" for tokens that write no text. */
export interface Vocabulary {
  readonly size: number;
  bytes(token: number): string;
  /** Every token whose bytes equal `bytes` (a normal token and a byte-fallback token can write the same byte). */
  exact(bytes: string): readonly number[];
  /** Every token whose bytes start with `prefix` and are longer than it. */
  extending(prefix: string): readonly number[];
}

export interface PromptParts {
  /** The instruction, as the user's message. */
  user: string;
  /** The start of the model's answer, written for it (e.g. "Samples:"). */
  prefill: string;
}

export interface EngineStats {
  /** Tokens the engine has evaluated (the cost that prefix reuse saves). */
  evaluated: number;
  /** Next-token distributions requested. */
  requests: number;
}

export interface TokenBackend {
  readonly kind: "tokens";
  /** The model spec as the user gave it (never contains secrets). */
  readonly name: string;
  readonly vocab: Vocabulary;
  /** Largest context, in tokens, that the backend can evaluate. */
  readonly contextSize: number;
  readonly stats: EngineStats;
  /** Whether the prompt went through the model's chat template (false with --raw or when the model has none). */
  readonly templated: boolean;
  /** Token ids of the prompt, ending where the model's answer continues after the prefill. */
  encodePrompt(prompt: PromptParts): number[];
  /** Human-readable text of the prompt as the engine sees it (for --show-prompt). */
  renderPrompt(prompt: PromptParts): string;
  isEndOfGeneration(token: number): boolean;
  /** The full next-token distribution after `context`. Implementations reuse whatever prefix they already evaluated. */
  next(context: readonly number[]): Promise<TokenDistribution>;
  /** Forget cached prefixes (used by the benchmark to measure the cost without reuse). */
  reset(): Promise<void>;
  close(): Promise<void>;
}
