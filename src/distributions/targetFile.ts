// P_task from data (`--target-file FILE`): counts or probabilities per answer, e.g. item popularity from a log.
// CSV (answer,value rows; optional header; RFC 4180 quotes for answers with commas) or JSON (an object
// {answer: value} in file order, an array of [answer, value] pairs, or an array of {answer, count | probability}).
// Whole-number values are counts and are normalised; otherwise they are probabilities and must sum to 1 (or
// --normalize). Every problem is one InputError line naming the file and the line or entry.
import { InputError } from "../errors.ts";
import { readInputFile } from "../limits.ts";
import { decodeUtf8 } from "../text.ts";
import type { Target } from "../types.ts";
import { parseDist, validateTarget } from "./parse.ts";

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ANSWER_COLS = ["answer", "item", "key", "value_name", "name", "label", "id"];
const VALUE_COLS = ["count", "counts", "n", "frequency", "freq", "probability", "prob", "p", "weight"];

export async function readTargetFile(file: string, opts: { normalize?: boolean } = {}): Promise<Target> {
  let text: string;
  try {
    text = decodeUtf8(await readInputFile(file), file, "--target-file");
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read --target-file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseTargetFile(text, file, opts);
}

/** The target a file's text describes (`name` is used in messages; a .json name or a leading { or [ means JSON). */
export function parseTargetFile(text: string, name: string, opts: { normalize?: boolean } = {}): Target {
  const body = text.replace(/^\uFEFF/, "");
  const json = /\.json$/i.test(name) || /^\s*[[{]/.test(body);
  const rows = json ? jsonRows(body, name) : csvRows(body, name);
  if (rows.length === 0) throw new InputError(`--target-file ${name}: no answers; give one answer and its count or probability per ${json ? "entry" : "line"}`);
  rows.forEach((r) => {
    if (!Number.isFinite(r.value) || r.value < 0) throw new InputError(`--target-file ${name} ${r.where}: the value of ${JSON.stringify(r.answer)} is ${r.value}; counts and probabilities must be finite and ≥ 0`);
  });
  const counts = rows.every((r) => Number.isInteger(r.value));
  const wrap = (e: unknown): never => {
    throw e instanceof InputError ? new InputError(`--target-file ${name}: ${e.message}`) : e;
  };
  try {
    // Whole numbers are counts (always rescaled); fractional values are probabilities, held to the DIST rules.
    return validateTarget({ support: rows.map((r) => r.answer), probs: rows.map((r) => r.value) }, { normalize: counts || opts.normalize });
  } catch (e) {
    return wrap(e);
  }
}

interface Row {
  answer: string;
  value: number;
  where: string;
}

function jsonRows(text: string, name: string): Row[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`--target-file ${name} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (Array.isArray(data)) {
    return data.map((entry, i): Row => {
      const where = `entry #${i + 1}`;
      if (Array.isArray(entry) && entry.length === 2 && (typeof entry[0] === "string" || typeof entry[0] === "number") && typeof entry[1] === "number") {
        return { answer: String(entry[0]), value: entry[1], where };
      }
      if (entry && typeof entry === "object" && !Array.isArray(entry)) {
        const o = entry as Record<string, unknown>;
        const a = ANSWER_COLS.map((k) => o[k]).find((v) => typeof v === "string" || typeof v === "number");
        const v = VALUE_COLS.map((k) => o[k]).find((x) => typeof x === "number");
        if (a !== undefined && typeof v === "number") return { answer: String(a), value: v, where };
      }
      throw new InputError(`--target-file ${name} ${where}: expected ["answer", number] or {"answer": ..., "count"|"probability": number}`);
    });
  }
  if (data && typeof data === "object") {
    // The DIST map scanner keeps the file's order (JSON.parse moves integer-like keys first) and rejects duplicates.
    const values = Object.values(data as Record<string, unknown>);
    const bad = values.findIndex((v) => typeof v !== "number");
    if (bad >= 0) throw new InputError(`--target-file ${name}: the value of ${JSON.stringify(Object.keys(data)[bad])} is ${JSON.stringify(values[bad])}; give a number (count or probability) per answer`);
    try {
      const t = parseDist(text.trim(), { normalize: true });
      const raw = t.support.map((k) => (data as Record<string, number>)[k]!);
      return t.support.map((answer, i) => ({ answer, value: raw[i]!, where: `entry ${JSON.stringify(answer)}` }));
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`--target-file ${name}: ${e.message.replace(" (use --normalize)", "")}`);
      throw e;
    }
  }
  throw new InputError(`--target-file ${name}: expected a JSON object {answer: count} or an array of [answer, count] pairs`);
}

function csvRows(text: string, name: string): Row[] {
  const lines = splitCsv(text, name);
  let answerCol = 0;
  let valueCol = 1;
  let start = 0;
  const first = lines[0];
  if (first && !(first.fields.length >= 2 && NUMBER_RE.test(first.fields[1]!.trim()))) {
    // A header: find the columns by name, or take the first two.
    const names = first.fields.map((f) => f.trim().toLowerCase());
    const a = names.findIndex((n) => ANSWER_COLS.includes(n));
    const v = names.findIndex((n) => VALUE_COLS.includes(n));
    if (first.fields.length < 2) throw new InputError(`--target-file ${name} line ${first.line}: expected two columns, answer and count (or probability), e.g. "toy story,120"`);
    answerCol = a >= 0 ? a : 0;
    valueCol = v >= 0 ? v : answerCol === 0 ? 1 : 0;
    start = 1;
  }
  return lines.slice(start).map((l): Row => {
    const where = `line ${l.line}`;
    const answer = l.fields[answerCol];
    const value = l.fields[valueCol];
    if (answer === undefined || value === undefined) throw new InputError(`--target-file ${name} ${where}: expected ${Math.max(answerCol, valueCol) + 1} columns, found ${l.fields.length}`);
    const v = value.trim();
    if (!NUMBER_RE.test(v)) throw new InputError(`--target-file ${name} ${where}: ${JSON.stringify(value)} is not a number; write the count or probability of ${JSON.stringify(answer)}`);
    return { answer: answer.trim(), value: Number(v), where };
  });
}

/** RFC 4180 rows (quoted fields with "" escapes and line breaks), with their first line numbers; blank lines skipped. */
function splitCsv(text: string, name: string): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let any = false;
  const endRow = (): void => {
    fields.push(field);
    if (any || fields.length > 1 || field.trim() !== "") out.push({ fields, line: rowLine });
    fields = [];
    field = "";
    any = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") line++;
        field += ch;
      }
    } else if (ch === '"' && field.trim() === "") (quoted = true), (field = ""), (any = true);
    else if (ch === ",") fields.push(field), (field = ""), (any = true);
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (quoted) throw new InputError(`--target-file ${name} line ${rowLine}: a quoted answer is not closed; end it with "`);
  if (field !== "" || fields.length > 0) endRow();
  return out;
}
