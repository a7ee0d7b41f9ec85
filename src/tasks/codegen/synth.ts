// Generated GGUF models that "write code": a bigram model whose tokens are whole lines of programs. After the prompt
// the first line is drawn from the programs' probabilities; after each line comes the next line of its program, and
// after the last line the end-of-sequence token. With one program the model always writes it (every step
// deterministic); with several whose first lines differ, the only uncertain step is the first — the model commits
// to one program at the first token and writes it out (docs/tasks.md, "Generated models").

import { completePieces, type BigramSpec } from "../../synth/index.ts";

export interface WeightedProgram {
  /** The completion text; split into lines, each line (with its "\n") one token. */
  text: string;
  prob: number;
}

const SPACE = "\u2581";
const piece = (line: string) => line.replaceAll(" ", SPACE);

/** Lines of a completion, each keeping its trailing "\n" (the last one may have none). */
export function programLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * A bigram spec writing `programs` with their probabilities. A line shared by several programs gets one row: the
 * mixture of their next lines weighted by the programs' probabilities (so keep lines distinct for exact control).
 */
export function codeWriterSpec(programs: readonly WeightedProgram[], name = "code-writer"): BigramSpec {
  const rows: Record<string, Record<string, number>> = {};
  const start: Record<string, number> = {};
  const lines = new Set<string>();
  for (const { text, prob } of programs) {
    const ls = programLines(text).map(piece);
    if (ls.length === 0) throw new RangeError("codeWriterSpec: a program is empty");
    ls.forEach((l) => lines.add(l));
    start[ls[0]!] = (start[ls[0]!] ?? 0) + prob;
    ls.forEach((l, i) => {
      const next = i + 1 < ls.length ? ls[i + 1]! : "</s>";
      const row = (rows[l] ??= {});
      row[next] = (row[next] ?? 0) + prob;
    });
  }
  for (const row of Object.values(rows)) {
    const sum = Object.values(row).reduce((a, b) => a + b, 0);
    for (const k of Object.keys(row)) row[k] = row[k]! / sum;
  }
  const total = Object.values(start).reduce((a, b) => a + b, 0);
  for (const k of Object.keys(start)) start[k] = start[k]! / total;
  return { name, pieces: completePieces([...lines]), rows, defaultRow: start };
}
