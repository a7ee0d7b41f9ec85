// Counterfactual histories (`ptalign probe --counterfactual`, docs/counterfactual.md): at every step of a sequential
// measurement, the step is scored again with its history changed — one more draw of each answer appended, the latest
// draw of each answer removed, the order shuffled, the history removed — and the change of q_t(x) per extra draw of x
// is the model's *causal* response to its own history. analyze's history coefficient reads the same dependence from
// the recorded steps alone (an observational slope); a model that plans its sequence lowers the answers it drew too
// often, a model that samples locally ignores its history.
//
// It wraps the model's scoring port (RunRequest.wrapPort), so the factual steps are the loop's own (same seeds, same
// draws, same steps as `ptalign run`), and every counterfactual is asked through a port's `resume` (exact backends).
import type { Model } from "../backends/index.ts";
import type { PromptParts } from "../backends/types.ts";
import { InputError } from "../errors.ts";
import { runProtocol, type RunSettings } from "../protocols/index.ts";
import type { RunCursor, ScoringPort, SupportScore, Written } from "../protocols/port.ts";
import { portFor } from "../protocols/ports/index.ts";
import { makeRng, normalise, applyTemperature, type Rng } from "../rng.ts";
import type { ProtocolName, Run, Step, Target } from "../types.ts";
import { bootstrapMeans, type Estimate } from "./interval.ts";

/** Probabilities below this are taken as this in a logarithm (analyze's LOG_FLOOR, docs/metrics.md "Analysis"). */
const LOG_FLOOR = 1e-12;
const safeLog = (x: number) => Math.log(Math.max(x, LOG_FLOOR));

/** What one step's counterfactual histories did to q_t (support order; q = the step's recorded P_token). */
export interface CounterfactualStep {
  t: number;
  /** n_t(x): times each answer was drawn at steps 0..t−1. */
  counts: number[];
  /** q⁺ˣ_t(x) − q_t(x), q⁺ˣ = the step scored with one more draw of x appended to its history; null where q⁺ˣ has no mass on the support. */
  plus: (number | null)[];
  /** q_t(x) − q⁻ˣ_t(x), q⁻ˣ = the step scored with the latest draw of x removed: again per extra draw; null where n_t(x) = 0. */
  minus: (number | null)[];
  /**
   * The same two on log q (floor 1e-12), relative to the other answers: Δ log q(x) − mean_{y≠x} Δ log q(y), so the
   * step's normaliser cancels — the units of analyze's history coefficient (a sim `repeat` r gives exactly r).
   */
  log_plus: (number | null)[];
  log_minus: (number | null)[];
  /** Mean of every non-null plus and minus entry: the change of q_t(x) per extra draw of x at this step. */
  effect: number | null;
  log_effect: number | null;
  /** q_t with the history's order shuffled (null with fewer than 2 draws) and with no history at all (null at t = 0). */
  shuffled: number[] | null;
  removed: number[] | null;
  tv_shuffled: number | null;
  tv_removed: number | null;
}

/** The counterfactual effects of a measurement, pooled over its steps and runs, with 95% bootstrap intervals. */
export interface CounterfactualSummary {
  /** Change of q_t(x) per extra draw of x (every plus and minus entry of every step). */
  effect: Estimate;
  /** The same on log q_t(x) relative to the other answers (log_plus, log_minus), comparable with analyze's `history.coefficient`. */
  log_effect: Estimate;
  /** The two variants apart: one draw appended, the latest draw removed. */
  plus: Estimate;
  minus: Estimate;
  /** Mean TV(q_t under the shuffled history, q_t) over steps with t ≥ 2, and TV(q_t with no history, q_t) over t ≥ 1. */
  tv_shuffled: Estimate;
  tv_removed: Estimate;
  /** What the bootstrap resampled: whole runs (several runs) or steps (one run). */
  resampled: "runs" | "steps";
  /** Steps whose history was changed, and the counterfactual scorings that cost. */
  steps: number;
  rescored: number;
}

export interface CounterfactualRequest {
  protocol: ProtocolName;
  target: Target;
  prompt: PromptParts;
  settings: RunSettings;
}

export interface CounterfactualResult {
  runs: Run[];
  /** Per run (in run order), per step. */
  counterfactual: CounterfactualStep[][];
  summary: CounterfactualSummary;
  /** What the result records about the measurement (the port's settings). */
  recorded: Record<string, unknown>;
}

/** A step of a probed measurement: the run's step and what its counterfactual histories did (result JSON, per step). */
export interface CounterfactualProbeStep extends Step {
  counterfactual?: CounterfactualStep;
}

/**
 * The counterfactual probe of one measurement, to plug into the loop: `wrapPort` for RunRequest.wrapPort (the loop
 * scores through it), `attach` in the step listener (adds `counterfactual` to the step before it is stored), and
 * `summary` once the runs are done (the result's `counterfactual`).
 */
