// The one small interface every token-level engine hides behind (embedded llama.cpp now, HTTP servers later).
// Scoring and protocols only ever see token ids, token bytes and next-token distributions.
import type { ProtocolName } from "../types.ts";

/** What a model is, declared by the model itself (never guessed from its fields). */
export type ModelKind = "sim" | "tokens" | "text";

/**
 * What a model can do, declared by its backend. The protocol loop checks these (src/protocols/capabilities.ts) and
 * nothing else about the model's shape; a new backend declares its own.
 */
export interface Capabilities {
  /** "exact": P_token over the support is exact (full distribution, sim by construction, echo for the server's own tokenisation); "bounded": mass the server does not show is reported as `unknown` (top-k). */
  readonly scoring: "exact" | "bounded";
  /** Free generation token by token (`generateUntil`: the batch protocol, codegen). */
  readonly generation: boolean;
  /** The protocols the backend can run. batch without `generation` (sim) draws each answer itself, like sequential. */
  readonly protocols: readonly ProtocolName[];
  /** Runs measured at once: 1 = one after another; n = an embedded context's sequences; Infinity = a remote server (its HTTP client limits). */
  readonly parallel: number;
  /** A logit bias per answer can be applied (per token on token backends, on q directly for sim). */
  readonly logitBias: boolean;
  /** The sampler truncations (top-k, top-p, min-p) can be applied exactly (they need the full distribution). */
  readonly samplerTruncation: boolean;
  /** "any": every temperature ≥ 0; "unit": the distribution is read at T = 1 only (T = 0 takes its argmax). */
  readonly temperatures: "any" | "unit";
}

/** Next-token probabilities at temperature 1. `complete` = the map covers the whole vocabulary (absent ids have 0). */
export interface TokenDistribution {
  probs: ReadonlyMap<number, number>;
  complete: boolean;
  /**
   * Engines that read the raw logits give them too (then `probs` is a lazy view, p_v = exp(values[v] − logZ)), so
   * that temperature, entropy and sampling are one pass over a Float32Array (scoring/temperature.ts).
   */
  logits?: Logits;
  /** Engines opened with `inspect` (the probe, docs/probe.md): what the model computed at this position. */
  inside?: Inside;
}

/**
 * What the model computed at the evaluated position, read through llama.cpp's eval callback: the residual stream after
 * each block and each block's attention weights from this position (flash attention off).
 */
export interface Inside {
  /** Per block in order, the residual stream after it (`l_out-<il>`), n_embd floats. */
  hidden: Float32Array[];
  /** Per block in order, the attention weights (`kq_soft_max-<il>`): `heads` rows of `positions` floats (position p = the context's token p). */
  attention: { heads: number; positions: number; weights: Float32Array }[];
}

/** Float32 logits of every token id and log Σ_v exp(values[v]), the log-normaliser of softmax at temperature 1. */
export interface Logits {
  values: Float32Array;
  logZ: number;
}

/**
 * The model's final norm and output matrix, read from its GGUF file: what turns a residual stream into next-token
 * logits (the logit lens applies it to every block's output; docs/probe.md).
 */
export interface OutputHead {
  readonly nEmbd: number;
  readonly nVocab: number;
  /** Logits of the residual stream `hidden` (n_embd floats): out[v] = Σ_j W[v][j] · norm(hidden)[j]. */
  logits(hidden: Float32Array): Float32Array;
  /** The logits of several residual streams (one per block) in one pass over the matrix. */
  logitsMany(hiddens: readonly Float32Array[]): Float32Array[];
  /** Frees native memory (the ggml head's copy of the matrix); called when the model closes. */
  close?(): void;
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
  /** Milliseconds spent in the engine's forward passes (llama_decode), where the engine can tell (embedded, logits path). */
  engineMs?: number;
}

export interface TokenBackend {
  readonly kind: "tokens";
  readonly capabilities: Capabilities;
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
  /** Engines that tokenise remotely do it here, before encodePrompt / renderPrompt are called for this prompt. */
  prepare?(prompt: PromptParts): Promise<void>;
  /** Remote engines: settings worth recording in the result (server, scoring path; never secrets). */
  describe?(): Record<string, unknown>;
  /** The engine serves several requests at once (informative: the protocols read `capabilities.parallel`). */
  readonly parallel?: boolean;
  /** Embedded engines: device, GPU layers, threads, parallel sequences (recorded in settings.engine, printed in the run header). */
  readonly engine?: Readonly<Record<string, string | number | boolean>>;
  isEndOfGeneration(token: number): boolean;
  /** The full next-token distribution after `context`. Implementations reuse whatever prefix they already evaluated. */
  next(context: readonly number[]): Promise<TokenDistribution>;
  /** Engines opened with `inspect`: the output head, for the logit lens. */
  outputHead?(): Promise<OutputHead>;
  /** Forget cached prefixes (used by the benchmark to measure the cost without reuse). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Option probabilities read at the text level by a remote server (echo scoring or top-k log-probabilities). */
export interface TextScored {
  /** Probability that the model writes each option's text next (0 for an option no visible path reached). */
  raw: number[];
  /** Visible mass on text that is none of the options. */
  leak: number;
  /** Mass the server did not show (outside its top-k): an upper bound on what raw and leak may be missing. */
  unknown: number;
  /** Indices of the options no visible path reached (outside the top-k). */
  outside: number[];
  /** Top-k scoring: bounds [lo, hi] on the full-vocabulary entropy at the answer position (hi null: vocabulary unknown). */
  entropyBounds?: [number, number | null];
}

/**
 * A remote model scored at the text level: the server tokenises the text itself, so scoring asks "how probable is
 * this option text after this context" rather than walking token ids (see docs/backends.md).
 */
export interface TextBackend {
  readonly kind: "text";
  readonly capabilities: Capabilities;
  readonly name: string;
  /** "echo": exact for the server's tokenisation of each option; "top-k": truncated, with `unknown` as the bound. */
  readonly scoring: "echo" | "top-k";
  readonly templated: boolean;
  readonly stats: EngineStats;
  renderPrompt(prompt: PromptParts): string;
  /** P of each option text (bytes) right after the prompt followed by `written` (bytes of the answers so far). */
  score(prompt: PromptParts, written: string, texts: readonly string[], opts: { prune: number }): Promise<TextScored>;
  /** Settings worth recording in the result (no secrets, nothing that depends on the cache). */
  describe(): Record<string, unknown>;
  close(): Promise<void>;
}
