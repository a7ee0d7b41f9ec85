// How the batch protocol turns the text a model wrote for one answer into a sample. Kept apart (and replaceable
// through RunSettings.parseAnswer) so that other answer formats — free-form numbers for continuous targets — plug in
// without touching the generation loop.
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

/** Consecutive unparseable answers after which a batch run stops (cleanly, with the reason in `Run.stopped`). */
export const DEFAULT_MAX_FAILURES = 5;
/** Longest answer, in tokens, the batch protocol waits for before it counts the answer as unparseable. */
export const DEFAULT_MAX_ANSWER_TOKENS = 24;
