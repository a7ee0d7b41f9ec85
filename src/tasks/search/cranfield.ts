// Cranfield 1400 as distributed: cran.all.1400 (records `.I n` with fields .T title, .A authors, .B source, .W
// abstract), cran.qry (`.I 001` … `.I 365` with gaps, CRLF line ends) and cranqrel (`query doc code`, a trailing
// space). Two quirks (../shared/formats/README.md, cranqrel.readme):
//   - cranqrel numbers the queries 1 … 225 by their position in cran.qry, not by cran.qry's `.I` numbers: query
//     `.I 004` is the third query, judged as query 3. Ids here are positions; the `.I` number is kept as source_id.
//   - codes are Cleverdon's: 1 = complete answer … 4 = minimum interest, 5 = of no interest; read as grade 5 − code
//     (1 → 4 … 4 → 1, 5 → 0), so higher is more relevant as in every other layout. −1 marks one document per
//     query (probably the paper the question was written from): neither relevant nor not; it is left out of that
//     query's pool (docs/tasks.md).

import { join } from "node:path";
import { InputError } from "../../errors.ts";
import { addJudgment, checkReferences, eachLine, needFile, oneLine, type Collection, type Judgment, type Query } from "./collection.ts";

const WHAT = "a Cranfield folder holds cran.all.1400, cran.qry and cranqrel as distributed";

/** Records of a Cranfield file: `.I id` then `.X` fields; returns id, the fields, and the line of `.I`. */
async function cranRecords(path: string, each: (id: string, fields: Map<string, string>, at: string) => boolean | void): Promise<void> {
  let id: string | null = null;
  let at = "";
  let field = "";
  let fields = new Map<string, string>();
  let stop = false;
  const flush = () => {
    if (id !== null && !stop) stop = each(id, new Map([...fields].map(([k, v]) => [k, oneLine(v)])), at) === false;
  };
  await eachLine(path, (line, n) => {
    const m = /^\.([A-Z])(?:\s+(\S+))?\s*$/.exec(line);
    if (m && m[1] === "I") {
      flush();
      if (stop) return false;
      if (!m[2]) throw new InputError(`${path}:${n}: ".I" without a number`);
      id = m[2];
      at = `${path}:${n}`;
      fields = new Map();
      field = "";
    } else if (m && !m[2]) {
      field = m[1]!;
      fields.set(field, "");
    } else if (id === null) {
      if (line.trim() !== "") throw new InputError(`${path}:${n}: expected ".I n" to open the first record`);
    } else if (field) fields.set(field, `${fields.get(field)!} ${line}`);
  });
  flush();
}

/** Cleverdon's code as a grade (higher = more relevant); null for −1 (the source document, left out). */
export function cranfieldGrade(code: string, at: string): number | null {
  const t = code.trim();
  if (t === "-1") return null;
  if (!/^[1-5]$/.test(t)) throw new InputError(`${at}: relevance code "${code}" is not one of Cleverdon's codes 1–5 or −1 (cranqrel.readme); grade must be an integer code`);
  return 5 - Number(t);
}

export async function readCranfield(dir: string): Promise<Collection> {
  const docs = join(dir, "cran.all.1400");
  const queriesFile = join(dir, "cran.qry");
  const qrelsFile = join(dir, "cranqrel");
  for (const f of [docs, queriesFile, qrelsFile]) await needFile(f, WHAT);
  const docIds: string[] = [];
  await cranRecords(docs, (id) => void docIds.push(id));
  const queries: Query[] = [];
  await cranRecords(queriesFile, (id, f) => void queries.push({ id: String(queries.length + 1), text: f.get("W") ?? "", source_id: id }));
  const qrels = new Map<string, Judgment[]>();
  const excluded = new Map<string, Set<string>>();
  // The −1 lines: kept out of the judgments but checked like them (their query and document must exist).
  const sources = new Map<string, Judgment[]>();
  await eachLine(qrelsFile, (line, n) => {
    if (line.trim() === "") return;
    const at = `${qrelsFile}:${n}`;
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) throw new InputError(`${at}: expected "query document code" (3 fields), got ${f.length}: ${JSON.stringify(line.slice(0, 80))}`);
    const grade = cranfieldGrade(f[2]!, at);
    if (grade === null) {
      const set = excluded.get(f[0]!) ?? new Set<string>();
      excluded.set(f[0]!, set.add(f[1]!));
      addJudgment(sources, f[0]!, { doc: f[1]!, grade: 0, at });
      return;
    }
    addJudgment(qrels, f[0]!, { doc: f[1]!, grade, at });
  });
  const files = { docs, queries: queriesFile, qrels: qrelsFile };
  checkReferences({ queries, qrels, docIds, files });
  checkReferences({ queries, qrels: sources, docIds, files });
  return {
    layout: "cranfield",
    files,
    queries,
    qrels,
    docIds,
    excluded,
    notes: [],
    async texts(ids) {
      const out = new Map<string, string>();
      await cranRecords(docs, (id, f) => {
        if (ids.has(id)) out.set(id, f.get("W") || f.get("T") || "");
        return out.size < ids.size;
      });
      return out;
    },
  };
}
