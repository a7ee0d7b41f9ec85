// How one context is measured: the protocol loop of `ptalign run` (src/protocols/loop.ts) with the context's option
// labels as the support and its P_task as the target, so P_token is read exactly the way `run` reads it (every
// tokenisation, leak recorded, sampler and temperature applied) — no second copy of the scoring. The loop's metrics
// and verdict (src/metrics, src/classify) give the per-context D/E verdict; re-ordered options give the order
// stability. scoreState is the single-state read other tasks use when their support changes from step to step
// (search: the documents not yet ranked).

import type { Model } from "../../backends/index.ts";
import type { PromptParts } from "../../backends/types.ts";
import { assess } from "../../classify/index.ts";
import { RunError } from "../../errors.ts";
import { kl, tv } from "../../metrics/basic.ts";
import { computeMetrics } from "../../metrics/index.ts";
import { portFor, runProtocol, type RunSettings } from "../../protocols/index.ts";
import { ptokenOf } from "../../protocols/step.ts";
import { makeRng } from "../../rng.ts";
import type { Run, Target } from "../../types.ts";
import { permutationsOf, permuteContext } from "./permute.ts";
import type { ChoiceContext, ChoiceSettings, ContextRecord } from "./types.ts";

/** P_token over the labels at one state, or why it could not be read (the context is recorded unscored). */
export type StateScore = { ptoken: number[]; leak: number; unknown: number } | { ptoken: null; leak: number; unknown: number; reason: string };

/** What scoring needs of the settings (a subset of ChoiceSettings, so other tasks can pass their own). */
export type ScoreSettings = Pick<ChoiceSettings, "temperature" | "prune" | "seed">;

/**
 * P_token over `labels` after `prompt`, read once through the model's scoring port (the first step of an independent
 * run). `probs` is the target a sim model follows (token models ignore it). A state where no label has any
 * probability is an answer too (unscored, with the port's advice), not a failure of the whole task.
 */
export async function scoreState(model: Model, prompt: PromptParts, labels: readonly string[], probs: readonly number[], s: ScoreSettings, rngKey: string): Promise<StateScore> {
  const target: Target = { support: [...labels], probs: [...probs] };
  const settings: RunSettings = { steps: 1, runs: 1, temperature: s.temperature, seed: s.seed, prune: s.prune };
  const port = await portFor(model, "independent", target, prompt, settings);
  const scored = await port.begin(makeRng(rngKey)).score();
  try {
    return { ptoken: ptokenOf(port, 0, scored, s.temperature), leak: scored.leak, unknown: scored.unknown };
  } catch (err) {
    if (err instanceof RunError) return { ptoken: null, leak: scored.leak, unknown: scored.unknown, reason: err.message };
    throw err;
  }
}

/** A 31-bit seed per context (FNV-1a of the id mixed with the seed): contexts draw independently, reproducibly. */
export function contextSeed(seed: number, id: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 2147483647;
}

/** KL(p ‖ q) in nats with q clipped at 1e-15 and renormalised (ChaosNLI's evaluation), so it stays finite. */
export function clippedKl(p: readonly number[], q: readonly number[]): number {
  const c = q.map((v) => Math.max(v, 1e-15));
  const z = c.reduce((a, b) => a + b, 0);
  return kl(p, c.map((v) => v / z));
}

export interface MeasureContextEnv {
  prompt(context: ChoiceContext): PromptParts;
  /** One scoring done (a draw or a permutation). */
  onUnit?: () => void;
  /** Mean leak above which the context is off-format. */
  offFormatLeak: number;
}

/** Scorings of one context: every draw of every run, then each permutation once. */
export const unitsPerContext = (s: Pick<ChoiceSettings, "draws" | "runs" | "permutations">) => s.draws * s.runs + s.permutations;

/**
 * One context over the protocols: runs × draws through the loop (sequential: earlier answers stay in context),
 * the loop's metrics and verdict, P_token at the first draw, then each re-ordering of the options scored once.
 * A context the model cannot answer at all is recorded unscored with the reason.
 */
export async function measureContext(model: Model, ctx: ChoiceContext, s: ChoiceSettings, env: MeasureContextEnv): Promise<ContextRecord> {
  const labels = ctx.options.map((o) => o.label);
  const keys = ctx.options.map((o) => o.key);
  const target: Target = { support: labels, probs: [...ctx.target] };
  const seed = contextSeed(s.seed, ctx.id);
  const settings: RunSettings = { steps: s.draws, runs: s.runs, temperature: s.temperature, seed, prune: s.prune };
  const base: ContextRecord = { id: ctx.id, ...(ctx.group ? { group: ctx.group } : {}), source: ctx.source, options: keys, target: [...ctx.target], ptoken: null, leak: 0, tv: null, kl: null, metrics: null, verdict: null, order_tv: null, draws: [] };
  const runs: Run[] = [];
  try {
    await runProtocol(model, { protocol: s.protocol, target, prompt: env.prompt(ctx), settings, runs, onStep: () => env.onUnit?.() });
  } catch (err) {
    // No label has any probability at some draw: this context is unanswerable for this model, the task goes on.
    if (!(err instanceof RunError)) throw err;
    const leak = runs.flatMap((r) => r.steps).at(-1)?.leak ?? 1;
    for (let i = 0; i < unitsPerContext(s) - runs.reduce((n, r) => n + r.steps.length, 0); i++) env.onUnit?.();
    return { ...base, leak, unscored: err.message };
  }
  const firsts = runs.map((r) => r.steps[0]!);
  const ptoken = labels.map((_, i) => firsts.reduce((a, st) => a + st.ptoken[i]!, 0) / firsts.length);
  const leak = firsts.reduce((a, st) => a + st.leak, 0) / firsts.length;
  const m = computeMetrics(target, runs);
  const assessed = assess(target, runs, { seed, bootstrap: s.bootstrap });
  const verdict = assessed.verdict;
  const draws = runs.map((r) => r.steps.map((st) => keys[labels.indexOf(st.sample ?? "")] ?? "?"));
  const record: ContextRecord = {
    ...base,
    ptoken,
    leak,
    tv: tv(ptoken, ctx.target),
    kl: clippedKl(ctx.target, ptoken),
    metrics: { atvd: m.atvd, volatility: m.volatility, concentration: m.concentration, marginal_tvd: m.marginal_tvd, leak: m.leak },
    verdict: { type: verdict.type, decision: verdict.type === "off-format" ? "off-format" : assessed.decision, ci: verdict.ci },
    draws,
  };
  if (m.leak > env.offFormatLeak) record.off_format = true;
  if (s.permutations > 0) {
    const tvs: number[] = [];
    for (const [p, order] of permutationsOf(ctx.options.length, s.permutations, `${s.seed}/${ctx.id}`).entries()) {
      const shown = permuteContext(ctx, order);
      const got = await scoreState(model, env.prompt(shown), shown.options.map((o) => o.label), shown.target, { ...s, seed }, `${seed}/permutation ${p}`);
      env.onUnit?.();
      if (got.ptoken === null) continue;
      // P_token per option, in the data's order, from the re-ordered presentation.
      const back = keys.map((k) => got.ptoken[shown.options.findIndex((o) => o.key === k)]!);
      tvs.push(tv(ptoken, back));
    }
    record.order_tv = tvs.length ? tvs.reduce((a, b) => a + b, 0) / tvs.length : null;
  }
  return record;
}
