// Verdict for a set of runs: D / E / collapsed / mixed from the rule metrics, `uncertain` when the 95% bootstrap
// intervals allow a different verdict. Rules, thresholds and the bootstrap are documented in docs/classification.md.

import { z } from "zod";
import { InputError } from "../errors.ts";
import { makeRng } from "../rng.ts";
import type { Run, Target, Verdict } from "../types.ts";
import { blockLength, bootstrapRuns, bootstrapSteps, estimatesOf, meanEstimates, METRIC_NAMES } from "./bootstrap.ts";
import {
  checkBox,
  decide,
  describeCondition,
  describeInterval,
  fmt,
  holds,
  joinAnd,
  RULES,
  type Box,
  type BoxCheck,
  type Decision,
  type Estimates,
} from "./rules.ts";
import { resolveThresholds, type Thresholds } from "./thresholds.ts";
import { outputNotes } from "./output.ts";
import { boundVerdict } from "./bound.ts";

export { DEFAULT_THRESHOLDS, resolveThresholds, type Thresholds } from "./thresholds.ts";
export { RULES, decide, checkBox, type Box, type Decision, type Estimates, type Interval, type RuleName } from "./rules.ts";
export { blockLength } from "./bootstrap.ts";
export { boundVerdict, metricBounds, stepBound } from "./bound.ts";

export const DEFAULT_BOOTSTRAP = 1000;
export const DEFAULT_CLASSIFY_SEED = 0;

export interface ClassifyOptions {
  thresholds?: Partial<Thresholds>;
  /** Bootstrap resamples (default 1000); 0 disables the bootstrap (intervals collapse to the point estimates). */
  bootstrap?: number;
  /** Seed of the bootstrap generator (default 0): the verdict is a deterministic function of runs, options and seed. */
  seed?: number;
}

export interface Assessment {
  verdict: Verdict;
  /** What the rules say at the point estimates (equals verdict.type unless that is "uncertain"). */
  decision: Decision;
  /** Means over runs of the per-run metrics. */
  estimates: Estimates;
  /** 95% percentile intervals of the four rule metrics. */
  box: Box;
  check: BoxCheck;
  thresholds: Thresholds;
  method:
    | { kind: "runs"; resamples: number; runs: number }
    | { kind: "blocks"; resamples: number; steps: number; blockLength: number }
    /** Some run has a single step: no volatility, no bootstrap, verdict uncertain. */
    | { kind: "none"; resamples: 0 };
}

const Options = z.strictObject({
  thresholds: z.unknown().optional(),
  bootstrap: z.number().int().min(0).max(1_000_000).optional(),
  seed: z.number().refine(Number.isFinite, "must be finite").optional(),
});

function validateRuns(runs: readonly Run[]): void {
  if (!Array.isArray(runs) || runs.length === 0) {
    throw new InputError("classify needs at least one run; record steps first (ptalign run ...)");
  }
}

/** Per-run estimates; a malformed step (reported by the metrics module) names its run. */
function perRunEstimates(target: Target, runs: readonly Run[]): Estimates[] {
  return runs.map((run, r) => {
    try {
      return estimatesOf(target, run.steps);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`run #${r + 1} (seed ${run.seed}): ${e.message}`);
      throw e;
    }
  });
}

