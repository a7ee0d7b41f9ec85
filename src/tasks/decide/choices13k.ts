// choices13k (Peterson, Bourgin, Agrawal, Reichman, Griffiths, Science 2021) as downloaded: c13k_selections.csv (one
// row per problem × feedback condition; bRate = share of people choosing gamble B) and c13k_problems.json (key = the
// CSV's 0-based data-row index — not the Problem column —; "A"/"B" = lists of [probability, outcome]).
// P_task = (1 − bRate, bRate) over gambles A and B. Rows with feedback and without, and ambiguous problems (Amb:
// B's probabilities were not shown to people, so they are not shown to the model either), are aggregated apart.

import { basename, dirname, join } from "node:path";
import { InputError } from "../../errors.ts";
import { csvFields } from "../recommend/movielens.ts";
import { exists, isDirectory, lineError, numberedLines, readText } from "../choice/input.ts";
import type { ChoiceContext, ChoiceReader } from "../choice/types.ts";

export const C13K_SELECTIONS = "c13k_selections.csv";
export const C13K_PROBLEMS = "c13k_problems.json";
const NEEDED = ["Problem", "Feedback", "n", "Amb", "bRate"] as const;
/** How far a lottery's probabilities may sum from 1 (the file's own rounding reaches ~1e-16). */
const LOTTERY_TOLERANCE = 1e-6;

export const C13K_CONTEXT = "You are offered a choice between two gambles. The one you choose is played once, and you win (or lose) the outcome it gives, in points.";
export const C13K_INSTRUCTION = "Which gamble do you choose? Answer with its letter.";

type Lottery = [number, number][];

/** The selections file and the problems file of PATH (a folder, or the selections CSV). */
export async function c13kFiles(path: string): Promise<{ selections: string; problems: string }> {
  const dir = (await isDirectory(path)) ? path : dirname(path);
  const selections = (await isDirectory(path)) ? join(path, C13K_SELECTIONS) : path;
  return { selections, problems: join(dir, C13K_PROBLEMS) };
}

/** A number as people read it: at most 4 significant digits, no trailing zeros, a true minus sign. */
const num = (x: number) => String(Number(x.toPrecision(4))).replace(/^-/, "−");
const pct = (p: number) => `${Number((p * 100).toPrecision(4))}%`;

/** A lottery in words: "a 95% chance of 26, else −1" style, outcomes of probability 0 left out. */
export function describeLottery(l: Lottery, showProbabilities: boolean): string {
  const kept = l.filter(([p]) => p > 0);
  if (kept.length === 1) return `${num(kept[0]![1])} for sure`;
  if (!showProbabilities) return `one of the outcomes ${kept.map(([, x]) => num(x)).join(", ")}, with probabilities not shown`;
  return kept.map(([p, x]) => `${pct(p)} chance of ${num(x)}`).join(", ");
}

/** The line of `key` in a JSON text (the first occurrence of "key":), for messages about that entry. */
function lineOfKey(text: string, key: string): number {
  const at = text.indexOf(`"${key}":`);
  return at < 0 ? 1 : text.slice(0, at).split("\n").length;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split("\n").length : 1;
    throw lineError(file, line, `not valid JSON (${(err as Error).message}); download c13k_problems.json again`);
  }
}

function lotteryOf(v: unknown, file: string, line: number, key: string, side: "A" | "B"): Lottery {
  if (!Array.isArray(v) || v.length === 0) throw lineError(file, line, `problem "${key}": "${side}" is not a list of [probability, outcome]`);
  const out: Lottery = [];
  for (const pair of v) {
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((x) => typeof x !== "number" || !Number.isFinite(x))) throw lineError(file, line, `problem "${key}": "${side}" has an entry that is not [probability, outcome]: ${JSON.stringify(pair)}`);
    const [p, x] = pair as [number, number];
    if (p < 0 || p > 1) throw lineError(file, line, `problem "${key}": "${side}" has probability ${p}; probabilities are from 0 to 1`);
    out.push([p, x]);
  }
  const sum = out.reduce((a, [p]) => a + p, 0);
  if (Math.abs(sum - 1) > LOTTERY_TOLERANCE) throw lineError(file, line, `problem "${key}": the probabilities of "${side}" sum to ${Number(sum.toPrecision(10))}, not 1`);
  return out;
}

const bool = (v: string, file: string, line: number, col: string) => {
  const t = v.trim();
  if (t === "True" || t === "true" || t === "1") return true;
  if (t === "False" || t === "false" || t === "0") return false;
  throw lineError(file, line, `${col} is "${v}", not True or False`);
};

