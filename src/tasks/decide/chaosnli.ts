// ChaosNLI (Nie, Zhou, Bansal, EMNLP 2020) as downloaded: chaosNLI_snli.jsonl, chaosNLI_mnli_m.jsonl (label_count over
// entailment, neutral, contradiction, in that order) and chaosNLI_alphanli.jsonl (label_count over hypothesis 1 and 2),
// 100 people per item. P_task = label_count normalised; the majority label is the file's majority_label.

import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { z } from "zod";
import { InputError } from "../../errors.ts";
import { isDirectory, lineError, numberedLines, readText, targetOf } from "../choice/input.ts";
import type { ChoiceContext, ChoiceReader } from "../choice/types.ts";

/** NLI labels in label_count's order, with ChaosNLI's one-letter keys (majority_label uses them). */
export const NLI_KEYS = ["e", "n", "c"] as const;
export const NLI_WORDS = ["entailment", "neutral", "contradiction"] as const;
export const NLI_INSTRUCTION = "Answer with the letter of the relation.";
export const ANLI_INSTRUCTION = "Answer with the letter of the more likely explanation.";

const Item = z.object({
  uid: z.union([z.string().min(1), z.number()]),
  label_count: z.array(z.number()),
  majority_label: z.union([z.string(), z.number()]).optional(),
  old_label: z.union([z.string(), z.number()]).optional(),
  entropy: z.number().optional(),
  example: z.object({
    premise: z.string().optional(),
    hypothesis: z.string().optional(),
    obs1: z.string().optional(),
    obs2: z.string().optional(),
    hyp1: z.string().optional(),
    hyp2: z.string().optional(),
    source: z.string().optional(),
  }),
});

/** The item's subset (snli, mnli, alphanli) from the file name, else from example.source. */
function subsetOf(file: string, source: string | undefined, abductive: boolean): string {
  const m = /chaosNLI_([a-z]+)/i.exec(basename(file));
  if (m) return m[1]!.toLowerCase();
  if (abductive) return "alphanli";
  return source?.split("_")[0] ?? "nli";
}

export async function readChaosNli(file: string): Promise<ChoiceContext[]> {
  const out: ChoiceContext[] = [];
  const seen = new Map<string, number>();
  for (const { line, text } of numberedLines(await readText(file))) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw lineError(file, line, `not a JSON object (${(err as Error).message}); ChaosNLI has one item per line`);
    }
    const parsed = Item.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw lineError(file, line, `${issue.path.join(".") || "item"}: ${issue.message}; expected a ChaosNLI item (uid, label_count, example)`);
    }
    const v = parsed.data;
    const ex = v.example;
    const abductive = ex.obs1 !== undefined || ex.hyp1 !== undefined;
    const id = String(v.uid);
    if (seen.has(id)) throw lineError(file, line, `uid "${id}" is already used on line ${seen.get(id)}`);
    seen.set(id, line);
    const group = subsetOf(file, ex.source, abductive);
    const majority = v.majority_label === undefined ? undefined : String(v.majority_label);
    const meta = { ...(majority !== undefined ? { majority } : {}), ...(v.old_label !== undefined ? { old_label: String(v.old_label) } : {}), ...(v.entropy !== undefined ? { entropy: v.entropy } : {}) };
    if (abductive) {
      if (ex.obs1 === undefined || ex.obs2 === undefined || ex.hyp1 === undefined || ex.hyp2 === undefined) throw lineError(file, line, `an αNLI item needs example.obs1, obs2, hyp1 and hyp2`);
      const { target, counts } = targetOf(file, line, 2, { counts: v.label_count }, "label_count");
      out.push({
        id,
        context: `Beginning: ${ex.obs1}\nEnding: ${ex.obs2}\n\nWhich explanation of what happened in between is more likely?`,
        options: [
          { label: "A", text: ex.hyp1, key: "1" },
          { label: "B", text: ex.hyp2, key: "2" },
        ],
        target,
        ...(counts ? { counts } : {}),
        group,
        source: `${file}:${line}`,
        instruction: ANLI_INSTRUCTION,
        meta,
      });
    } else {
      if (ex.premise === undefined || ex.hypothesis === undefined) throw lineError(file, line, `an NLI item needs example.premise and example.hypothesis`);
      const { target, counts } = targetOf(file, line, 3, { counts: v.label_count }, "label_count");
      out.push({
        id,
        context: `Premise: ${ex.premise}\nHypothesis: ${ex.hypothesis}\n\nWhat is the relation of the hypothesis to the premise?`,
        options: NLI_WORDS.map((w, i) => ({ label: String.fromCharCode(65 + i), text: w, key: NLI_KEYS[i]! })),
        target,
        ...(counts ? { counts } : {}),
        group,
        source: `${file}:${line}`,
        instruction: NLI_INSTRUCTION,
        meta,
      });
    }
  }
  return out;
}

const CHAOS_FILE = /^chaosNLI_.*\.jsonl(\.gz)?$/;

async function chaosFiles(path: string): Promise<string[]> {
  if (!(await isDirectory(path))) return [path];
  const files = (await readdir(path)).filter((f) => CHAOS_FILE.test(f)).sort();
  if (files.length === 0) throw new InputError(`${path} holds no chaosNLI_*.jsonl file; pass the folder of the ChaosNLI download or one of its files`);
  return files.map((f) => join(path, f));
}

export const chaosNliReader: ChoiceReader = {
  name: "chaosnli",
  describe: "ChaosNLI: chaosNLI_snli.jsonl, chaosNLI_mnli_m.jsonl, chaosNLI_alphanli.jsonl (a folder or one file)",
  async detect(path) {
    if (await isDirectory(path)) return (await readdir(path)).some((f) => CHAOS_FILE.test(f));
    if (CHAOS_FILE.test(basename(path))) return true;
    if (!/\.jsonl(\.gz)?$/.test(path)) return false;
    const first = numberedLines(await readText(path))[0]?.text ?? "";
    return /"label_count"/.test(first) && /"example"/.test(first);
  },
  async read(path) {
    const files = await chaosFiles(path);
    const contexts: ChoiceContext[] = [];
    const ids = new Map<string, string>();
    for (const f of files) {
      for (const c of await readChaosNli(f)) {
        // uids repeat across SNLI and MNLI only in principle; keep them apart by subset when they do.
        const id = ids.has(c.id) ? `${c.group}/${c.id}` : c.id;
        if (ids.has(id)) throw new InputError(`${c.source}: uid "${c.id}" is already used at ${ids.get(id)}`);
        ids.set(id, c.source);
        contexts.push({ ...c, id });
      }
    }
    return { format: "chaosnli", files, contexts, flagged: [], notes: [] };
  },
};
