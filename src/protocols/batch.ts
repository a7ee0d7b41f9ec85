// The batch protocol on a backend that generates: the model writes all its samples in one free generation (sampled
// token by token with the run's seed); at each answer position P_token is read before the model's own answer is
// generated and parsed.
import { fromBytes } from "../backends/vocab.ts";
import { DEFAULT_MAX_ANSWER_TOKENS, DEFAULT_MAX_FAILURES, defaultAnswerParser } from "./answers.ts";
import { DELIMITER } from "./prompt.ts";
import { boundary, buildStep, halted, ptokenOf, type RunContext } from "./step.ts";

/**
 * An answer that does not parse (text outside the support, or no delimiter within maxAnswerTokens) is a step with
 * `sample: null` and its `raw` text; the generation goes on after the next delimiter. The run stops cleanly
 * (`Run.stopped` says why) after maxFailures consecutive unparseable answers, or when no delimiter follows an
 * overlong answer within another SKIP_FACTOR × maxAnswerTokens tokens.
 */
const SKIP_FACTOR = 4;

export async function batchRun(c: RunContext): Promise<void> {
  const generate = c.cursor.generateUntilDelimiter;
  if (!generate) throw new Error("batch protocol: the backend declares generation but its cursor cannot generate");
  const maxTokens = c.settings.maxAnswerTokens ?? DEFAULT_MAX_ANSWER_TOKENS;
  const maxFailures = c.settings.maxFailures ?? DEFAULT_MAX_FAILURES;
  const parse = c.settings.parseAnswer ?? defaultAnswerParser(c.target);
  let carry = ""; // bytes already written past the last delimiter
  let failures = 0;
  for (let t = 0; t < c.settings.steps && !halted(c.stop); t++) {
    const scored = await c.cursor.score(carry);
    const ptoken = ptokenOf(c.port, t, scored, c.settings.temperature);
    // Up to maxTokens for the answer; when it overruns, up to SKIP_FACTOR × maxTokens more to find the delimiter it ends at.
    let gen = await generate(carry, maxTokens);
    const overrun = !gen.written.includes(DELIMITER) && !gen.ended;
    if (overrun) gen = await generate(gen.written, SKIP_FACTOR * maxTokens);
    const { written, ended } = gen;
    const cut = written.indexOf(DELIMITER);
    const answerBytes = cut >= 0 ? written.slice(0, cut) : written;
    carry = cut >= 0 ? written.slice(cut + DELIMITER.length) : "";
    const text = fromBytes(answerBytes);
    const sample = overrun ? null : parse(text, c.target);
    const step = buildStep(t, ptoken, scored, sample, c.target);
    // raw also when a parser read the text as another answer ("0.37" → bin "0.4"): the sample tests read the number.
    if (sample === null || sample !== text.trim()) step.raw = text;
    // The model closing its output right after a delimiter wrote no answer: not a step.
    if (!(ended && text.trim() === "")) {
      c.run.steps.push(step);
      await c.onStep(step);
      await boundary(c.stop);
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
