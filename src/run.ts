import { closeModel, openModel, type ModelOptions, type Model } from "./backends/index.ts";
import { classify, type Thresholds } from "./classify/index.ts";
import { describeDist, promptWords } from "./distributions/index.ts";
import { computeMetrics, type ValueTestOptions } from "./metrics/index.ts";
import { renderPrompt, runProtocol, type ProtocolRequest, type RunSettings, type StepListener } from "./protocols/index.ts";
import type { ProtocolName, RecordedSettings, Result, Run, Target } from "./types.ts";
import { peerTestsOf } from "./config/recorded.ts";

export interface RunRequest {
  model: string;
  target: Target;
  protocol: ProtocolName;
  settings: RunSettings;
  /** Prompt template text (protocols/prompt.ts syntax); the default when omitted. */
  template: string;
  backend?: ModelOptions;
  thresholds?: Partial<Thresholds>;
  onStep?: StepListener;
  /** Filled step by step: after a failure it holds every step computed so far. */
  runs?: Run[];
  /** Stops at the next step boundary (protocols/loop.ts): the loop throws Interrupted, `runs` holds the steps so far. */
  signal?: AbortSignal;
  /** Runs finished by an earlier attempt, by run index (a resumed measurement): kept, not measured again. */
  kept?: ReadonlyMap<number, Run>;
  /** A probe of every scoring (ProtocolRequest.wrapPort): `ptalign probe --counterfactual`. */
  wrapPort?: ProtocolRequest["wrapPort"];
}

/** Result JSON from finished runs: metrics, verdict (with bootstrap CIs seeded by the run's seed) and settings. */
export function summarise(model: string, protocol: ProtocolName, target: Target, runs: Run[], settings: RecordedSettings, thresholds?: Partial<Thresholds>, seed = 0): Result {
  const complete = runs.filter((r) => r.steps.length > 0);
  const metrics = computeMetrics(target, complete, peerOptions(settings, seed));
  return {
    version: 1,
    model,
    protocol,
    target,
    runs,
    metrics,
    // classify also bounds what unresolved mass (pruned paths, a remote top-k) could change, and names off-format output.
    verdict: classify(target, complete, { thresholds, seed }),
    settings,
  };
}

/** settings.peer_tests ({reference?: n}, set by --peer-tests) turns on the peers' recipe, seeded by the run's seed. */
function peerOptions(settings: RecordedSettings, seed: number): ValueTestOptions {
  const p = peerTestsOf(settings);
  if (!p) return {};
  return { peers: { seed, ...(p.reference !== undefined ? { reference: p.reference } : {}) } };
}

/** One model × one target × one protocol: open, measure every run, score, classify, close. */
export async function measure(req: RunRequest, opened?: Model): Promise<Result> {
  const { runs, settings } = await collectRuns(req, opened);
  return summarise(req.model, req.protocol, req.target, runs, settings, req.thresholds, req.settings.seed);
}

/** measure() without the summary: the runs (steps) and the settings that produced them (study cells use it per run). */
export async function collectRuns(req: RunRequest, opened?: Model): Promise<{ runs: Run[]; settings: RecordedSettings }> {
  const runs = req.runs ?? [];
  const model = opened ?? (await openModel(req.model, req.backend));
  const prompt = renderPrompt(req.template, { distribution: describeDist(req.target), support: req.target.support, ...promptWords(req.target), steps: req.settings.steps });
  try {
    // The one protocol loop over the model's scoring port; the port says what the result records about it.
    const { recorded } = await runProtocol(model, { protocol: req.protocol, target: req.target, prompt, settings: req.settings, onStep: req.onStep, runs, signal: req.signal, kept: req.kept, wrapPort: req.wrapPort });
    return { runs, settings: { ...req.settings, ...recorded } };
  } finally {
    if (!opened) await closeModel(model);
  }
}
