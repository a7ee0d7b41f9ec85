// A test collection as the search task reads it, whatever layout it came in (BEIR, TREC, NFCorpus, Cranfield):
// documents, queries and graded judgments, each judgment remembering the file line it came from so that a later
// check (an unknown document, an empty pool) can name it. Readers live beside this file, one per layout.

import { createReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { InputError } from "../../errors.ts";

export type Layout = "beir" | "trec" | "cranfield";

export interface Query {
  id: string;
  text: string;
  /** The number the query file gives it, where it differs from `id` (Cranfield: `.I 004` is query 3). */
  source_id?: string;
}

export interface Judgment {
  doc: string;
  /** Graded relevance as the task reads it: 0 = not relevant, higher = more relevant (docs/tasks.md per layout). */
  grade: number;
  /** FILE:LINE of the judgment, for messages. */
  at: string;
}

export interface Collection {
  layout: Layout;
  /** The files read, for the result and the messages. */
  files: { docs: string; queries: string; qrels: string };
  queries: Query[];
  /** Judged documents per query id, in file order. */
  qrels: Map<string, Judgment[]>;
  /** Every document id of the corpus, in file order. */
  docIds: string[];
  /** Documents never to be put in a pool for a query (Cranfield's −1 "source" document). */
  excluded: Map<string, Set<string>>;
  /** Texts of the documents asked for (see `texts`). */
  texts(ids: ReadonlySet<string>): Promise<Map<string, string>>;
  notes: string[];
}

export const exists = (p: string) => access(p).then(() => true, () => false);

/**
 * The file must exist and be a file; one line naming it and what the layout expects otherwise. No size cap: the
 * files are streamed line by line (a BEIR corpus such as MS MARCO's is 3 GB) and only the pools' texts are kept.
 */
export async function needFile(path: string, what: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (!s) throw new InputError(`${path}: not found; ${what}`);
  if (!s.isFile()) throw new InputError(`${path}: not a file; ${what}`);
}

/**
 * Calls `each(line, lineNumber)` for every line of a file (1-based; CR of CRLF line ends removed), streamed so
 * that a large corpus is never held whole. Return false from `each` to stop early.
 */
export async function eachLine(path: string, each: (line: string, n: number) => boolean | void): Promise<void> {
  const stream = createReadStream(path, { encoding: "utf8" });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const raw of rl) {
      n++;
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (each(line, n) === false) break;
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** A grade that must be an integer ("2", "-1"); one line naming FILE:LINE otherwise. */
export function integerGrade(text: string, at: string): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new InputError(`${at}: grade "${text}" is not an integer; qrels grades are whole numbers (0 = not relevant)`);
  return Number(text.trim());
}

/** Adds a judgment; a repeated (query, document) pair keeps the first and is noted once per file. */
export function addJudgment(qrels: Map<string, Judgment[]>, query: string, j: Judgment): boolean {
  const list = qrels.get(query) ?? [];
  if (list.some((x) => x.doc === j.doc)) return false;
  list.push(j);
  qrels.set(query, list);
  return true;
}

/** Every judgment names a known query and a known document, or one line naming its FILE:LINE. */
export function checkReferences(c: Pick<Collection, "queries" | "qrels" | "docIds" | "files">): void {
  const queries = new Set(c.queries.map((q) => q.id));
  const docs = new Set(c.docIds);
  for (const [q, list] of c.qrels) {
    for (const j of list) {
      if (!queries.has(q)) throw new InputError(`${j.at}: query "${q}" is not in ${c.files.queries}; the qrels and the query file must come from the same collection`);
      if (!docs.has(j.doc)) throw new InputError(`${j.at}: document "${j.doc}" is not in ${c.files.docs}; the qrels and the corpus must come from the same collection`);
    }
  }
}

/** Whitespace collapsed (documents are shown on one line each). */
export const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();
