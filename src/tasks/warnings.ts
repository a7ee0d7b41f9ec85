// Warnings the tasks attach to their results (and the CLI prints): numbers that cannot mean what they seem to.
// Off-format: a model that rarely writes an answer (recommend: mean leak; codegen: share of samples that are not
// a program) gets numbers about answers it almost never gives. Non-discriminating: a comparison whose outcome is
// fixed by construction (a sim model with nothing wrong to choose, a list of one candidate).

import { DEFAULT_THRESHOLDS } from "../classify/thresholds.ts";

/**
 * Mean leak above which a task result is flagged off-format: the off-format threshold of the sampling runs'
 * verdict (docs/classification.md), so a task and a run call the same model off-format.
 */
export const OFF_FORMAT_LEAK = DEFAULT_THRESHOLDS.off_format_leak;

const pct = (x: number) => `${(100 * x).toFixed(x > 0.999 && x < 1 ? 2 : 0)}%`;

/** The off-format warning of a recommendation result, or undefined when the leak is low enough. */
export function recommendLeakWarning(model: string, leak: number, threshold = OFF_FORMAT_LEAK): string | undefined {
  if (!(leak > threshold)) return undefined;
  return `${model}: off-format: mean leak ${leak.toFixed(4)} > ${threshold}: the model puts only ${pct(1 - leak)} of its probability on the candidate labels, so hr/ndcg/calibration describe answers it rarely gives; check the prompt (chat template, --raw, --labels) before reading them`;
}

/** The off-format warning of a code-generation result (share of samples whose program does not even parse). */
export function codegenFormatWarning(model: string, temperature: number, offFormat: number, threshold = OFF_FORMAT_LEAK): string | undefined {
  if (!(offFormat > threshold)) return undefined;
  return `${model} at T=${temperature}: off-format: ${pct(offFormat)} of the samples are not a program (syntax errors), so pass@k measures the format, not the code; check the prompt (chat template, --raw) and --max-tokens`;
}
