// How the batch protocol turns the text a model wrote for one answer into a sample. Kept apart (and replaceable
// through RunSettings.parseAnswer) so that other answer formats — free-form numbers for continuous targets — plug in
// without touching the generation loop.
import { answerOfValue, parseAnswerNumber } from "../distributions/index.ts";
import { numericSupport } from "../metrics/index.ts";
import type { Target } from "../types.ts";

/**
 * Maps the text written between two delimiters (decoded UTF-8, untrimmed) to a sample, or null when it is not an
 * answer the target knows. The protocol records null answers as steps with `sample: null` and their `raw` text.
 */
export type AnswerParser = (text: string, target: Target) => string | null;

/** The default parser: the text, trimmed of white space, must be one of the support's answers exactly. */
export const parseSupportAnswer: AnswerParser = (text, target) => {
  const answer = text.trim();
  return target.support.includes(answer) ? answer : null;
};

/**
 * Free-form numbers, as the bad-dice peers read them ("0.37", "-1.2e-1", "  3 "): an exact support answer is itself;
 * otherwise a number counts as the answer it stands for — the bin it rounds into on a continuous target, the equal
 * answer on a numeric one ("3.0" → "3"). The protocol keeps the text as `raw` whenever it differs from the answer, so
 * the sample tests read the number as written.
 */
export const parseNumberAnswer: AnswerParser = (text, target) => {
  const exact = parseSupportAnswer(text, target);
  if (exact !== null) return exact;
  const v = parseAnswerNumber(text);
  return v === null ? null : answerOfValue(target, v);
};

/** The batch protocol's parser when the run names none: numbers on a continuous or numeric target, exact answers otherwise. */
export function defaultAnswerParser(target: Target): AnswerParser {
  return target.continuous || numericSupport(target.support) ? parseNumberAnswer : parseSupportAnswer;
}

/** Consecutive unparseable answers after which a batch run stops (cleanly, with the reason in `Run.stopped`). */
export const DEFAULT_MAX_FAILURES = 5;
/** Longest answer, in tokens, the batch protocol waits for before it counts the answer as unparseable. */
export const DEFAULT_MAX_ANSWER_TOKENS = 24;
