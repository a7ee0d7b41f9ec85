// Verdict thresholds: defaults (justified by the calibration study in docs/classification.md) and validated overrides.

import { z } from "zod";
import { InputError } from "../errors.ts";

export interface Thresholds {
  /** E needs atvd ≤ e_atvd … */
  e_atvd: number;
  /** … and volatility ≤ e_volatility. */
  e_volatility: number;
  /** D and collapsed need concentration ≥ d_concentration. */
  d_concentration: number;
  /** D needs volatility ≥ d_volatility; collapsed needs volatility < d_volatility. */
  d_volatility: number;
  /** collapsed needs marginal_tvd ≥ collapsed_marginal. */
  collapsed_marginal: number;
  /** off-format when the mean leak (mass outside the answers) exceeds off_format_leak: checked before every rule. */
  off_format_leak: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  e_atvd: 0.25,
  e_volatility: 0.2,
  d_concentration: 0.7,
  // 0.3, not 0.35: a D model's expected volatility is peak · (1 − Σp²), only ≈ 0.46 on the skewed `extreme` preset, and
  // at 5 runs × 50 steps its 95% interval straddled 0.35 for 15/100 seeds (D 85/100); at 0.3 it is D 98/100 while the
  // collapsed family (volatility ≤ 0.029) stays 0.27 below. Calibration study and caveats: docs/classification.md.
  d_volatility: 0.3,
  collapsed_marginal: 0.3,
  // Above 0.5 the model writes something other than an answer more often than an answer: P_token's shape then
  // describes a minority of what it writes (docs/classification.md, "off-format").
  off_format_leak: 0.5,
});

// Every metric the rules look at is a mean of total-variation distances, of maximum probabilities or of leaked mass: all in [0, 1].
const unit = z.number().min(0).max(1);

const ThresholdOverrides = z.strictObject({
  e_atvd: unit.optional(),
  e_volatility: unit.optional(),
  d_concentration: unit.optional(),
  d_volatility: unit.optional(),
  collapsed_marginal: unit.optional(),
  off_format_leak: unit.optional(),
});

const NAMES = Object.keys(DEFAULT_THRESHOLDS).join(", ");

/** Defaults with the given overrides applied; an unknown name or a value outside [0, 1] → InputError (one line). */
export function resolveThresholds(overrides?: unknown): Thresholds {
  if (overrides === undefined) return { ...DEFAULT_THRESHOLDS };
  const parsed = ThresholdOverrides.safeParse(overrides);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === "unrecognized_keys") {
      throw new InputError(`unknown classification threshold ${issue.keys.map((k) => `"${k}"`).join(", ")}; valid thresholds: ${NAMES}`);
    }
    const name = issue?.path.map(String).join(".") || "thresholds";
    const got = issue && issue.path.length > 0 ? describe(lookup(overrides, issue.path)) : describe(overrides);
    throw new InputError(
      `invalid classification threshold ${name}: must be a number in [0, 1] (got ${got}); valid thresholds: ${NAMES}`,
    );
  }
  const out: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const [k, v] of Object.entries(parsed.data) as [keyof Thresholds, number | undefined][]) {
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function lookup(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  return typeof v;
}
