import { readFile } from "node:fs/promises";
import { decodeUtf8 } from "../text.ts";
import { InputError } from "../errors.ts";
import type { PromptParts } from "../backends/types.ts";

/** What the model writes around each answer: `Samples: 2, 1, 2,` — separator before, delimiter after. */
export const SEPARATOR = " ";
export const DELIMITER = ",";

/** A line of its own that splits a prompt file into the user's message (above) and the model's prefill (below). */
export const PREFILL_MARKER = "---prefill---";

export const DEFAULT_TEMPLATE = `You are a random number generator. Draw {{steps}} independent samples from this probability distribution over the answers {{support}}:
{{distribution}}.
Write only the samples, separated by commas, for example: Samples: {{example}}
${PREFILL_MARKER}
Samples:`;

export interface PromptValues {
  distribution: string;
  support: readonly string[];
  steps: number;
  /** Words for {{support}} and {{example}} when the answers are too many to list (continuous targets: distributions/promptWords). */
  supportText?: string;
  example?: string;
}

export async function loadTemplate(file: string | undefined): Promise<string> {
  if (!file) return DEFAULT_TEMPLATE;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError(`cannot read prompt file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return decodeUtf8(bytes, file, "prompt file");
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

export function renderPrompt(template: string, values: PromptValues): PromptParts {
  const fill: Record<string, string> = {
    distribution: values.distribution,
    support: values.supportText ?? values.support.join(", "),
    steps: String(values.steps),
    example: values.example ?? values.support.slice(0, 3).map((a) => `${a}${DELIMITER}`).join(SEPARATOR),
  };
  const text = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = fill[name];
    if (value === undefined) throw new InputError(`prompt template uses unknown placeholder ${whole}; known: ${Object.keys(fill).map((k) => `{{${k}}}`).join(", ")}`);
    return value;
  });
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const at = lines.findIndex((l) => l.trim() === PREFILL_MARKER);
  if (at < 0) return { user: text.replace(/\n+$/, ""), prefill: "" };
  return { user: lines.slice(0, at).join("\n").replace(/\n+$/, ""), prefill: lines.slice(at + 1).join("\n").replace(/\n+$/, "") };
}
