// Scoring adapter for text-level remote backends (echo and top-k scoring): the server scores each answer's text after
// the prompt and the answers written so far.
import type { PromptParts, TextBackend, TextScored } from "../../backends/types.ts";
import { RunError } from "../../errors.ts";
import { optionTexts } from "../../scoring/options.ts";
import type { ProtocolName, Target } from "../../types.ts";
import type { RunCursor, ScoringPort } from "../port.ts";
import { DELIMITER, SEPARATOR } from "../prompt.ts";
import type { RunSettings } from "../settings.ts";

export function textPort(backend: TextBackend, protocol: ProtocolName, target: Target, prompt: PromptParts, settings: RunSettings): ScoringPort {
  const texts = optionTexts(target.support, SEPARATOR, DELIMITER);
  // independent: every step asks the same question; a deterministic server gives the same answer, so ask it once.
  let fresh: Promise<TextScored> | undefined;
  const score = (written: string) => (protocol === "independent" ? (fresh ??= backend.score(prompt, "", texts, { prune: settings.prune })) : backend.score(prompt, written, texts, { prune: settings.prune }));
  return {
    capabilities: backend.capabilities,
    begin(): RunCursor {
      let written = "";
      return {
        score: () => score(written),
        advance: (index) => void (written += texts[index]!),
      };
    },
    // A history the run did not write is always asked for (never the independent protocol's one cached answer).
    resume(_rng, history): RunCursor {
      let written = history.map((w) => texts[w.index]!).join("");
      return {
        score: () => backend.score(prompt, written, texts, { prune: settings.prune }),
        advance: (index) => void (written += texts[index]!),
      };
    },
    noAnswer(t, scored) {
      const why = scored.unknown > 0 ? `; ${(scored.unknown * 100).toFixed(1)}% of the mass is outside the server's top-k` : "";
      return new RunError(`at step ${t} the model puts no visible probability on any answer (leak ${scored.leak.toFixed(3)}${why}); check the prompt with --show-prompt or use --prompt-file`);
    },
    recorded: () => ({ prompt, chat_template: backend.templated, remote: backend.describe() }),
  };
}
