// The counterfactual effect of a model's history (`ptalign probe --counterfactual`) beside the observational history
// slope `analyze` reads from the recorded steps alone (docs/counterfactual.md): what each says,
// and where they disagree. Pure: no model call.
import { z } from "zod";
import type { CounterfactualSummary } from "../probe/counterfactual.ts";
import type { Estimate } from "../probe/interval.ts";
import type { Run, Target } from "../types.ts";
import { historyDependence } from "./properties.ts";

/** The direction an estimate shows: its 95% interval below 0, above 0, around 0, or no interval to tell. */
export type Sign = "negative" | "positive" | "none" | "unknown";

export interface HistoryComparison {
  /** analyze's history coefficient: OLS slope of log q_t(x) on n_t(x) with step and answer effects (per draw). */
  observational: { coefficient: number | null; ci: [number, number] | null; sign: Sign };
  /** The counterfactual log-odds effect per extra draw (same units) and the effect on q_t(x) itself. */
  counterfactual: { log_effect: number | null; ci: [number, number] | null; sign: Sign; effect: number | null; effect_ci: [number, number] | null };
  /** true: both show the same direction; false: they differ; null: one of them has no interval. */
  agree: boolean | null;
  /** One paragraph: what the counterfactual shows, what the slope shows, and where they disagree. */
  words: string;
}

/** A 95% interval's direction; a point estimate without an interval (one run of one step) tells nothing. */
export function signOf(value: number | null, ci: [number, number] | null): Sign {
  if (value === null || ci === null) return "unknown";
  if (ci[1] < 0) return "negative";
  if (ci[0] > 0) return "positive";
  return "none";
}

const f3 = (x: number | null) => (x === null ? "—" : (Math.abs(x) < 5e-4 ? 0 : x).toFixed(3));
const interval = (ci: [number, number] | null) => (ci ? `, 95% CI [${f3(ci[0])}, ${f3(ci[1])}]` : "");

const CAUSED: Record<Sign, string> = {
  negative: "one more draw of an answer lowers its probability at the next step: the model plans its sequence, steering away from answers it has drawn too often",
  positive: "one more draw of an answer raises its probability at the next step: the model reinforces what it has drawn",
  none: "changing the history does not move P_token: the model samples each step locally and ignores its own history",
  unknown: "too few steps or runs for an interval, so the direction of the counterfactual effect is not known",
};

const OBSERVED: Record<Sign, string> = {
  negative: "a negative dependence",
  positive: "a positive dependence",
  none: "no dependence",
  unknown: "no interval (one run)",
};

export function compareHistory(target: Target, runs: readonly Run[], cf: Pick<CounterfactualSummary, "effect" | "log_effect" | "tv_shuffled" | "tv_removed">): HistoryComparison {
  const obs = historyDependence(target, runs);
  const observed = signOf(obs.coefficient, obs.ci);
  const caused = signOf(cf.log_effect.value, cf.log_effect.ci);
  const agree = observed === "unknown" || caused === "unknown" ? null : observed === caused;
  const parts = [
    `${capitalised(CAUSED[caused])} (Δq_t(x) per extra draw of x ${f3(cf.effect.value)}${interval(cf.effect.ci)}; log-odds ${f3(cf.log_effect.value)}${interval(cf.log_effect.ci)}).`,
    orderWords(cf.tv_shuffled, cf.tv_removed),
    `analyze's observational history slope is ${f3(obs.coefficient)}${interval(obs.ci)}: ${OBSERVED[observed]}.`,
    agreementWords(observed, caused),
  ];
  return {
    observational: { coefficient: obs.coefficient, ci: obs.ci, sign: observed },
    counterfactual: { log_effect: cf.log_effect.value, ci: cf.log_effect.ci, sign: caused, effect: cf.effect.value, effect_ci: cf.effect.ci },
    agree,
    words: parts.filter((p) => p !== "").join(" "),
  };
}

function orderWords(shuffled: Estimate, removed: Estimate): string {
  const out: string[] = [];
  if (shuffled.value !== null) out.push(`shuffling the history moves q_t by TV ${f3(shuffled.value)}${interval(shuffled.ci)}`);
  if (removed.value !== null) out.push(`removing it by TV ${f3(removed.value)}${interval(removed.ci)}`);
  if (out.length === 0) return "";
  return `${capitalised(out.join(", "))}.`;
}

const capitalised = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`;

/** Where the two disagree, and which to believe: the counterfactual changes the history and nothing else. */
function agreementWords(observed: Sign, caused: Sign): string {
  if (observed === "unknown" || caused === "unknown") return "With no interval on one side the two cannot be compared (more runs give the slope an interval).";
  if (observed === caused) return "The two agree.";
  if (caused === "none") {
    return "They disagree: the slope reads a dependence that changing the history does not cause — the recorded steps correlate with past draws for another reason (base rates, the run's own peaks being the answers it draws); the counterfactual is the causal reading.";
  }
  if (observed === "none") {
    return "They disagree: the slope misses the dependence the counterfactual shows — a planner's committed answer varies from step to step, so log q_t on past counts averages its response away; the counterfactual, which changes the history and nothing else, is the causal reading.";
  }
  return "They disagree in direction: the slope's correlation and the history's causal effect point opposite ways; the counterfactual is the causal reading.";
}

const estimate = z.object({ value: z.number().nullable(), ci: z.tuple([z.number(), z.number()]).nullable() });
const summarySchema = z.object({
  effect: estimate,
  log_effect: estimate,
  plus: estimate,
  minus: estimate,
  tv_shuffled: estimate,
  tv_removed: estimate,
  resampled: z.enum(["runs", "steps"]),
  steps: z.number(),
  rescored: z.number(),
});

/** A stored result's `counterfactual` (probe --counterfactual), checked; undefined when it has none or it is malformed. */
export function storedCounterfactual(result: object): CounterfactualSummary | undefined {
  const parsed = summarySchema.safeParse((result as { counterfactual?: unknown }).counterfactual);
  return parsed.success ? parsed.data : undefined;
}
