// The TREC layout: a qrels file (`qid 0 docid grade`, whitespace-separated) beside a document file and one or more
// query files. NFCorpus's original layout is this layout with tab-separated files (`*.docs`: id TAB text,
// `*.queries`: id TAB text, `*.qrel`). Documents may also be TREC SGML (<DOC><DOCNO>…</DOCNO>…</DOC>) or JSON lines
// ({"_id", "text"}); queries TREC topics (<top><num> Number: 401 <title> …) or JSON lines. The format of each file
// is told by its first non-empty line.

import { readdir } from "node:fs/promises";
import { basename, isAbsolute, join } from "node:path";
import { InputError } from "../../errors.ts";
import { addJudgment, checkReferences, eachLine, integerGrade, needFile, oneLine, type Collection, type Judgment, type Query } from "./collection.ts";

export interface TrecFiles {
  docs?: string;
  queries?: string;
  qrels?: string;
}

const WHAT = "a TREC folder holds a qrels file (qid 0 docid grade), a document file and a query file; name them with --qrels, --docs and --queries";

const KINDS = {
  qrels: { flag: "--qrels", test: (n: string) => /\.qrels?$/i.test(n) || /^qrels/i.test(n) },
  docs: { flag: "--docs", test: (n: string) => /\.docs$/i.test(n) || /^(docs|documents|corpus|collection)\b/i.test(n) },
  queries: { flag: "--queries", test: (n: string) => /\.queries$/i.test(n) || /^(queries|topics)\b/i.test(n) },
} as const;

/** Files of one kind in the folder: the flag's file, or every file whose name says so. */
async function pick(dir: string, kind: keyof typeof KINDS, given: string | undefined, many: boolean): Promise<string[]> {
  if (given) return [isAbsolute(given) ? given : join(dir, given)];
  const names = (await readdir(dir).catch(() => [] as string[])).filter(KINDS[kind].test).sort();
  if (names.length === 0) throw new InputError(`${dir}: no ${kind} file found (${kind === "qrels" ? "*.qrel, *.qrels, qrels*" : kind === "docs" ? "*.docs, docs*, corpus*, collection*" : "*.queries, queries*, topics*"}); name it with ${KINDS[kind].flag} FILE`);
  if (names.length > 1 && !many) throw new InputError(`${dir}: ${names.length} ${kind} files (${names.join(", ")}); choose one with ${KINDS[kind].flag} FILE`);
  return names.map((n) => join(dir, n));
}

type Format = "tsv" | "sgml" | "jsonl";

async function formatOf(path: string): Promise<Format> {
  let first = "";
  await eachLine(path, (line) => {
    if (line.trim() === "") return;
    first = line.trim();
    return false;
  });
  return first.startsWith("<") ? "sgml" : first.startsWith("{") ? "jsonl" : "tsv";
}

