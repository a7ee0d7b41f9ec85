// Test collections written in each published layout (the quirks of ../shared/formats/README.md kept: BEIR's qrels
// header, TREC's `qid 0 docid grade`, NFCorpus's tab-separated files and several query files, Cranfield's `.I 004`
// numbering, CRLF query file, trailing spaces and −1 codes).

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface Doc {
  id: string;
  text: string;
}

export async function writeBeir(dir: string, docs: readonly Doc[], queries: readonly Doc[], qrels: readonly [string, string, string | number][]): Promise<string> {
  await mkdir(join(dir, "qrels"), { recursive: true });
  await writeFile(join(dir, "corpus.jsonl"), docs.map((d) => JSON.stringify({ _id: d.id, title: "", text: d.text, metadata: {} })).join("\n") + "\n");
  await writeFile(join(dir, "queries.jsonl"), queries.map((q) => JSON.stringify({ _id: q.id, text: q.text, metadata: {} })).join("\n") + "\n");
  await writeFile(join(dir, "qrels", "test.tsv"), ["query-id\tcorpus-id\tscore", ...qrels.map((r) => r.join("\t"))].join("\n") + "\n");
  return dir;
}

/** TREC: SGML documents, topics, and a qrels file `qid 0 docid grade`. */
export async function writeTrec(dir: string, docs: readonly Doc[], queries: readonly Doc[], qrels: readonly [string, string, string | number][]): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "documents.trec"), docs.map((d) => `<DOC>\n<DOCNO> ${d.id} </DOCNO>\n<TEXT>\n${d.text}\n</TEXT>\n</DOC>`).join("\n") + "\n");
  await writeFile(join(dir, "topics.txt"), queries.map((q) => `<top>\n<num> Number: ${q.id}\n<title> ${q.text}\n\n<desc> Description:\nabout ${q.text}\n</top>`).join("\n\n") + "\n");
  await writeFile(join(dir, "qrels.txt"), qrels.map(([q, d, g]) => `${q} 0 ${d} ${g}`).join("\n") + "\n");
  return dir;
}

/** NFCorpus's original layout: d-collection.docs, several q-*.queries, s-3.qrel and s-4.qrel (tab-separated). */
export async function writeNfcorpus(dir: string, docs: readonly Doc[], titles: readonly Doc[], others: readonly Doc[], qrels: readonly [string, string, number][]): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "d-collection.docs"), docs.map((d) => `${d.id}\t${d.text}`).join("\n") + "\n");
  await writeFile(join(dir, "q-titles.queries"), titles.map((q) => `${q.id}\t${q.text}`).join("\n") + "\n");
  await writeFile(join(dir, "q-vid-titles.queries"), others.map((q) => `${q.id}\t${q.text}`).join("\n") + "\n");
  await writeFile(join(dir, "s-3.qrel"), qrels.map(([q, d, g]) => `${q}\t0\t${d}\t${g}`).join("\n") + "\n");
  await writeFile(join(dir, "s-4.qrel"), qrels.filter(([, , g]) => g === 2).map(([q, d, g]) => `${q}\t0\t${d}\t${g}`).join("\n") + "\n");
  return dir;
}

/**
 * Cranfield's three files. `queries` are written with their `.I` numbers (gaps allowed, zero-padded as in cran.qry),
 * CRLF line ends; cranqrel lines end in a space except the −1 lines, as in the real file.
 */
export async function writeCranfield(dir: string, docs: readonly Doc[], queries: readonly { number: string; text: string }[], qrels: readonly [number, string, number][]): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "cran.all.1400"), docs.map((d) => `.I ${d.id}\n.T\n${d.text}\n.A\nsomeone,a.\n.B\nj. ae. scs. 25, 1958, 324.\n.W\n${d.text}\n  more about ${d.text} .`).join("\n") + "\n");
  await writeFile(join(dir, "cran.qry"), queries.map((q) => `.I ${q.number}\r\n.W\r\n${q.text}\r\nof high speed aircraft .\r\n`).join(""));
  await writeFile(join(dir, "cranqrel"), qrels.map(([q, d, c]) => (c === -1 ? `${q} ${d} -1` : `${q} ${d} ${c} `)).join("\n") + "\n");
  return dir;
}
