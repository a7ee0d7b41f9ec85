// The one measurement loop: sequential, independent and batch over every backend. What differs between backends is
// behind the scoring port (port.ts, one adapter per kind in ports/) and their declared capabilities; seeds, the
// generator, temperature, Step records, the step listener and parallel runs are all here.
import type { Model } from "../backends/index.ts";
import type { PromptParts } from "../backends/types.ts";
import { checkInterrupted, PendingRequest } from "../errors.ts";
import { drawIndex, makeRng } from "../rng.ts";
import type { ProtocolName, Run, Target } from "../types.ts";
import { batchRun } from "./batch.ts";
import { checkCapabilities } from "./capabilities.ts";
import type { ScoringPort } from "./port.ts";
import { portFor } from "./ports/index.ts";
import { runSeed, type RunSettings, type StepListener } from "./settings.ts";
import { boundary, buildStep, halted, ptokenOf, type RunContext } from "./step.ts";

export interface ProtocolRequest {
  protocol: ProtocolName;
  target: Target;
  /** The prompt (sim models do not read it). */
  prompt: PromptParts;
  settings: RunSettings;
  /** Awaited after every step, before the run's next one. */
  onStep?: StepListener;
  /** Filled run by run, step by step: after a failure it holds every step computed so far. */
  runs?: Run[];
  /**
   * Stops the measurement at the next step boundary (Ctrl-C): every step handed to onStep is whole, and the loop
   * then throws Interrupted (errors.ts) with `runs` holding every step so far.
   */
  signal?: AbortSignal;
  /** Runs finished by an earlier attempt (a resumed measurement), by run index: taken as they are, not measured. */
  kept?: ReadonlyMap<number, Run>;
  /** A probe that sees every scoring of the loop (counterfactual histories, src/probe/): the loop runs over the port it returns. */
  wrapPort?: (port: ScoringPort) => ScoringPort;
}

/**
 * Measures every run of one model × target × protocol. Returns the runs and what the result records about the
 * measurement (the port's settings: prompt, chat_template, engine, remote, model_spec).
 */
export async function runProtocol(model: Model, req: ProtocolRequest): Promise<{ runs: Run[]; recorded: Record<string, unknown> }> {
  checkCapabilities(model.capabilities, req.protocol, req.settings);
  const inner = await portFor(model, req.protocol, req.target, req.prompt, req.settings);
  const port = req.wrapPort ? req.wrapPort(inner) : inner;
  const runs = req.runs ?? [];
  await runPort(port, req.protocol, req.target, req.settings, req.onStep, runs, { signal: req.signal, kept: req.kept });
  return { runs, recorded: port.recorded() };
}

/**
 * The runs over a scoring port. Run r has seed runSeed(seed, r) and one generator for all its draws. A backend that
 * serves several requests at once gets its runs in parallel (a remote server: all of them; an embedded context: as
 * many as it has sequences, started in order so `runs` keeps its order); the steps of one run stay in order, since a
 * sequential step needs the previous sample. When one run fails the others stop before their next step, so no step is
 * left half done — except for a request pending in batch mode, after which each run goes on to collect its own.
 */
export async function runPort(port: ScoringPort, protocol: ProtocolName, target: Target, settings: RunSettings, onStep: StepListener | undefined, runs: Run[], opts: { signal?: AbortSignal; kept?: ReadonlyMap<number, Run> } = {}): Promise<Run[]> {
  const body = protocol === "batch" && port.capabilities.generation ? batchRun : scoredRun;
  const { signal, kept } = opts;
  const stop = { failed: false, signal };
  const start = (r: number) => {
    const done = kept?.get(r);
    if (done) {
      runs.push(done);
      return async () => {};
    }
    const run: Run = { seed: runSeed(settings.seed, r), steps: [] };
    runs.push(run);
    const rng = makeRng(run.seed);
    return () => body({ port, cursor: port.begin(rng), protocol, target, settings, rng, run, stop, onStep: (s) => onStep?.(r, s, run) });
  };
  const width = Math.min(port.capabilities.parallel, settings.runs);
  if (width <= 1) {
    for (let r = 0; r < settings.runs; r++) {
      checkInterrupted(signal);
      await start(r)();
    }
    checkInterrupted(signal);
    return runs;
  }
  const started = Array.from({ length: settings.runs }, (_, r) => start(r));
  let next = 0;
  const worker = async () => {
    while (next < started.length && !stop.failed && !signal?.aborted) {
      await started[next++]!().catch((err: unknown) => {
        if (!(err instanceof PendingRequest)) stop.failed = true;
        throw err;
      });
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: width }, worker));
  const error = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (error) throw error.reason;
  checkInterrupted(signal);
  return runs;
}

/**
 * sequential: each drawn answer is appended to the run's state (the conversation, or a sim model's history), so step t
 * sees the samples 0..t-1. independent: every step starts again from the prompt alone (a fresh conversation per
 * sample). batch on a backend without generation (sim): the model's own draws are its answers, as in sequential.
 */
async function scoredRun(c: RunContext): Promise<void> {
  const keep = c.protocol !== "independent";
  for (let t = 0; t < c.settings.steps && !halted(c.stop); t++) {
    const scored = await c.cursor.score();
    const ptoken = ptokenOf(c.port, t, scored, c.settings.temperature);
    const idx = drawIndex(ptoken, c.rng);
    const step = buildStep(t, ptoken, scored, c.target.support[idx]!, c.target);
    c.run.steps.push(step);
    await c.onStep(step);
    await boundary(c.stop);
    if (keep) c.cursor.advance(idx, scored);
  }
}
