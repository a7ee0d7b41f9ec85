// The search task's data: the collection read from --data in its layout (BEIR, TREC/NFCorpus, Cranfield), the
// queries chosen (--limit, --sample), and per query a pool of --pool documents — its judged documents plus
// unjudged ones drawn with the seed — shown in a seeded order, each cut to --doc-chars.

import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InputError } from "../../errors.ts";
import { makeRng, type Rng } from "../../rng.ts";
import { readBeir } from "./beir.ts";
import { exists, type Collection, type Layout } from "./collection.ts";
import { readCranfield } from "./cranfield.ts";
import { readTrec, type TrecFiles } from "./trec.ts";

export interface PoolDoc {
  id: string;
  /** 0 for unjudged documents. */
  grade: number;
  judged: boolean;
  /** Cut to --doc-chars. */
  text: string;
}

export interface SearchQuery {
  id: string;
  source_id?: string;
  text: string;
  /** In the order shown to the model. */
  pool: PoolDoc[];
}

export interface SearchData {
  layout: Layout;
  files: Collection["files"];
  queries: SearchQuery[];
  notes: string[];
}

export interface SearchDataOptions extends TrecFiles {
  data: string;
  layout?: Layout;
  split: string;
  pool: number;
  docChars: number;
  seed: number;
  limit?: number;
  sample?: number;
}

/** The layout of a folder: Cranfield's files, BEIR's corpus.jsonl + queries.jsonl, else TREC. */
async function layoutOf(dir: string): Promise<Layout> {
  if (await exists(join(dir, "cran.all.1400"))) return "cranfield";
  if ((await exists(join(dir, "corpus.jsonl"))) || (await exists(join(dir, "queries.jsonl")))) return "beir";
  return "trec";
}

export async function readCollection(o: SearchDataOptions): Promise<Collection> {
  const s = await stat(o.data).catch(() => undefined);
  if (!s) throw new InputError(`${o.data}: not found; --data names the folder of a BEIR, TREC, NFCorpus or Cranfield collection`);
  // A file given as --data is the qrels of a TREC folder.
  const dir = s.isDirectory() ? o.data : dirname(o.data);
  const files: TrecFiles = s.isDirectory() ? o : { ...o, qrels: o.qrels ?? basename(o.data) };
  const layout = o.layout ?? (s.isDirectory() ? await layoutOf(dir) : "trec");
  if (layout === "beir") return readBeir(dir, o.split);
  if (layout === "cranfield") return readCranfield(dir);
  return readTrec(dir, files);
}

/** k distinct indices of 0..n−1 (seeded); for large n by rejection, so a corpus of millions is not copied. */
function drawDistinct(n: number, k: number, rng: Rng, skip: (i: number) => boolean): number[] {
  const out = new Set<number>();
  let tries = 0;
  while (out.size < k && tries < 50 * (k + 1)) {
    const i = Math.floor(rng() * n);
    tries++;
    if (!skip(i)) out.add(i);
  }
  if (out.size < k) {
    // Dense case (few documents left to draw): walk a seeded permutation instead.
    for (const i of shuffle(Array.from({ length: n }, (_, j) => j), rng)) {
      if (out.size >= k) break;
      if (!skip(i)) out.add(i);
    }
  }
  return [...out];
}

function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

const cut = (text: string, n: number) => (text.length <= n ? text : `${text.slice(0, n).trimEnd()}…`);

export async function loadSearch(o: SearchDataOptions): Promise<SearchData> {
  const c = await readCollection(o);
  const notes = [...c.notes];
  if (c.docIds.length === 0) throw new InputError(`${c.files.docs}:1: no documents: every pool would be empty; is this the collection's document file?`);
  // Queries with a relevant judgment, in the query file's order: a query without one has nothing to rank toward
  // (trec_eval leaves such queries out too).
  const judged = c.queries.filter((q) => (c.qrels.get(q.id) ?? []).some((j) => j.grade > 0));
  const unjudgedOnly = [...c.qrels.keys()].filter((q) => !(c.qrels.get(q) ?? []).some((j) => j.grade > 0)).length;
  if (judged.length === 0) throw new InputError(`${c.files.qrels}: no query has a relevant judgment (grade > 0); nothing to rank toward`);
  if (unjudgedOnly) notes.push(`${unjudgedOnly} queries without a relevant judgment are left out`);
  let chosen = judged;
  if (o.sample !== undefined && o.sample < chosen.length) {
    const rng = makeRng(`${o.seed}/search/sample`);
    chosen = shuffle([...chosen], rng).slice(0, o.sample).sort((a, b) => judged.indexOf(a) - judged.indexOf(b));
  }
  if (o.limit !== undefined) chosen = chosen.slice(0, o.limit);
  const index = new Map(c.docIds.map((id, i) => [id, i]));
  const pools = chosen.map((q) => {
    const rng = makeRng(`${o.seed}/search/${q.id}`);
    let judgments = c.qrels.get(q.id)!;
    if (judgments.length > o.pool) {
      // More judged documents than the pool holds: a seeded choice of them, the relevant ones first so that the
      // pool keeps something to rank toward.
      const ordered = [...shuffle(judgments.filter((j) => j.grade > 0), rng), ...shuffle(judgments.filter((j) => j.grade <= 0), rng)];
      judgments = ordered.slice(0, o.pool);
      notes.push(`query ${q.id}: ${c.qrels.get(q.id)!.length} judged documents, ${o.pool} kept in its pool (--pool)`);
    }
    const taken = new Set(judgments.map((j) => index.get(j.doc)!));
    const out = c.excluded.get(q.id) ?? new Set<string>();
    const extra = drawDistinct(c.docIds.length, Math.min(o.pool - judgments.length, c.docIds.length - taken.size - out.size), rng, (i) => taken.has(i) || out.has(c.docIds[i]!));
    const members = [...judgments.map((j) => ({ id: j.doc, grade: j.grade, judged: true })), ...extra.map((i) => ({ id: c.docIds[i]!, grade: 0, judged: false }))];
    if (members.length < 2) throw new InputError(`${c.qrels.get(q.id)![0]!.at}: the pool of query ${q.id} holds ${members.length} document: nothing to rank; the corpus needs at least two documents a query may see`);
    return { q, members: shuffle(members, makeRng(`${o.seed}/search/${q.id}/order`)) };
  });
  const texts = await c.texts(new Set(pools.flatMap((p) => p.members.map((m) => m.id))));
  return {
    layout: c.layout,
    files: c.files,
    notes,
    queries: pools.map(({ q, members }) => ({
      id: q.id,
      ...(q.source_id !== undefined && q.source_id !== q.id ? { source_id: q.source_id } : {}),
      text: q.text,
      pool: members.map((m) => ({ ...m, text: cut(texts.get(m.id) ?? "", o.docChars) })),
    })),
  };
}