export async function readChoices13k(path: string): Promise<{ contexts: ChoiceContext[]; files: string[] }> {
  const { selections, problems } = await c13kFiles(path);
  if (!(await exists(selections))) throw new InputError(`${selections}: no such file; choices13k needs ${C13K_SELECTIONS} and ${C13K_PROBLEMS} side by side`);
  if (!(await exists(problems))) throw new InputError(`${problems}: no such file; choices13k needs ${C13K_PROBLEMS} beside ${basename(selections)}`);
  const lines = numberedLines(await readText(selections));
  const header = csvFields(lines[0]?.text ?? "").map((h) => h.trim());
  const missing = NEEDED.filter((c) => !header.includes(c));
  if (missing.length) throw lineError(selections, lines[0]?.line ?? 1, `missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; expected choices13k's header (Problem,Feedback,n,…,Amb,Corr,bRate,bRate_std)`);
  const col = (name: string) => header.indexOf(name);
  const jsonText = await readText(problems);
  const json = parseJson(jsonText, problems);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw lineError(problems, 1, `not an object keyed by row index; download c13k_problems.json again`);
  const table = json as Record<string, unknown>;
  const contexts: ChoiceContext[] = [];
  const ids = new Map<string, number>();
  lines.slice(1).forEach(({ line, text }, row) => {
    const f = csvFields(text);
    if (f.length < header.length) throw lineError(selections, line, `${f.length} fields, the header has ${header.length}`);
    const get = (c: string) => f[col(c)]!;
    const bRate = Number(get("bRate"));
    if (get("bRate").trim() === "" || !Number.isFinite(bRate)) throw lineError(selections, line, `bRate "${get("bRate")}" is not a number`);
    if (bRate < 0 || bRate > 1) throw lineError(selections, line, `bRate ${bRate} is not a share from 0 to 1`);
    const feedback = bool(get("Feedback"), selections, line, "Feedback");
    const amb = bool(get("Amb"), selections, line, "Amb");
    const n = Number(get("n"));
    // The quirk: the JSON is keyed by the data row's 0-based index, not by the Problem number (problems run with and
    // without feedback appear twice in the CSV, once per row, and twice in the JSON).
    const key = String(row);
    const entry = table[key];
    if (entry === undefined) throw lineError(selections, line, `no problem "${key}" in ${problems} (its keys are the CSV's 0-based row indices); use the two files of one download`);
    const at = lineOfKey(jsonText, key);
    if (typeof entry !== "object" || entry === null) throw lineError(problems, at, `problem "${key}" is not an object with "A" and "B"`);
    const e = entry as Record<string, unknown>;
    const A = lotteryOf(e.A, problems, at, key, "A");
    const B = lotteryOf(e.B, problems, at, key, "B");
    const id = `${get("Problem").trim()}/${feedback ? "feedback" : "no-feedback"}`;
    if (ids.has(id)) throw lineError(selections, line, `problem ${get("Problem").trim()} with Feedback=${feedback ? "True" : "False"} already appears on line ${ids.get(id)}`);
    ids.set(id, line);
    contexts.push({
      id,
      context: C13K_CONTEXT,
      options: [
        { label: "A", text: describeLottery(A, true), key: "A" },
        { label: "B", text: describeLottery(B, !amb), key: "B" },
      ],
      target: [1 - bRate, bRate],
      group: `${feedback ? "feedback" : "no-feedback"}${amb ? "/ambiguous" : ""}`,
      source: `${selections}:${line}`,
      instruction: C13K_INSTRUCTION,
      meta: { problem: get("Problem").trim(), row, feedback, ambiguous: amb, b_rate: bRate, ...(Number.isFinite(n) ? { n } : {}) },
    });
  });
  return { contexts, files: [selections, problems] };
}

export const choices13kReader: ChoiceReader = {
  name: "choices13k",
  describe: `choices13k: ${C13K_SELECTIONS} + ${C13K_PROBLEMS} (a folder, or the CSV with the JSON beside it)`,
  async detect(path) {
    if (await isDirectory(path)) return exists(join(path, C13K_SELECTIONS));
    return basename(path) === C13K_SELECTIONS || (path.endsWith(".csv") && (await readText(path)).startsWith("Problem,Feedback,"));
  },
  async read(path) {
    const { contexts, files } = await readChoices13k(path);
    return { format: "choices13k", files, contexts, flagged: [], notes: [] };
  },
};
