import type { TokenBackend } from "../backends/types.ts";
import { fromBytes } from "../backends/vocab.ts";
import { InputError, RunError } from "../errors.ts";
import { applyTemperature, drawIndex, makeRng, normalise, type Rng } from "../rng.ts";
import { argmaxToken, assertExpressible, optionTexts, sampleToken, sampleWithSampler, scoreOptions, shortestSpelling, truncates, type SamplerSettings } from "../scoring/index.ts";
import type { ProtocolName, Run, Step, Target } from "../types.ts";
import { DELIMITER, SEPARATOR } from "./prompt.ts";
import { answerTokenBias } from "./bias.ts";
import type { PromptParts } from "../backends/types.ts";
import { DEFAULT_MAX_ANSWER_TOKENS, DEFAULT_MAX_FAILURES, defaultAnswerParser, type AnswerParser } from "./answers.ts";

export interface RunSettings {
  steps: number;
  runs: number;
  /** Sampling temperature; 0 = greedy (the most probable answer). */
  temperature: number;
  seed: number;
  /** Trie paths below this probability are not expanded (their mass is reported as `unknown`). */
  prune: number;
  /** Longest free answer, in tokens, the batch protocol waits for before counting the answer as unparseable (default 24). */
  maxAnswerTokens?: number;
  /** Deployed sampler truncations (top-k, top-p, min-p) in their engine's order; ptoken is what that sampler draws from. */
  sampler?: SamplerSettings;
  /** Batch: consecutive unparseable answers after which the run stops cleanly (default 5). */
  maxFailures?: number;
  /** Batch: how a written answer becomes a sample (default: the trimmed text must be a support answer). */
  parseAnswer?: AnswerParser;
  /** false: forget the engine's cached prefix before every step (the benchmark's baseline). Default true. */
  reusePrefix?: boolean;
  /** Logit bias per answer (docs/metrics.md, "Correction"): token backends bias each answer's first distinguishing token; sim models tilt q directly. */
  logitBias?: Record<string, number>;
}

/** Called after every finished step, so callers can show progress and keep partial results. */
export type StepListener = (runIndex: number, step: Step, run: Run) => void;

/** The seed of run r: consecutive from the base seed, so runs are reproducible one by one. */
export const runSeed = (seed: number, r: number) => seed + r;

export async function runTokenProtocol(
  backend: TokenBackend,
  protocol: ProtocolName,
  target: Target,
  prompt: PromptParts,
  settings: RunSettings,
  onStep?: StepListener,
  runs: Run[] = [],
): Promise<Run[]> {
  const texts = optionTexts(target.support, SEPARATOR, DELIMITER);
  assertExpressible(backend.vocab, target.support, texts);
  if (backend.parallel && !backend.engine && protocol === "batch") throw new InputError(`the batch protocol needs free generation token by token; with openai: models use --protocol sequential or independent`);
  await backend.prepare?.(prompt);
  const promptTokens = backend.encodePrompt(prompt);
  if (settings.logitBias && protocol === "batch") throw new InputError("--logit-bias applies to the scored protocols (sequential, independent), not to batch free generation");
  const bias = settings.logitBias ? answerTokenBias(backend, target.support, texts, settings.logitBias) : undefined;
  const stepFn = protocol === "batch" ? batchRun : scoredRun;
  const stop = { failed: false };
  const start = (r: number) => {
    const run: Run = { seed: runSeed(settings.seed, r), steps: [] };
    runs.push(run);
    return { run, go: () => stepFn({ backend, protocol, target, texts, promptTokens, settings, bias, rng: makeRng(run.seed), run, stop, onStep: (s) => onStep?.(r, s, run) }) };
  };
  if (!backend.parallel) {
    for (let r = 0; r < settings.runs; r++) await start(r).go();
    return runs;
  }
  // A remote engine serves several requests at once: runs go in parallel (their steps stay in order), and when one
  // fails the others stop before their next step, so no step is left half done.
  // An embedded context has a fixed number of sequences: at most that many runs at once (a run keeps its sequence and
  // its cached context); the runs are started in order, so `runs` keeps its order.
  const started = Array.from({ length: settings.runs }, (_, r) => start(r));
  const width = backend.engine ? Math.max(1, Number(backend.engine.parallel) || 1) : started.length;
  let next = 0;
  const worker = async () => {
    while (next < started.length && !stop.failed) await started[next++]!.go().catch((err: unknown) => ((stop.failed = true), Promise.reject(err)));
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(width, started.length) }, worker));
  const error = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (error) throw error.reason;
  return runs;
}

interface RunContext {
  backend: TokenBackend;
  protocol: ProtocolName;
  target: Target;
  texts: string[];
  promptTokens: number[];
  settings: RunSettings;
  bias?: ReadonlyMap<number, number>;
  rng: Rng;
  run: Run;
  /** Set when a parallel run failed: the others finish the step they are on and stop. */
  stop: { failed: boolean };
  onStep: (step: Step) => void;
}

/** P_token over the support after `context`, at the run's temperature (T = 0 reads T = 1 and takes the argmax). */
async function measure(c: RunContext, context: readonly number[], t: number, consumed = "") {
  const T = c.settings.temperature;
  // Trie levels at once: always on a remote server; on an embedded context only for a single run (its spare
  // sequences take the siblings; with several runs each run keeps its own sequence and goes depth first).
  const levels = Boolean(c.backend.parallel) && (!c.backend.engine || c.settings.runs === 1);
  const scored = await scoreOptions(c.backend, context, c.texts, { temperature: T === 0 ? 1 : T, sampler: T === 0 ? undefined : c.settings.sampler, prune: c.settings.prune, consumed, bias: c.bias, levels });
  const total = scored.raw.reduce((a, b) => a + b, 0);
  if (total === 0) {
    const pruned = scored.unknown > 0 ? `; ${fmtMass(scored.unknown)} of the mass was on paths pruned below --prune ${c.settings.prune} before they reached an answer, so lower --prune (e.g. --prune 0) to follow them, or` : ";";
    throw new RunError(`at step ${t} the model puts no probability on any answer (leak ${scored.leak.toFixed(3)})${pruned} check the prompt with --show-prompt or use --prompt-file`);
  }
  const ptoken = T === 0 ? applyTemperature(normalise(scored.raw), 0) : normalise(scored.raw);
  return { scored, ptoken };
}

