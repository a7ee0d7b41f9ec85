// The probe's additions to the result JSON (docs/probe.md): per step, what the model computed inside at the answer
// position (logit lens, attention to its own history); per measurement, their summary. All keys are additive: a
// probe result is a run result (src/types.ts) whose steps and top level carry more fields.
import type { Result, Step } from "../types.ts";
import type { CounterfactualStep, CounterfactualSummary } from "./counterfactual.ts";

/** One token of a layer's own next-token prediction at the answer position. */
export interface TokenP {
  id: number;
  p: number;
}

/** The logit lens at one block's output (final norm and output matrix applied to the residual stream there). */
export interface LensLayer {
  /** Block index, 0-based (llama.cpp's `l_out-<il>`). */
  layer: number;
  /** The answers' distribution read from this layer, in support order (chain rule over every tokenisation, like P_token). */
  ptoken: number[];
  /** Mass this layer puts on text that is none of the answers. */
  leak: number;
  /** Mass on paths pruned below --prune before they reached an answer (as a step's `unknown`). */
  unknown: number;
  /** TV(ptoken, P_task). */
  tv_task: number;
  /** TV(ptoken, the step's P_token) — the final layer's answers distribution. */
  tv_final: number;
  /** Entropy (nats) of ptoken. */
  entropy: number;
  /** The layer's ten most probable next tokens over the whole vocabulary at the answer position. */
  top: TokenP[];
}

/** Attention mass from the answer position, one block: to the earlier samples, the target's description, the rest of the prompt. */
export interface AttentionLayer {
  layer: number;
  /** Mean over heads. The three masses sum to 1 (the answer position's own token counts in the region it belongs to). */
  history: number;
  target: number;
  prompt: number;
  /** --heads: per head, [history, target, prompt]. */
  heads?: [number, number, number][];
}

/** A probed step: the run's step plus what the model computed inside. */
export interface ProbeStep extends Step {
  /** Token ids of the context up to the answer position (the prompt, then the samples so far). */
  tokens?: number[];
  /** One entry per block, in block order. */
  lens?: LensLayer[];
  /** The first block from which the final top answer stays on top of the lens (null: never, ties included). */
  commit_layer?: number | null;
  attention?: AttentionLayer[];
  /** --counterfactual: what changing the step's history did to q_t (counterfactual.ts). */
  counterfactual?: CounterfactualStep;
}

/** Per block, the mean over every probed step of the measurement. */
export interface LayerSummary {
  layer: number;
  tv_task: number;
  tv_final: number;
  entropy: number;
  leak: number;
}

export interface AttentionSummary {
  layer: number;
  history: number;
  target: number;
  prompt: number;
}

/** The measurement's summary of the probes (result key `probe`). */
export interface ProbeSummary {
  /** Blocks of the model. */
  layers: number;
  /** Steps probed. */
  steps: number;
  lens?: LayerSummary[];
  /** Steps per commit layer (key: block index, or "none"). */
  commit_histogram?: Record<string, number>;
  /** Median commit layer over the steps that commit (null when none does). */
  commit_median?: number | null;
  attention?: AttentionSummary[];
  /** Where the model's context regions came from (token index ranges into `tokens`), for readers of `attention`. */
  regions?: { target: [number, number] | null; prompt_tokens: number };
}

export interface ProbeResult extends Result {
  probe: ProbeSummary;
  /** --counterfactual: the effects of the steps' counterfactual histories (counterfactual.ts). */
  counterfactual?: CounterfactualSummary;
}
