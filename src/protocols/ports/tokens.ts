// Scoring adapter for token backends (embedded llama.cpp, llama-server): the exact trie over every tokenisation of
// each answer (scoring/score.ts) at the run's context of token ids; generation through scoring/generate.ts.
import type { PromptParts, TokenBackend } from "../../backends/types.ts";
import { RunError } from "../../errors.ts";
import { assertExpressible, optionTexts, scoreOptions } from "../../scoring/index.ts";
import { generateUntil } from "../../scoring/generate.ts";
import type { Rng } from "../../rng.ts";
import type { ProtocolName, Target } from "../../types.ts";
import { answerTokenBias } from "../bias.ts";
import type { RunCursor, ScoringPort } from "../port.ts";
import { DELIMITER, SEPARATOR } from "../prompt.ts";
import type { RunSettings } from "../settings.ts";

export async function tokenPort(backend: TokenBackend, protocol: ProtocolName, target: Target, prompt: PromptParts, settings: RunSettings): Promise<ScoringPort> {
  const started = { ...backend.stats };
  const texts = optionTexts(target.support, SEPARATOR, DELIMITER);
  assertExpressible(backend.vocab, target.support, texts);
  await backend.prepare?.(prompt);
  const promptTokens = backend.encodePrompt(prompt);
  const bias = settings.logitBias ? answerTokenBias(backend, target.support, texts, settings.logitBias) : undefined;
  const T = settings.temperature;
  const width = backend.capabilities.parallel;
  // Trie levels at once: always on a remote server; on an embedded context only for a single run (its spare
  // sequences take the siblings; with several runs each run keeps its own sequence and goes depth first).
  const levels = width > 1 && (width === Infinity || settings.runs === 1);
  // The benchmark's baseline forgets the cached prefix before every scored step (never inside a batch generation).
  const reset = settings.reusePrefix === false && protocol !== "batch";
  // sequential: the context grows by each drawn answer, so step t sees the samples 0..t-1; the engine's cached
  // prefix makes a step cost the answer's tokens, not the whole context. batch: it grows by what the model writes.
  const cursorAt = (rng: Rng, start: number[]): RunCursor => {
    let context = start;
    return {
      async score(consumed = "") {
        if (reset) await backend.reset();
        return scoreOptions(backend, context, texts, { temperature: T === 0 ? 1 : T, sampler: T === 0 ? undefined : settings.sampler, prune: settings.prune, consumed, bias, levels });
      },
      advance(index, scored) {
        context = [...context, ...scored.paths![index]!];
      },
      generateUntilDelimiter: (written, budget) => generateUntil(backend, context, written, { temperature: T, sampler: settings.sampler, rng, budget, done: (w) => w.includes(DELIMITER) }),
    };
  };
  return {
    capabilities: backend.capabilities,
    begin: (rng) => cursorAt(rng, [...promptTokens]),
    resume(rng, written) {
      const context = [...promptTokens];
      for (const w of written) {
        // A programming error, not the user's: the caller hands back the paths the scoring gave (Scored.paths).
        if (!w.path) throw new Error(`tokenPort.resume: answer ${w.index} has no token path`);
        context.push(...w.path);
      }
      return cursorAt(rng, context);
    },
    noAnswer(t, scored) {
      const pruned = scored.unknown > 0 ? `; ${fmtMass(scored.unknown)} of the mass was on paths pruned below --prune ${settings.prune} before they reached an answer, so lower --prune (e.g. --prune 0) to follow them, or` : ";";
      return new RunError(`at step ${t} the model puts no probability on any answer (leak ${scored.leak.toFixed(3)})${pruned} check the prompt with --show-prompt or use --prompt-file`);
    },
    recorded() {
      const out: Record<string, unknown> = {
        prompt,
        chat_template: backend.templated,
        engine: { ...backend.engine, tokens_evaluated: backend.stats.evaluated - started.evaluated, distributions: backend.stats.requests - started.requests },
      };
      if (backend.describe) out.remote = backend.describe();
      return out;
    },
  };
}

/** A probability mass as a percentage with enough digits to be non-zero when it is. */
function fmtMass(m: number): string {
  return `${(m * 100).toPrecision(2)}%`;
}