export interface CounterfactualProbe {
  wrapPort(port: ScoringPort): ScoringPort;
  attach(runIndex: number, step: Step): void;
  steps(): CounterfactualStep[][];
  summary(): CounterfactualSummary;
}

/** The one-line refusal when a model or protocol cannot give counterfactuals (the CLI's exit 2). */
export function checkCounterfactual(model: Pick<Model, "capabilities">, protocol: ProtocolName): void {
  if (model.capabilities.scoring !== "exact") {
    throw new InputError("--counterfactual needs exact scoring (embedded engine, sim, llama-server's token path or an echo server); this server's top-k scoring hides mass, so a change of q_t could be the hidden mass moving");
  }
  if (protocol !== "sequential") {
    throw new InputError(`--counterfactual changes the history a step sees, which only the sequential protocol has; use --protocol sequential (not ${protocol})`);
  }
}

/**
 * A counterfactual probe for `model`. The counterfactual histories are scored through a port of their own on
 * `rescore` (default: the model itself) — the logit lens passes the engine beneath its capturing backend, so that the
 * extra scorings are not taken for the step's own evaluations.
 */
export async function counterfactualProbe(model: Model, req: CounterfactualRequest, rescore: Model = model): Promise<CounterfactualProbe> {
  checkCounterfactual(model, req.protocol);
  const rescorer = await portFor(rescore, req.protocol, req.target, req.prompt, req.settings);
  let wrapped: ReturnType<typeof counterfactualPort> | undefined;
  const steps = () => wrapped?.steps() ?? [];
  return {
    wrapPort(port) {
      wrapped = counterfactualPort(port, rescorer, req.target, req.settings);
      return wrapped.port;
    },
    attach(runIndex, step) {
      const cf = steps()[runIndex]?.[step.t];
      if (cf) (step as CounterfactualProbeStep).counterfactual = cf;
    },
    steps,
    summary: () => summariseCounterfactual(steps(), req.settings.seed),
  };
}

/** Measures every run like `run` does (in memory, nothing stored) and re-scores each step under its counterfactual histories. */
export async function measureCounterfactual(model: Model, req: CounterfactualRequest): Promise<CounterfactualResult> {
  const probe = await counterfactualProbe(model, req);
  const { runs, recorded } = await runProtocol(model, { ...req, onStep: (r, step) => probe.attach(r, step), wrapPort: (p) => probe.wrapPort(p) });
  return { runs, counterfactual: probe.steps(), summary: probe.summary(), recorded };
}

/**
 * A scoring port that scores like `factual` and, at every step, scores the step's counterfactual histories through
 * `rescorer.resume`. Its cursors are numbered in the order the loop begins them, which is run order (runPort starts
 * run r before run r + 1), so `steps()[r]` belongs to run r. A sim model's own draws at the step (its random peak,
 * its noise) are replayed under every counterfactual history — common random numbers — so only the history differs.
 */
export function counterfactualPort(factual: ScoringPort, rescorer: ScoringPort, target: Target, settings: Pick<RunSettings, "temperature" | "seed">): { port: ScoringPort; steps(): CounterfactualStep[][] } {
  const resume = rescorer.resume?.bind(rescorer);
  if (!resume) throw new Error("counterfactualPort: the scoring port cannot resume a history");
  const K = target.support.length;
  const perCursor: CounterfactualStep[][] = [];
  const q = (s: SupportScore): number[] | null => {
    const total = s.raw.reduce((a, b) => a + b, 0);
    if (!(total > 0)) return null;
    return settings.temperature === 0 ? applyTemperature(normalise(s.raw), 0) : normalise(s.raw);
  };
  const port: ScoringPort = {
    capabilities: factual.capabilities,
    noAnswer: (t, s) => factual.noAnswer(t, s),
    recorded: () => factual.recorded(),
    ...(factual.resume ? { resume: factual.resume.bind(factual) } : {}),
    begin(rng): RunCursor {
      const number = perCursor.length;
      const out: CounterfactualStep[] = [];
      perCursor.push(out);
      const tape = recordingRng(rng);
      const cursor = factual.begin(tape.rng);
      const written: Written[] = [];
      const shuffler = makeRng(`${settings.seed}:counterfactual:${number}`);
      return {
        async score(consumed) {
          tape.start();
          const scored = await cursor.score(consumed);
          const draws = tape.stop();
          const q0 = q(scored);
          // A step with no answer fails the run in the loop (noAnswer); nothing to compare it with here.
          if (q0) {
            const at = (history: readonly Written[]) => resume(replay(draws, `${settings.seed}:${number}:${out.length}`), history).score().then(q);
            out.push(await counterfactualStep(out.length, q0, written, scored.paths, K, at, shuffler));
          }
          return scored;
        },
        advance(index, scored) {
          written.push({ index, path: scored.paths?.[index] ?? null });
          cursor.advance(index, scored);
        },
      };
    },
  };
  return { port, steps: () => perCursor };
}

