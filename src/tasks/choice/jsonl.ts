// The generic JSONL layout every choice task reads: one context per line,
//   {"id": "q1", "context": "…", "options": ["…", "…"], "p": [0.7, 0.3]}      (or "counts": [70, 30] instead of "p")
// optional: "group" (aggregated apart), "labels" (what the model answers with; default A, B, …), "keys" (option
// names in the result; default the labels), "instruction". A folder holds one or more *.jsonl files.

import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { z } from "zod";
import { InputError } from "../../errors.ts";
import { isDirectory, lineError, numberedLines, readText, targetOf } from "./input.ts";
import { letterLabel } from "./permute.ts";
import type { ChoiceContext, ChoiceReader } from "./types.ts";

const Line = z.object({
  id: z.union([z.string().min(1), z.number()]).optional(),
  context: z.string(),
  options: z.array(z.string()).min(2),
  p: z.unknown().optional(),
  counts: z.unknown().optional(),
  group: z.string().min(1).optional(),
  labels: z.array(z.string().min(1)).optional(),
  keys: z.array(z.string().min(1)).optional(),
  instruction: z.string().optional(),
});

/** The contexts of one JSONL file (every line validated; errors name file and line). */
export async function readChoiceJsonl(file: string): Promise<ChoiceContext[]> {
  const out: ChoiceContext[] = [];
  const seen = new Map<string, number>();
  for (const { line, text } of numberedLines(await readText(file))) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw lineError(file, line, `not a JSON object (${(err as Error).message}); one context per line: {"id", "context", "options": [...], "p": [...]}`);
    }
    const parsed = Line.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw lineError(file, line, `${issue.path.join(".") || "line"}: ${issue.message}; expected {"id", "context", "options": [at least 2 strings], "p" or "counts"}`);
    }
    const v = parsed.data;
    const n = v.options.length;
    const { target, counts } = targetOf(file, line, n, v);
    const labels = v.labels ?? v.options.map((_, i) => letterLabel(i));
    if (labels.length !== n) throw lineError(file, line, `${n} options but ${labels.length} labels; give one label per option`);
    if (new Set(labels).size !== n) throw lineError(file, line, `two options share a label; labels must differ`);
    const keys = v.keys ?? labels;
    if (keys.length !== n || new Set(keys).size !== n) throw lineError(file, line, `"keys" must name each option once (${n} distinct names)`);
    const id = v.id === undefined ? `${basename(file)}:${line}` : String(v.id);
    if (seen.has(id)) throw lineError(file, line, `id "${id}" is already used on line ${seen.get(id)}; ids must be unique`);
    seen.set(id, line);
    out.push({
      id,
      context: v.context,
      options: v.options.map((text, i) => ({ label: labels[i]!, text, key: keys[i]! })),
      target,
      ...(counts ? { counts } : {}),
      ...(v.group ? { group: v.group } : {}),
      ...(v.instruction ? { instruction: v.instruction } : {}),
      source: `${file}:${line}`,
    });
  }
  return out;
}

/** The .jsonl files of a folder (sorted), or the file itself. */
export async function jsonlFiles(path: string, pattern = /\.jsonl(\.gz)?$/): Promise<string[]> {
  if (!(await isDirectory(path))) return [path];
  const files = (await readdir(path)).filter((f) => pattern.test(f)).sort();
  if (files.length === 0) throw new InputError(`${path} holds no .jsonl file; pass a .jsonl file or a folder of them with --data`);
  return files.map((f) => join(path, f));
}

export const jsonlReader: ChoiceReader = {
  name: "jsonl",
  describe: `JSONL, one context per line: {"id", "context", "options": [...], "p": [...] or "counts": [...]}`,
  detect: async () => true,
  async read(path) {
    const files = await jsonlFiles(path);
    const contexts: ChoiceContext[] = [];
    const ids = new Map<string, string>();
    for (const f of files) {
      for (const c of await readChoiceJsonl(f)) {
        if (ids.has(c.id)) throw new InputError(`${c.source}: id "${c.id}" is already used at ${ids.get(c.id)}; ids must be unique across the files`);
        ids.set(c.id, c.source);
        contexts.push(c);
      }
    }
    return { format: "jsonl", files, contexts, flagged: [], notes: [] };
  },
};
