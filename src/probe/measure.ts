// `ptalign probe`: one measurement exactly as `run` makes it, with every step probed inside the model — the logit lens
// at each block and the attention to the model's own history (docs/probe.md). The steps, metrics and verdict are the
// run's; the probe adds fields to each step and a `probe` summary to the result.
import type { Model } from "../backends/index.ts";
import type { TokenBackend } from "../backends/types.ts";
import { describeDist, promptWords } from "../distributions/index.ts";
import { InputError } from "../errors.ts";
import { renderPrompt } from "../protocols/index.ts";
import { measureRecorded } from "../record.ts";
import type { RunRequest } from "../run.ts";
import type { Result } from "../types.ts";
import type { ScoringPort } from "../protocols/port.ts";
import { CapturingBackend } from "./capture.ts";
import { counterfactualProbe } from "./counterfactual.ts";
import { probeStep, type StepProber } from "./step.ts";
import { summariseProbe } from "./summary.ts";
import type { ProbeResult, ProbeStep } from "./types.ts";

export interface ProbeOptions {
  /** Logit lens at every block (needs the engine's inside view). */
  lens: boolean;
  /** Attention from the answer position per block. */
  attention: boolean;
  /** Attention per head as well as the mean over heads. */
  heads: boolean;
  /** Counterfactual histories at every step (counterfactual.ts), scored on the engine beneath the capture. */
  counterfactual?: boolean;
}

export interface ProbeRecordOptions {
  id: string;
  out: string | undefined;
  /** Stops at the next step: recorded interrupted, Interrupted thrown (record.ts). */
  signal?: AbortSignal;
}

/** A token backend opened with `inspect`, or an InputError saying what probe needs. */
export function probeBackend(model: Model): TokenBackend {
  if (model.kind !== "tokens") throw new InputError(`probe needs the embedded GGUF engine (a .gguf path, gguf:PATH or hf:USER/REPO); ${model.kind === "sim" ? "sim models have no layers" : "a remote server does not show its layers"}`);
  return model;
}

/**
 * Measures like `run` and probes every step. `model` must have been opened with `inspect: true` (the lens reads the
 * residual stream through it). The probe needs the steps in order, one sequence: the caller opens it with parallel 1.
 */
export async function probeMeasure(req: RunRequest, model: TokenBackend, record: ProbeRecordOptions, options: ProbeOptions): Promise<{ result: ProbeResult & { id: string }; file?: string }> {
  if (req.protocol === "batch") throw new InputError("probe measures the sequential and independent protocols (batch generates its answers freely; there is no exact P_token to read per layer)");
  const capturing = new CapturingBackend(model);
  const prompt = renderPrompt(req.template, { distribution: describeDist(req.target), support: req.target.support, ...promptWords(req.target), steps: req.settings.steps });
  const prober: StepProber = await probeStep(capturing, req, prompt, options);
  // The counterfactual histories go to the engine itself, not through the capture: they are not the step's evaluations.
  const cf = options.counterfactual ? await counterfactualProbe(capturing, { protocol: req.protocol, target: req.target, prompt, settings: req.settings }, model) : undefined;
  const { result, file } = await measureRecorded(
    {
      ...req,
      ...(cf ? { wrapPort: (port: ScoringPort) => cf.wrapPort(port) } : {}),
      onStep: async (r, step, run) => {
        await prober(step as ProbeStep, capturing.take());
        cf?.attach(r, step);
        await req.onStep?.(r, step, run);
      },
    },
    capturing,
    { ...record, complete: (res) => ({ ...res, probe: summariseProbe(res as Result), ...(cf ? { counterfactual: cf.summary() } : {}) }) },
  );
  return { result: result as ProbeResult & { id: string }, ...(file !== undefined ? { file } : {}) };
}