/** A probability mass as a percentage with enough digits to be non-zero when it is. */
function fmtMass(m: number): string {
  return `${(m * 100).toPrecision(2)}%`;
}

/**
 * sequential: the context grows by each drawn answer, so step t sees the samples 0..t-1; the engine's cached
 * prefix makes a step cost the answer's tokens, not the whole context.
 * independent: every step starts again from the prompt alone (a fresh conversation per sample).
 */
async function scoredRun(c: RunContext): Promise<void> {
  let context = c.promptTokens;
  for (let t = 0; t < c.settings.steps && !c.stop.failed; t++) {
    if (c.settings.reusePrefix === false) await c.backend.reset();
    const { scored, ptoken } = await measure(c, context, t);
    const idx = drawIndex(ptoken, c.rng);
    const step: Step = { t, ptoken, leak: scored.leak, sample: c.target.support[idx]!, unknown: scored.unknown, entropy_full: scored.entropyFull };
    c.run.steps.push(step);
    c.onStep(step);
    if (c.protocol === "sequential") context = [...context, ...scored.paths[idx]!];
  }
}

/**
 * batch: the model writes all its samples in one free generation (sampled token by token with the run's seed);
 * at each answer position P_token is read before the model's own answer is generated and parsed.
 * An answer that does not parse (text outside the support, or no delimiter within maxAnswerTokens) is a step with
 * `sample: null` and its `raw` text; the generation goes on after the next delimiter. The run stops cleanly
 * (`Run.stopped` says why) after maxFailures consecutive unparseable answers, or when no delimiter follows an
 * overlong answer within another SKIP_FACTOR × maxAnswerTokens tokens.
 */
const SKIP_FACTOR = 4;

async function batchRun(c: RunContext): Promise<void> {
  const maxTokens = c.settings.maxAnswerTokens ?? DEFAULT_MAX_ANSWER_TOKENS;
  const maxFailures = c.settings.maxFailures ?? DEFAULT_MAX_FAILURES;
  const parse = c.settings.parseAnswer ?? defaultAnswerParser(c.target);
  const context = [...c.promptTokens];
  let carry = ""; // bytes already written past the last delimiter
  let failures = 0;
  for (let t = 0; t < c.settings.steps && !c.stop.failed; t++) {
    const { scored, ptoken } = await measure(c, context, t, carry);
    // Up to maxTokens for the answer; when it overruns, up to SKIP_FACTOR × maxTokens more to find the delimiter it ends at.
    let gen = await generateUntilDelimiter(c, context, carry, maxTokens);
    const overrun = !gen.delimited && !gen.ended;
    if (overrun) gen = await generateUntilDelimiter(c, context, gen.written, SKIP_FACTOR * maxTokens);
    const { written, ended } = gen;
    const cut = written.indexOf(DELIMITER);
    const answerBytes = cut >= 0 ? written.slice(0, cut) : written;
    carry = cut >= 0 ? written.slice(cut + DELIMITER.length) : "";
    const text = fromBytes(answerBytes);
    const sample = overrun ? null : parse(text, c.target);
    const step: Step = { t, ptoken, leak: scored.leak, sample, unknown: scored.unknown, entropy_full: scored.entropyFull };
    // raw also when a parser read the text as another answer ("0.37" → bin "0.4"): the sample tests read the number.
    if (sample === null || sample !== text.trim()) step.raw = text;
    // The model closing its output right after a delimiter wrote no answer: not a step.
    if (!(ended && text.trim() === "")) {
      c.run.steps.push(step);
      c.onStep(step);
      failures = sample === null ? failures + 1 : 0;
    }
    if (ended) return; // the model closed its answer: the run has as many steps as it wrote
    if (cut < 0) {
      c.run.stopped = `step ${t}: the model wrote ${(1 + SKIP_FACTOR) * maxTokens} tokens without a "${DELIMITER}" (${JSON.stringify(text.slice(0, 60))}…), so no later answer position can be found; the run stops there`;
      return;
    }
    if (failures >= maxFailures) {
      c.run.stopped = `steps ${t - failures + 1}–${t}: ${failures} consecutive answers could not be parsed, so the run stops there (try --prompt-file with clearer instructions; --show-prompt shows the prompt)`;
      return;
    }
  }
}

/** Samples tokens after `context` (appending them) until the written bytes hold a delimiter, the model ends, or `budget` tokens. */
async function generateUntilDelimiter(c: RunContext, context: number[], written: string, budget: number): Promise<{ written: string; ended: boolean; delimited: boolean }> {
  const T = c.settings.temperature;
  for (let n = 0; n < budget && !written.includes(DELIMITER); n++) {
    const dist = await c.backend.next(context);
    const sampler = c.settings.sampler;
    const token = T === 0 ? argmaxToken(dist) : truncates(sampler) ? sampleWithSampler(dist, c.backend.vocab.size, T, sampler, c.rng) : sampleToken(dist, T, c.rng);
    context.push(token);
    if (c.backend.isEndOfGeneration(token)) return { written, ended: true, delimited: written.includes(DELIMITER) };
    written += c.backend.vocab.bytes(token);
  }
  return { written, ended: false, delimited: written.includes(DELIMITER) };
}
