export { runTokenProtocol, runSeed, type RunSettings, type StepListener } from "./tokens.ts";
export { answerTokenBias, allSpellings } from "./bias.ts";
export { runSimProtocol } from "./sim.ts";
export { DEFAULT_TEMPLATE, DELIMITER, SEPARATOR, PREFILL_MARKER, loadTemplate, renderPrompt, type PromptValues } from "./prompt.ts";
export { runTextProtocol, checkTextSettings } from "./text.ts";
export { parseSupportAnswer, parseNumberAnswer, defaultAnswerParser, DEFAULT_MAX_FAILURES, DEFAULT_MAX_ANSWER_TOKENS, type AnswerParser } from "./answers.ts";
