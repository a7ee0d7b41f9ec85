// The default prompt of a choice context: the context, the labelled options, the instruction; the model's turn
// starts with "Answer:" and the protocol loop scores " A," (separator, label, delimiter: src/protocols/prompt.ts),
// so a sequential draw sees its earlier answers as "Answer: A, B," — the same question asked again.

import type { PromptParts } from "../../backends/types.ts";
import type { ChoiceContext } from "./types.ts";

export const CHOICE_PREFILL = "Answer:";
export const DEFAULT_INSTRUCTION = "Answer with the letter of one option.";

/** The prompt of a context with its options in the order given. */
export function choicePrompt(ctx: ChoiceContext): PromptParts {
  const options = ctx.options.map((o) => (o.text === "" ? o.label : `${o.label}. ${o.text}`)).join("\n");
  const instruction = ctx.instruction ?? DEFAULT_INSTRUCTION;
  return { user: `${ctx.context}\n\n${options}\n\n${instruction} Write it followed by a comma.`, prefill: CHOICE_PREFILL };
}
