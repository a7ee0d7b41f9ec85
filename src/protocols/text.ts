// Protocols for text-level remote backends (echo and top-k scoring). Runs go in parallel (the HTTP client limits
// concurrency); the steps of one run stay in order, since a sequential step needs the previous step's sample.
import type { PromptParts, TextBackend } from "../backends/types.ts";
import { InputError, RunError } from "../errors.ts";
import { applyTemperature, drawIndex, makeRng, normalise } from "../rng.ts";
import { optionTexts, truncates } from "../scoring/index.ts";
import type { ProtocolName, Run, Step, Target } from "../types.ts";
import { DELIMITER, SEPARATOR } from "./prompt.ts";
import { runSeed, type RunSettings, type StepListener } from "./tokens.ts";

/** The settings a text-level backend can honour; throws the user-facing error otherwise. */
export function checkTextSettings(protocol: ProtocolName, settings: Pick<RunSettings, "temperature" | "sampler">): void {
  if (truncates(settings.sampler)) throw new InputError("--top-k, --top-p and --min-p need the full next-token distribution, which echo and top-k scoring do not give; use llama-server's exact token path (--scoring tokens) or the embedded engine");
  if (protocol === "batch") throw new InputError(`the batch protocol needs free generation token by token; with openai: models use --protocol sequential or independent`);
  if (settings.temperature !== 1 && settings.temperature !== 0) {
    throw new InputError(`echo and top-k scoring read the server's log-probabilities at temperature 1, so --temperature must be 1 (or 0, greedy) with this server; llama-server's exact token path (--scoring tokens) takes any temperature`);
  }
}

export async function runTextProtocol(
  backend: TextBackend,
  protocol: ProtocolName,
  target: Target,
  prompt: PromptParts,
  settings: RunSettings,
  onStep?: StepListener,
  runs: Run[] = [],
): Promise<Run[]> {
  checkTextSettings(protocol, settings);
  const texts = optionTexts(target.support, SEPARATOR, DELIMITER);
  const mine: Run[] = Array.from({ length: settings.runs }, (_, r) => ({ seed: runSeed(settings.seed, r), steps: [] }));
  runs.push(...mine);
  let failed = false;
  // independent: every step asks the same question; a deterministic server gives the same answer, so ask it once.
  let fresh: ReturnType<TextBackend["score"]> | undefined;
  const score = (written: string) => (protocol === "independent" ? (fresh ??= backend.score(prompt, "", texts, { prune: settings.prune })) : backend.score(prompt, written, texts, { prune: settings.prune }));
  const one = async (run: Run, r: number) => {
    const rng = makeRng(run.seed);
    let written = "";
    for (let t = 0; t < settings.steps && !failed; t++) {
      const scored = await score(written);
      const total = scored.raw.reduce((a, b) => a + b, 0);
      if (total === 0) {
        const why = scored.unknown > 0 ? `; ${(scored.unknown * 100).toFixed(1)}% of the mass is outside the server's top-k` : "";
        throw new RunError(`at step ${t} the model puts no visible probability on any answer (leak ${scored.leak.toFixed(3)}${why}); check the prompt with --show-prompt or use --prompt-file`);
      }
      const ptoken = settings.temperature === 0 ? applyTemperature(normalise(scored.raw), 0) : normalise(scored.raw);
      const idx = drawIndex(ptoken, rng);
      const step: Step = { t, ptoken, leak: scored.leak, sample: target.support[idx]!, unknown: scored.unknown };
      if (scored.outside.length > 0) step.outside = scored.outside.map((i) => target.support[i]!);
      if (scored.entropyBounds) step.entropy_full_bounds = scored.entropyBounds;
      run.steps.push(step);
      onStep?.(r, step, run);
      written += texts[idx]!;
    }
  };
  const settled = await Promise.allSettled(
    mine.map((run, r) =>
      one(run, r).catch((err: unknown) => {
        // In batch mode a run waiting for an answer does not stop the others: each collects its next requests.
        if (!(err instanceof Error && err.name === "PendingRequest")) failed = true;
        throw err;
      }),
    ),
  );
  const error = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (error) throw error.reason;
  return runs;
}
