// Ready-made bigram specs for the protocol's text format: a prompt, then samples written one after
// another as " 2," (a space, the answer, a comma). What matters is the next-token distribution after
// the prompt's final token and after each sample's final token.
//
//  - E-like: answers are tokens "▁a" followed by a separate "," token. After "," and after any token
//    without its own row (so after whatever the prompt ends with), the answers get exactly P_task;
//    after "▁a" the "," comes with probability 1. Every step's P_token equals P_task.
//  - D-like: each answer is merged with its delimiter into one token "▁a,", so a sample's last token
//    identifies the sample. Each "▁a," row puts `peak` on the next answer in the support (cyclically)
//    and spreads the rest evenly: P_token is concentrated and jumps from step to step.
//  - collapsed: E-like structure, but every step puts `peak` on the same answer.

import { InputError } from "../errors.ts";
import type { Target } from "../types.ts";
import { join } from "node:path";
import { writeBigramModel, type BigramSpec, type SynthInfo } from "./bigram.ts";
import { completePieces, SPACE_MARK } from "./spm.ts";

/** The `extreme` preset: {1:.1, 2:.7, 3:.1, 4:.1}. */
export const EXTREME_TARGET: Target = { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] };

function checkSupport(support: readonly string[]): void {
  if (support.length < 2) throw new InputError("synth: a support needs at least 2 answers");
  const seen = new Set<string>();
  for (const a of support) {
    if (a === "" || /[\s,▁]/u.test(a)) {
      throw new InputError(`synth: answer ${JSON.stringify(a)} must be non-empty without spaces, commas or "${SPACE_MARK}" (samples are written as " a,")`);
    }
    if (seen.has(a)) throw new InputError(`synth: answer ${JSON.stringify(a)} is listed twice`);
    seen.add(a);
  }
}

function answerPieces(support: readonly string[], merged: boolean): string[] {
  return support.map((a) => SPACE_MARK + a + (merged ? "," : ""));
}

/** E-like model: every step's next-token distribution over the answers is exactly `target`. */
export function eLikeSpec(target: Target = EXTREME_TARGET, name = "ptalign-synth-e"): BigramSpec {
  checkSupport(target.support);
  if (target.probs.length !== target.support.length) throw new InputError("synth: target.probs and target.support differ in length");
  const answers = answerPieces(target.support, false);
  const task: Record<string, number> = {};
  answers.forEach((p, i) => {
    task[p] = target.probs[i] as number;
  });
  const rows: Record<string, Record<string, number>> = { ",": task };
  for (const p of answers) rows[p] = { ",": 1 };
  return { pieces: completePieces([SPACE_MARK, ",", ...answers]), rows, defaultRow: task, name };
}

export interface DLikeOptions {
  /** Probability on the next answer in each row (default 0.94); the rest is spread evenly. */
  peak?: number;
  /** Index of the answer that gets `peak` right after the prompt (default 1). */
  first?: number;
  name?: string;
}

/** D-like model: per-step P_token concentrated (`peak`) on an answer that changes every step. */
export function dLikeSpec(support: readonly string[] = EXTREME_TARGET.support, options: DLikeOptions = {}): BigramSpec {
  checkSupport(support);
  const peak = options.peak ?? 0.94;
  const first = options.first ?? 1;
  if (!(peak > 0 && peak <= 1)) throw new InputError(`synth: peak must be in (0, 1], got ${peak}`);
  if (!Number.isInteger(first) || first < 0 || first >= support.length) throw new InputError(`synth: first must index the support, got ${first}`);
  const answers = answerPieces(support, true);
  const rest = (1 - peak) / (answers.length - 1);
  const peakedAt = (k: number): Record<string, number> => Object.fromEntries(answers.map((p, i) => [p, i === k ? peak : rest]));
  const rows: Record<string, Record<string, number>> = {};
  answers.forEach((p, i) => {
    rows[p] = peakedAt((i + 1) % answers.length);
  });
  return { pieces: completePieces([SPACE_MARK, ",", ...answers]), rows, defaultRow: peakedAt(first), name: options.name ?? "ptalign-synth-d" };
}

/** Collapsed model: every step puts `peak` (default 0.97) on `support[answer]` (default 1). */
export function collapsedSpec(support: readonly string[] = EXTREME_TARGET.support, answer = 1, peak = 0.97): BigramSpec {
  checkSupport(support);
  if (!Number.isInteger(answer) || answer < 0 || answer >= support.length) throw new InputError(`synth: answer must index the support, got ${answer}`);
  if (!(peak > 0 && peak <= 1)) throw new InputError(`synth: peak must be in (0, 1], got ${peak}`);
  const rest = (1 - peak) / (support.length - 1);
  return eLikeSpec({ support: [...support], probs: support.map((_, i) => (i === answer ? peak : rest)) }, "ptalign-synth-collapsed");
}

/** The built-in models of `ptalign demo`, all over the `extreme` support 1..4 (collapsed on "1", a minority answer). */
export function demoSpecs(): { e: BigramSpec; d: BigramSpec; collapsed: BigramSpec } {
  return { e: eLikeSpec(), d: dLikeSpec(), collapsed: collapsedSpec(EXTREME_TARGET.support, 0) };
}

/** Write the demo models into `dir` as synth-e.gguf, synth-d.gguf and synth-collapsed.gguf. */
export async function writeDemoModels(dir: string): Promise<{ e: SynthInfo; d: SynthInfo; collapsed: SynthInfo }> {
  const specs = demoSpecs();
  return {
    e: await writeBigramModel(join(dir, "synth-e.gguf"), specs.e),
    d: await writeBigramModel(join(dir, "synth-d.gguf"), specs.d),
    collapsed: await writeBigramModel(join(dir, "synth-collapsed.gguf"), specs.collapsed),
  };
}
