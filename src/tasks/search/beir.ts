// BEIR's layout (every BEIR data set as its zip unpacks): corpus.jsonl ({"_id", "title", "text"}), queries.jsonl
// ({"_id", "text"}), qrels/<split>.tsv (a header "query-id corpus-id score", then one judgment per line, tab-separated).

import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../../errors.ts";
import { addJudgment, checkReferences, eachLine, integerGrade, needFile, oneLine, type Collection, type Judgment } from "./collection.ts";

const Doc = z.object({ _id: z.union([z.string(), z.number()]).transform(String), title: z.string().optional().nullable(), text: z.string().optional().nullable() });
const Q = z.object({ _id: z.union([z.string(), z.number()]).transform(String), text: z.string() });

const WHAT = "a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv (pass the folder the zip unpacked to)";

function parseJson<T>(schema: z.ZodType<T>, line: string, at: string, fields: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new InputError(`${at}: not a JSON object; each line of a BEIR file is one JSON object`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new InputError(`${at}: ${r.error.issues[0]?.path.join(".") || "line"} ${r.error.issues[0]?.message ?? "invalid"}; a line needs ${fields}`);
  return r.data;
}

export async function readBeir(dir: string, split: string): Promise<Collection> {
  const docs = join(dir, "corpus.jsonl");
  const queriesFile = join(dir, "queries.jsonl");
  const qrelsFile = join(dir, "qrels", `${split}.tsv`);
  for (const f of [docs, queriesFile, qrelsFile]) await needFile(f, WHAT);
  const docIds: string[] = [];
  await eachLine(docs, (line, n) => {
    if (line.trim() === "") return;
    docIds.push(parseJson(Doc, line, `${docs}:${n}`, `"_id" and "text"`)._id);
  });
  const queries: Collection["queries"] = [];
  await eachLine(queriesFile, (line, n) => {
    if (line.trim() === "") return;
    const q = parseJson(Q, line, `${queriesFile}:${n}`, `"_id" and "text"`);
    queries.push({ id: q._id, text: oneLine(q.text) });
  });
  const qrels = new Map<string, Judgment[]>();
  await eachLine(qrelsFile, (line, n) => {
    if (line.trim() === "") return;
    const at = `${qrelsFile}:${n}`;
    const f = line.split("\t");
    if (n === 1 && /^query-id$/i.test(f[0]!.trim())) return; // the header
    if (f.length < 3) throw new InputError(`${at}: expected "query-id<TAB>corpus-id<TAB>score", got ${JSON.stringify(line.slice(0, 80))}`);
    // Negative BEIR scores do not occur; read as not relevant, like trec_eval.
    addJudgment(qrels, f[0]!.trim(), { doc: f[1]!.trim(), grade: Math.max(0, integerGrade(f[2]!, at)), at });
  });
  const files = { docs, queries: queriesFile, qrels: qrelsFile };
  checkReferences({ queries, qrels, docIds, files });
  return {
    layout: "beir",
    files,
    queries,
    qrels,
    docIds,
    excluded: new Map(),
    notes: [],
    async texts(ids) {
      const out = new Map<string, string>();
      await eachLine(docs, (line, n) => {
        if (line.trim() === "") return;
        const d = parseJson(Doc, line, `${docs}:${n}`, `"_id" and "text"`);
        if (ids.has(d._id)) out.set(d._id, oneLine([d.title ?? "", d.text ?? ""].filter((s) => s.trim() !== "").join(". ")));
        return out.size < ids.size;
      });
      return out;
    },
  };
}