/** Full assessment: verdict plus the estimates, intervals and method behind it. */
export function assess(target: Target, runs: readonly Run[], opts: ClassifyOptions = {}): Assessment {
  const parsed = Options.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join(".") || "options";
    throw new InputError(
      `invalid classify option ${where}: ${issue?.message ?? "invalid"}; valid options: thresholds, bootstrap (integer 0..1000000), seed (number)`,
    );
  }
  const th = resolveThresholds(opts.thresholds);
  const B = opts.bootstrap ?? DEFAULT_BOOTSTRAP;
  const seed = opts.seed ?? DEFAULT_CLASSIFY_SEED;
  validateRuns(runs);
  const perRun = perRunEstimates(target, runs);
  const leak = meanLeak(runs);
  const bounded = (a: Assessment): Assessment => oneAnswer(target, { ...a, verdict: boundVerdict(a.verdict, { ...a.estimates, leak }, runs, th) });

  const short = runs.findIndex((r) => r.steps.length < 2);
  if (short >= 0) return bounded(offFormat(runs, leak, undetermined(runs, short, meanEstimates(perRun), th)));

  const rng = makeRng(`classify:${seed}`);
  let estimates: Estimates;
  let box: Box;
  let method: Assessment["method"];
  if (runs.length >= 2) {
    estimates = meanEstimates(perRun);
    box = bootstrapRuns(perRun, B, rng);
    method = { kind: "runs", resamples: B, runs: runs.length };
  } else {
    const steps = runs[0]!.steps;
    estimates = perRun[0]!;
    box = bootstrapSteps(target, steps, B, rng);
    method = { kind: "blocks", resamples: B, steps: steps.length, blockLength: blockLength(steps.length) };
  }

  const decision = decide(estimates, th);
  const check = checkBox(decision, box, th);
  const reasons = [decisionReason(decision, estimates, th)];
  if (!check.stable) reasons.push(uncertainReason(decision, check, box, th));
  reasons.push(intervalReason(method, box));
  reasons.push(...outputNotes(runs));

  return bounded(
    offFormat(runs, leak, {
      verdict: {
        type: check.stable ? decision : "uncertain",
        reasons,
        ci: { atvd: box.atvd, volatility: box.volatility },
      },
      decision,
      estimates,
      box,
      check,
      thresholds: th,
      method,
    }),
  );
}

/** Mean over runs of each run's mean leak (the `leak` metric). */
function meanLeak(runs: readonly Run[]): number {
  return runs.reduce((a, r) => a + r.steps.reduce((b, s) => b + s.leak, 0) / r.steps.length, 0) / runs.length;
}

/**
 * off-format: when the mean leak exceeds off_format_leak the model mostly writes something other than an answer, so
 * the shape of P_token over the answers says little about what it does: the verdict names that instead of a rule.
 * The intervals are kept (they still describe P_token); the rule reasons are not, since no rule is applied.
 */
function offFormat(runs: readonly Run[], leak: number, a: Assessment): Assessment {
  const th = a.thresholds;
  if (!(leak > th.off_format_leak)) return a;
  const answer = 1 - leak;
  const often = answer > 0 ? `about 1 time in ${Math.round(1 / answer).toLocaleString("en-US")}` : "never";
  const reason =
    `off-format: mean leak ${answer < 0.01 ? String(Number(leak.toFixed(7))) : fmt(leak, th.off_format_leak)} > ${th.off_format_leak}: the model writes one of the answers with probability ${answer < 0.01 ? answer.toPrecision(2) : fmt(answer)} per step (${often}), ` +
    `so P_token over the answers describes text it rarely writes and no rule is applied; check what the model sees with --show-prompt, ` +
    `make the instructions clearer with --prompt-file, or let the model's chat template wrap the prompt (no --raw)`;
  return { ...a, verdict: { ...a.verdict, type: "off-format", reasons: [reason, ...a.verdict.reasons.filter((r) => r.startsWith("95% intervals")), ...outputNotes(runs)] } };
}

/**
 * A target with one answer cannot tell the types apart: P_token over one answer is 1 at every step for any model
 * (atvd 0, volatility 0), so the rules would always say E. Uncertain, with the reason (issue 20, item 8).
 */
function oneAnswer(target: Target, a: Assessment): Assessment {
  if (target.support.length !== 1 || a.verdict.type === "off-format") return a;
  const reason = `uncertain: the target has one answer (${JSON.stringify(target.support[0])}), so P_token over it is 1 at every step for any model and no rule can tell D from E; give the target at least two answers`;
  return { ...a, verdict: { ...a.verdict, type: "uncertain", reasons: [reason, ...a.verdict.reasons] } };
}

