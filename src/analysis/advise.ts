// Model-selection guidance from stored results (docs/metrics.md, "Analysis" → "Guidance"). Pure: no model call.
import { entropy } from "../metrics/basic.ts";
import type { Metrics, Result, Verdict } from "../types.ts";

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
  const cover = total > 0 && hp > 0 ? Math.min(1, entropy(counts.map((c) => c / total)) / hp) : 1 - (m.sample_tvd ?? 1);
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

export interface AdviceLine {
  model: string;
  score: number;
  reason: string;
  /** The measurement the line uses: its id in the results directory, target and the setting it was measured at. */
  id: string | null;
  target: string;
  setting: Setting;
}

/** What a measurement was run at that a user deploys: temperature, sampler settings, prompt (those recorded). */
export type Setting = Record<string, string | number | null>;

export interface TargetAdvice {
  /** The target as written (DIST text of a study, or the support and probabilities). */
  target: string;
  ranking: AdviceLine[];
}

export interface Advice {
  /**
   * Models ranked on the targets every ranked model was measured on (score = mean over those targets of the model's
   * best measurement there); empty when no target is shared by all of them (then see `targets`).
   */
  ranking: AdviceLine[];
  /** The shared targets `ranking` compares on. */
  shared: string[];
  /** One ranking per target: like with like. */
  targets: TargetAdvice[];
  /** Off-format measurements left out (the model mostly writes no answer there). */
  excluded: { id: string | null; model: string; target: string; leak: number }[];
  /** Temperature of the best model's best measurement (shared ranking, else the first target's); null when none was recorded. */
  temperature: number | null;
  /** The whole recorded setting of that measurement (temperature, sampler, prompt). */
  setting: Setting;
}

/** Setting keys a user deploys with; recorded in `settings` by run / study. */
const SETTING_KEYS = ["temperature", "top_k", "top_p", "min_p", "sampler_order", "prompt_name"] as const;

function settingOf(r: Pick<Result, "settings">): Setting {
  const out: Setting = {};
  const s = (r.settings ?? {}) as Record<string, unknown>;
  const sm = (s.sampler ?? {}) as Record<string, unknown>;
  const sampler: Record<string, unknown> = { top_k: sm.topK, top_p: sm.topP, min_p: sm.minP, sampler_order: sm.order };
  for (const k of SETTING_KEYS) {
    const v = sampler[k] ?? s[k];
    if (typeof v === "number" || typeof v === "string") out[k] = v;
  }
  return out;
}

const describeSetting = (st: Setting) => Object.entries(st).map(([k, v]) => `${k === "temperature" ? "T" : k}=${v}`).join(", ");

/** A target's identity: equal support and probabilities are the same target, however they were written. */
const targetKey = (r: Pick<Result, "target">) => JSON.stringify([r.target.support, r.target.probs.map((p) => Number(p.toPrecision(12)))]);

/** A measurement to rank (metrics and verdict null while it has none: left out). */
export type Labelled = Omit<Result, "metrics" | "verdict"> & { metrics: Metrics | null; verdict: Verdict | null; label?: string };

/**
 * Like with like: measurements are grouped by target (equal support and probabilities), and within a target each
 * model is represented by its best-scoring measurement there (over temperatures, samplers, prompts). The overall
 * ranking compares models only on the targets all of them share. Every line names the measurement it uses.
 */
export function advise(results: readonly Labelled[], weights: Weights): Advice {
  const excluded: Advice["excluded"] = [];
  const byTarget = new Map<string, { label: string; models: Map<string, { r: Labelled; s: number; c: Weights }> }>();
  for (const r of results) {
    if (!r.metrics) continue;
    const label = r.label ?? `{${r.target.support.map((a, i) => `${a}:${r.target.probs[i]}`).join(",")}}`;
    // An off-format measurement says how rarely the model writes an answer, not how well: never recommended.
    if (r.verdict?.type === "off-format") {
      excluded.push({ id: r.id ?? null, model: r.model, target: label, leak: r.metrics.leak });
      continue;
    }
    const key = targetKey(r);
    const group = byTarget.get(key) ?? { label, models: new Map() };
    byTarget.set(key, group);
    const c = criteria({ ...r, metrics: r.metrics });
    const s = profileScore(c, weights);
    const prev = group.models.get(r.model);
    if (!prev || s > prev.s) group.models.set(r.model, { r, s, c });
  }
  const line = (model: string, b: { r: Labelled; s: number; c: Weights }, target: string, score = b.s): AdviceLine => {
    const m = b.r.metrics!; // only measurements with metrics are ranked (the loop above skips the others)
    const setting = settingOf(b.r);
    const crit = (["calibration", "stability", "diversity"] as Profile[]).filter((k) => weights[k] > 0).map((k) => `${k} ${b.c[k].toFixed(2)}`).join(", ");
    const reason = `${crit} (atvd ${m.atvd.toFixed(3)}, marginal_tvd ${m.marginal_tvd.toFixed(3)}, volatility ${m.volatility.toFixed(3)}, leak ${m.leak.toFixed(3)}, verdict ${b.r.verdict?.type ?? "—"}) on ${target}, measurement ${b.r.id ?? "(unsaved)"} (${b.r.protocol}${Object.keys(setting).length ? `, ${describeSetting(setting)}` : ""})`;
    return { model, score, reason, id: b.r.id ?? null, target, setting };
  };
  const order = (a: AdviceLine, b: AdviceLine) => b.score - a.score || a.model.localeCompare(b.model);
  const groups = [...byTarget.values()];
  const targets: TargetAdvice[] = groups.map((g) => ({ target: g.label, ranking: [...g.models.entries()].map(([model, b]) => line(model, b, g.label)).sort(order) }));
  const models = [...new Set(groups.flatMap((g) => [...g.models.keys()]))];
  const sharedGroups = groups.filter((g) => models.every((m) => g.models.has(m)));
  const ranking = sharedGroups.length === 0 ? [] : models
    .map((model) => {
      const best = sharedGroups.map((g) => g.models.get(model)!);
      const mean = best.reduce((a, b) => a + b.s, 0) / best.length;
      // The line cites the model's best measurement among the shared targets; the score is the mean over them.
      const top = best.reduce((a, b) => (b.s > a.s ? b : a));
      const g = sharedGroups[best.indexOf(top)]!;
      const l = line(model, top, g.label, mean);
      return sharedGroups.length > 1 ? { ...l, reason: `mean over ${sharedGroups.length} shared targets; best: ${l.reason}` } : l;
    })
    .sort(order);
  const first = ranking[0] ?? targets[0]?.ranking[0];
  return { ranking, shared: sharedGroups.map((g) => g.label), targets, excluded, temperature: typeof first?.setting.temperature === "number" ? first.setting.temperature : null, setting: first?.setting ?? {} };
}