/** Every record of a document or query file: id, text, FILE:LINE of its start. Stops when `each` returns false. */
async function records(path: string, kind: "docs" | "queries", each: (id: string, text: string, at: string) => boolean | void): Promise<void> {
  const format = await formatOf(path);
  if (format === "tsv") {
    return eachLine(path, (line, n) => {
      if (line.trim() === "") return;
      const tab = line.indexOf("\t");
      if (tab < 0) throw new InputError(`${path}:${n}: expected "id<TAB>text" (no tab on the line)`);
      return each(line.slice(0, tab).trim(), oneLine(line.slice(tab + 1)), `${path}:${n}`);
    });
  }
  if (format === "jsonl") {
    return eachLine(path, (line, n) => {
      if (line.trim() === "") return;
      let o: { _id?: unknown; id?: unknown; title?: unknown; text?: unknown };
      try {
        o = JSON.parse(line) as typeof o;
      } catch {
        throw new InputError(`${path}:${n}: not a JSON object`);
      }
      const id = o._id ?? o.id;
      if ((typeof id !== "string" && typeof id !== "number") || typeof o.text !== "string") throw new InputError(`${path}:${n}: a line needs "_id" and "text"`);
      return each(String(id), oneLine([typeof o.title === "string" ? o.title : "", o.text].filter((s) => s.trim() !== "").join(". ")), `${path}:${n}`);
    });
  }
  // SGML: <DOC> … <DOCNO>id</DOCNO> … </DOC>, or topics <top> <num> Number: 401 <title> … </top>.
  const [open, close] = kind === "docs" ? [/<DOC>/i, /<\/DOC>/i] : [/<top>/i, /<\/top>/i];
  let buf: string[] | null = null;
  let start = 0;
  let stop = false;
  await eachLine(path, (line, n) => {
    if (buf === null) {
      if (open.test(line)) {
        buf = [line];
        start = n;
      }
      if (buf === null || !close.test(line)) return;
    } else buf.push(line);
    if (!close.test(line)) return;
    const body = buf.join("\n");
    buf = null;
    const at = `${path}:${start}`;
    if (kind === "docs") {
      const id = /<DOCNO>\s*([^<]+?)\s*<\/DOCNO>/i.exec(body)?.[1];
      if (!id) throw new InputError(`${at}: a <DOC> without <DOCNO>`);
      const text = body.replace(/<DOCNO>[\s\S]*?<\/DOCNO>/i, " ").replace(/<[^>]+>/g, " ");
      stop = each(id, oneLine(text), at) === false;
    } else {
      const id = /<num>\s*(?:Number:)?\s*(\S+)/i.exec(body)?.[1];
      if (!id) throw new InputError(`${at}: a topic without <num>`);
      // The title is the query (TREC's "title" run); it ends at the next tag.
      const title = /<title>\s*(?:Topic:)?([\s\S]*?)(?=<\w+>|<\/top>)/i.exec(body)?.[1] ?? "";
      stop = each(id, oneLine(title), at) === false;
    }
    return !stop;
  });
}

export async function readTrec(dir: string, given: TrecFiles): Promise<Collection> {
  const [qrelsFile] = await pick(dir, "qrels", given.qrels, false);
  const [docs] = await pick(dir, "docs", given.docs, false);
  const queryFiles = await pick(dir, "queries", given.queries, true);
  for (const f of [qrelsFile!, docs!, ...queryFiles]) await needFile(f, WHAT);
  const docIds: string[] = [];
  await records(docs!, "docs", (id) => void docIds.push(id));
  // Several query files (NFCorpus: titles, full texts, video descriptions) are one set of queries: the ids differ
  // between them; an id in two files keeps the text of the first (files in name order).
  const queries: Query[] = [];
  const seen = new Set<string>();
  for (const f of queryFiles) {
    await records(f, "queries", (id, text) => {
      if (!seen.has(id)) queries.push({ id, text });
      seen.add(id);
    });
  }
  const qrels = new Map<string, Judgment[]>();
  await eachLine(qrelsFile!, (line, n) => {
    if (line.trim() === "") return;
    const at = `${qrelsFile}:${n}`;
    const f = line.trim().split(/\s+/);
    if (f.length !== 4) throw new InputError(`${at}: expected "qid 0 docid grade" (4 fields), got ${f.length}: ${JSON.stringify(line.slice(0, 80))}`);
    // Negative grades (TREC Web's −2 = spam) are read as not relevant, as trec_eval does.
    addJudgment(qrels, f[0]!, { doc: f[2]!, grade: Math.max(0, integerGrade(f[3]!, at)), at });
  });
  const files = { docs: docs!, queries: queryFiles.join(", "), qrels: qrelsFile! };
  checkReferences({ queries, qrels, docIds, files });
  return {
    layout: "trec",
    files,
    queries,
    qrels,
    docIds,
    excluded: new Map(),
    notes: queryFiles.length > 1 ? [`queries read from ${queryFiles.length} files: ${queryFiles.map((f) => basename(f)).join(", ")}`] : [],
    async texts(ids) {
      const out = new Map<string, string>();
      await records(docs!, "docs", (id, text) => {
        if (ids.has(id)) out.set(id, text);
        return out.size < ids.size;
      });
      return out;
    },
  };
}