/** Every counterfactual of one step: 2 per answer (append, remove the latest), a shuffle and the empty history. */
async function counterfactualStep(t: number, q: readonly number[], written: readonly Written[], paths: SupportScore["paths"], K: number, at: (h: readonly Written[]) => Promise<number[] | null>, shuffler: Rng): Promise<CounterfactualStep> {
  const counts = new Array<number>(K).fill(0);
  for (const w of written) counts[w.index]! += 1;
  const plus: (number | null)[] = [];
  const minus: (number | null)[] = [];
  const logPlus: (number | null)[] = [];
  const logMinus: (number | null)[] = [];
  for (let x = 0; x < K; x++) {
    // One more draw of x, written right before the answer position: the path x would take here (the step's own scoring).
    const more = await at([...written, { index: x, path: paths?.[x] ?? null }]);
    plus.push(more ? more[x]! - q[x]! : null);
    logPlus.push(more ? relativeLogChange(q, more, x) : null);
    const last = lastIndexOf(written, x);
    if (last < 0) {
      minus.push(null);
      logMinus.push(null);
      continue;
    }
    const fewer = await at(written.filter((_, i) => i !== last));
    minus.push(fewer ? q[x]! - fewer[x]! : null);
    logMinus.push(fewer ? relativeLogChange(fewer, q, x) : null);
  }
  const shuffled = written.length >= 2 ? await at(shuffle(written, shuffler)) : null;
  const removed = written.length >= 1 ? await at([]) : null;
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    t,
    counts,
    plus,
    minus,
    log_plus: logPlus,
    log_minus: logMinus,
    effect: mean([...plus, ...minus]),
    log_effect: mean([...logPlus, ...logMinus]),
    shuffled,
    removed,
    tv_shuffled: shuffled ? tvOf(shuffled, q) : null,
    tv_removed: removed ? tvOf(removed, q) : null,
  };
}

/**
 * The change of log q(x) from `before` to `after`, less the mean change of log q(y) over the other answers y: the
 * step's normaliser cancels, as analyze's step effect γ_t removes it, so a model with q(x) ∝ base(x)·exp(r·n(x))
 * gives exactly r. With one answer, the plain change.
 */
function relativeLogChange(before: readonly number[], after: readonly number[], x: number): number {
  const d = (i: number) => safeLog(after[i]!) - safeLog(before[i]!);
  if (before.length < 2) return d(x);
  let others = 0;
  for (let y = 0; y < before.length; y++) if (y !== x) others += d(y);
  return d(x) - others / (before.length - 1);
}

function lastIndexOf(written: readonly Written[], x: number): number {
  for (let i = written.length - 1; i >= 0; i--) if (written[i]!.index === x) return i;
  return -1;
}

/** Fisher–Yates with the run's own shuffling generator (reproducible). */
function shuffle<T>(xs: readonly T[], rng: Rng): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function tvOf(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / 2;
}

/** The run's generator, with the draws made between start() and stop() kept (a sim model's draws at a step). */
function recordingRng(base: Rng): { rng: Rng; start(): void; stop(): number[] } {
  let kept: number[] | null = null;
  return {
    rng: () => {
      const u = base();
      kept?.push(u);
      return u;
    },
    start: () => void (kept = []),
    stop: () => {
      const out = kept ?? [];
      kept = null;
      return out;
    },
  };
}

/** Replays `draws`, then (a model that draws more under another history) a generator of its own, seeded by `seed`. */
function replay(draws: readonly number[], seed: string): Rng {
  let i = 0;
  let more: Rng | undefined;
  return () => (i < draws.length ? draws[i++]! : (more ??= makeRng(seed))());
}

/** The summary of every step's effects: pooled means with 95% bootstrap intervals (runs resampled, or steps of one run). */
export function summariseCounterfactual(perRun: readonly (readonly CounterfactualStep[])[], seed: number): CounterfactualSummary {
  const byRun = perRun.filter((r) => r.length > 0);
  const resampled = byRun.length >= 2 ? "runs" : "steps";
  const units: (readonly CounterfactualStep[])[] = resampled === "runs" ? byRun : (byRun[0] ?? []).map((s) => [s]);
  const stat = (pick: (s: CounterfactualStep) => (number | null)[]) => bootstrapMeans(units.map((u) => u.flatMap((s) => pick(s).filter((v): v is number => v !== null))), seed);
  const steps = byRun.flat();
  const rescored = steps.reduce((a, s) => a + s.plus.length + s.minus.filter((m) => m !== null).length + (s.shuffled ? 1 : 0) + (s.removed ? 1 : 0), 0);
  return {
    effect: stat((s) => [...s.plus, ...s.minus]),
    log_effect: stat((s) => [...s.log_plus, ...s.log_minus]),
    plus: stat((s) => s.plus),
    minus: stat((s) => s.minus),
    tv_shuffled: stat((s) => [s.tv_shuffled]),
    tv_removed: stat((s) => [s.tv_removed]),
    resampled,
    steps: steps.filter((s) => s.counts.some((c) => c > 0)).length,
    rescored,
  };
}
