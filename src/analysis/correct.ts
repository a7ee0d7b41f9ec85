// Logit-bias correction (docs/metrics.md, "Correction"): a per-answer bias that brings the model's mean P_token to
// P_task, iterated against the model.
import { closeModel, isSimModel, isTextBackend, openModel } from "../backends/index.ts";
import { answerTokenBias, DELIMITER, SEPARATOR } from "../protocols/index.ts";
import { optionTexts } from "../scoring/index.ts";
import { InputError } from "../errors.ts";
import { meanVector } from "../metrics/basic.ts";
import { measure, type RunRequest } from "../run.ts";
import type { Metrics, Result } from "../types.ts";

export interface CorrectionStep {
  iteration: number;
  bias: Record<string, number>;
  marginal_tvd: number;
  atvd: number;
  volatility: number;
}

export interface Correction {
  /** The best bias found (lowest marginal_tvd), per answer. */
  bias: Record<string, number>;
  iterations: CorrectionStep[];
  before: Pick<Metrics, "atvd" | "marginal_tvd" | "volatility">;
  /** The re-run with `bias` applied (same seeds). */
  after: Pick<Metrics, "atvd" | "marginal_tvd" | "volatility">;
  result: Result;
  /** Token models: the bias as the APIs take it (`logit_bias`: token id → bias), on each answer's first distinguishing token. */
  logit_bias?: Record<string, number>;
  note: string;
  /** false when the re-run's metrics equal the first measurement's: the bias did nothing (see `warning`). */
  changed: boolean;
  /** Set when the correction changed nothing, or was not needed. */
  warning?: string;
}

type Summary = Pick<Metrics, "atvd" | "marginal_tvd" | "volatility">;

/**
 * Whether the correction did anything: a bias that leaves every metric where it was (to 1e-9) acted on tokens that
 * carry none of the answers' mass, and must not pass for a correction.
 */
export function correctionEffect(before: Summary, after: Summary, bias: Record<string, number>, goal: number): { changed: boolean; warning?: string } {
  const same = (["atvd", "marginal_tvd", "volatility"] as const).every((k) => Math.abs(before[k] - after[k]) <= 1e-9);
  if (!same) return { changed: true };
  if (Object.values(bias).every((b) => b === 0)) {
    return { changed: false, warning: before.marginal_tvd < goal ? `no correction needed: marginal_tvd ${before.marginal_tvd.toPrecision(3)} is already below ${goal}` : "no bias was found that lowers marginal_tvd: the correction changed nothing" };
  }
  return { changed: false, warning: "the correction changed nothing: the biased tokens carry none of the answers' probability (check the answers' tokenisation with --show-prompt); do not deploy this bias" };
}

const pick = (m: Pick<Metrics, "atvd" | "marginal_tvd" | "volatility">) => ({ atvd: m.atvd, marginal_tvd: m.marginal_tvd, volatility: m.volatility });

/**
 * Iteration k measures the model with bias b_k; q̄ = mean over all steps of P_token; b_{k+1,i} = b_{k,i} + T·(log p_i −
 * log max(q̄_i, 1e-12)) (T = the run's temperature, 1 when 0: the bias acts before temperature, so its effect on the
 * tempered q is b/T). Stops when marginal_tvd improves by less than `tolerance` (or gets worse), falls below `target`,
 * or after `maxIterations` measurements; then re-runs with the best bias.
 */
export async function correctBias(req: RunRequest, opts: { maxIterations?: number; tolerance?: number; goal?: number } = {}): Promise<Correction> {
  const maxIterations = opts.maxIterations ?? 10;
  const tolerance = opts.tolerance ?? 1e-4;
  const goal = opts.goal ?? 1e-3;
  if (req.protocol === "batch") throw new InputError("correct works with the scored protocols (sequential, independent)");
  const p = req.target.probs;
  const T = req.settings.temperature > 0 ? req.settings.temperature : 1;
  const model = await openModel(req.model, req.backend);
  try {
    let bias: Record<string, number> = Object.fromEntries(req.target.support.map((a) => [a, 0]));
    const iterations: CorrectionStep[] = [];
    let best: CorrectionStep | null = null;
    for (let k = 0; k < maxIterations; k++) {
      const res = await measure({ ...req, runs: [], onStep: undefined, settings: { ...req.settings, logitBias: bias } }, model);
      const qbar = meanVector(res.runs.flatMap((r) => r.steps.map((s) => s.ptoken)));
      const step: CorrectionStep = { iteration: k, bias, marginal_tvd: res.metrics.marginal_tvd, atvd: res.metrics.atvd, volatility: res.metrics.volatility };
      iterations.push(step);
      const improved = !best || step.marginal_tvd < best.marginal_tvd - tolerance;
      if (!best || step.marginal_tvd < best.marginal_tvd) best = step;
      if (!improved || step.marginal_tvd < goal) break;
      bias = Object.fromEntries(req.target.support.map((a, i) => [a, (bias[a] ?? 0) + (p[i]! > 0 ? T * (Math.log(p[i]!) - Math.log(Math.max(qbar[i]!, 1e-12))) : -20)]));
    }
    const result = await measure({ ...req, runs: [], settings: { ...req.settings, logitBias: best!.bias } }, model);
    const first = iterations[0]!;
    // The stored re-run carries its own before/after, so the report can show what the bias changed.
    result.settings = { ...result.settings, correction: { before: pick(first), after: pick(result.metrics), iterations: iterations.length } };
    const tokenBias = isSimModel(model) || isTextBackend(model) ? undefined : answerTokenBias(model, req.target.support, optionTexts(req.target.support, SEPARATOR, DELIMITER), best!.bias);
    return {
      ...(tokenBias ? { logit_bias: Object.fromEntries([...tokenBias].map(([token, b]) => [String(token), b])) } : {}),
      bias: best!.bias,
      iterations,
      before: { atvd: first.atvd, marginal_tvd: first.marginal_tvd, volatility: first.volatility },
      after: pick(result.metrics),
      ...correctionEffect(first, result.metrics, best!.bias, goal),
      result,
      note: "token models: each answer's bias is put on the first distinguishing token of every spelling of it (docs/metrics.md, \"Correction\"); sim models: on q directly",
    };
  } finally {
    await closeModel(model);
  }
}