/** A run of one step has no volatility (nothing to compare): no rule can be applied, so the verdict is uncertain. */
function undetermined(runs: readonly Run[], short: number, estimates: Estimates, th: Thresholds): Assessment {
  const run = runs[short]!;
  const point = (k: keyof Estimates): [number, number] => [estimates[k], estimates[k]];
  const box: Box = { atvd: point("atvd"), volatility: point("volatility"), concentration: point("concentration"), marginal_tvd: point("marginal_tvd") };
  return {
    verdict: {
      type: "uncertain",
      reasons: [
        `uncertain: run #${short + 1} (seed ${run.seed}) has ${run.steps.length} step; volatility compares consecutive steps, so the rules need at least 2 steps per run`,
        `point estimates: atvd ${fmt(estimates.atvd)}, concentration ${fmt(estimates.concentration)}, marginal_tvd ${fmt(estimates.marginal_tvd)} (no intervals)`,
        ...outputNotes(runs),
      ],
      ci: { atvd: box.atvd, volatility: box.volatility },
    },
    decision: decide(estimates, th),
    estimates,
    box,
    check: { stable: false, straddled: [], reachable: [] },
    thresholds: th,
    method: { kind: "none", resamples: 0 },
  };
}

/**
 * E when atvd ≤ e_atvd and volatility ≤ e_volatility; D when concentration ≥ d_concentration and volatility ≥
 * d_volatility; collapsed when concentration ≥ d_concentration, volatility < d_volatility and marginal_tvd ≥
 * collapsed_marginal; otherwise mixed; uncertain when some point of the 95% bootstrap interval box gets another verdict.
 */
export function classify(target: Target, runs: readonly Run[], opts?: ClassifyOptions): Verdict {
  return assess(target, runs, opts).verdict;
}

function decisionReason(decision: Decision, est: Estimates, th: Thresholds): string {
  if (decision !== "mixed") {
    const rule = RULES.find((r) => r.name === decision)!;
    return `${joinAnd(rule.conditions.map((c) => describeCondition(c, est[c.metric], th)))}: ${rule.meaning}`;
  }
  const misses = RULES.map((rule) => {
    const failed = rule.conditions.filter((c) => !holds(c, est[c.metric], th));
    return `not ${rule.name} (${joinAnd(failed.map((c) => describeCondition(c, est[c.metric], th, false)))})`;
  });
  return `no rule holds: ${misses.join(", ")}`;
}

function uncertainReason(decision: Decision, check: BoxCheck, box: Box, th: Thresholds): string {
  const parts: string[] = [];
  if (check.straddled.length > 0) {
    const ivs = check.straddled.map((c) => `${describeInterval(c.metric, box[c.metric], th[c.threshold])} straddles ${th[c.threshold]}`);
    parts.push(`${joinAnd(ivs)}, so ${decision} is not established`);
  }
  for (const name of check.reachable) {
    const rule = RULES.find((r) => r.name === name)!;
    const ivs = rule.conditions.map((c) => describeInterval(c.metric, box[c.metric], th[c.threshold]));
    parts.push(`${name} is within the 95% intervals (${joinAnd(ivs)})`);
  }
  const lead = decision === "mixed" ? "no rule holds at the point estimates, but " : "";
  return `uncertain: ${lead}${parts.join("; ")}`;
}

function intervalReason(method: Assessment["method"], box: Box): string {
  const how =
    method.kind === "none" || method.resamples === 0
      ? "bootstrap disabled (intervals are the point estimates)"
      : method.kind === "runs"
        ? `95% intervals from ${method.resamples} bootstrap resamples of the ${method.runs} runs`
        : `95% intervals from ${method.resamples} moving-block bootstrap resamples of the single run's ${method.steps} steps (block length ${method.blockLength})`;
  return `${how}: ${METRIC_NAMES.map((k) => describeInterval(k, box[k])).join(", ")}`;
}
