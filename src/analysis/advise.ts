// Model-selection guidance from stored results (docs/metrics.md, "Analysis" → "Guidance"). Pure: no model call.
import { entropy } from "../metrics/basic.ts";
import type { Result } from "../types.ts";

export type Profile = "diversity" | "stability" | "calibration";
export type Weights = Record<Profile, number>;

export const PROFILES: Record<Profile, Weights> = {
  calibration: { calibration: 1, stability: 0, diversity: 0 },
  stability: { calibration: 0, stability: 1, diversity: 0 },
  diversity: { calibration: 0, stability: 0, diversity: 1 },
};

/**
 * Per-measurement criteria, each in [0, 1], higher = better:
 *   calibration = 1 − ½(atvd + marginal_tvd)
 *   stability   = 1 − volatility
 *   diversity   = ½(volatility + min(1, H(p̂)/H(p)))   (consecutive outputs differ, and the samples cover the support)
 */
export function criteria(r: Pick<Result, "metrics" | "target" | "runs">): Weights {
  const m = r.metrics;
  const counts = r.target.support.map((a) => r.runs.reduce((n, run) => n + run.steps.filter((s) => s.sample === a).length, 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const hp = entropy(r.target.probs);
  const cover = total > 0 && hp > 0 ? Math.min(1, entropy(counts.map((c) => c / total)) / hp) : 1 - m.sample_tvd;
  return {
    calibration: 1 - (m.atvd + m.marginal_tvd) / 2,
    stability: 1 - m.volatility,
    diversity: (m.volatility + cover) / 2,
  };
}

export function profileScore(c: Weights, w: Weights): number {
  const sum = w.calibration + w.stability + w.diversity;
  return sum > 0 ? (w.calibration * c.calibration + w.stability * c.stability + w.diversity * c.diversity) / sum : 0;
}

/** `calibration=1,diversity=0.5` → weights (missing = 0); throws a message on bad input. */
export function parseWeights(text: string): Weights {
  const w: Weights = { calibration: 0, stability: 0, diversity: 0 };
  for (const part of text.split(",")) {
    const [k, v] = part.split("=").map((s) => s.trim());
    if (!k || !(k in w)) throw new Error(`unknown weight "${k ?? ""}" in "${text}"; use calibration, stability, diversity (e.g. calibration=1,diversity=0.5)`);
    const n = Number(v);
    if (v === undefined || v === "" || !Number.isFinite(n) || n < 0) throw new Error(`weight ${k} must be a number ≥ 0 (got ${v ?? ""})`);
    w[k as Profile] = n;
  }
  if (w.calibration + w.stability + w.diversity <= 0) throw new Error(`weights "${text}" are all 0; give at least one positive weight`);
  return w;
}

export interface Advice {
  ranking: { model: string; score: number; reason: string }[];
  /** Temperature of the best model's measurement that scores highest under the profile; null when none was recorded. */
  temperature: number | null;
}

const temperatureOf = (r: Pick<Result, "settings">): number | null => (typeof r.settings?.temperature === "number" ? r.settings.temperature : null);

/**
 * A model's score is that of its best-scoring measurement (over temperatures and targets it was measured at); models
 * are ranked best first (ties by name). The reason names the criterion that carries most weight and the metrics.
 */
export function advise(results: readonly Result[], weights: Weights): Advice {
  const byModel = new Map<string, { r: Result; s: number; c: Weights }[]>();
  for (const r of results) {
    // An off-format measurement says how rarely the model writes an answer, not how well: never recommended.
    if (!r.metrics || r.verdict?.type === "off-format") continue;
    const c = criteria(r);
    const list = byModel.get(r.model) ?? [];
    list.push({ r, s: profileScore(c, weights), c });
    byModel.set(r.model, list);
  }
  const ranked = [...byModel.entries()].map(([model, list]) => {
    const best = list.reduce((a, b) => (b.s > a.s ? b : a));
    const m = best.r.metrics;
    const T = temperatureOf(best.r);
    const reason = `${(["calibration", "stability", "diversity"] as Profile[]).filter((k) => weights[k] > 0).map((k) => `${k} ${best.c[k].toFixed(2)}`).join(", ")} (atvd ${m.atvd.toFixed(3)}, marginal_tvd ${m.marginal_tvd.toFixed(3)}, volatility ${m.volatility.toFixed(3)}, verdict ${best.r.verdict?.type ?? "—"}${T === null ? "" : `, best at T=${T}`})`;
    return { model, score: best.s, reason, T };
  });
  ranked.sort((a, b) => b.score - a.score || a.model.localeCompare(b.model));
  return { ranking: ranked.map(({ model, score: s, reason }) => ({ model, score: s, reason })), temperature: ranked[0]?.T ?? null };
}
