// What every reader of outside files shares: size-capped reading, lines with their numbers, and one-line errors that
// name the file and line ("FILE:LINE: what is wrong; what to do", exit 2 through InputError).

import { stat } from "node:fs/promises";
import { InputError } from "../../errors.ts";
import { readInputFile } from "../../limits.ts";

/** How far a target may sum from 1 before it is refused (the DIST grammar's tolerance). */
export const TARGET_SUM_TOLERANCE = 1e-6;

/** An InputError naming FILE:LINE. */
export const lineError = (file: string, line: number, what: string) => new InputError(`${file}:${line}: ${what}`);

/** The file's text (size-capped, gzip inflated), or a one-line error naming it. */
export async function readText(file: string): Promise<string> {
  try {
    return (await readInputFile(file, { gunzip: true })).toString("utf8").replace(/^\uFEFF/, "");
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${file} (${code === "ENOENT" ? "no such file" : (code ?? String(err))}); check --data`);
  }
}

/** Non-empty lines with their 1-based numbers (CRLF and LF alike). */
export function numberedLines(text: string): { line: number; text: string }[] {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t }))
    .filter((l) => l.text.trim() !== "");
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * A target from the file: probabilities (finite, ≥ 0, summing to 1 within TARGET_SUM_TOLERANCE, then renormalised)
 * or counts (finite, ≥ 0, not all 0), one per option. Errors name the file and line (and the field: `countsField`).
 */
export function targetOf(file: string, line: number, options: number, v: { p?: unknown; counts?: unknown }, countsField = "counts"): { target: number[]; counts?: number[] } {
  const { p, counts } = v;
  if (p !== undefined && counts !== undefined) throw lineError(file, line, `give "p" or "counts", not both`);
  if (p === undefined && counts === undefined) throw lineError(file, line, `no target: give "p" (probabilities) or "counts" (one per option)`);
  const name = p !== undefined ? "p" : countsField;
  const xs = p ?? counts;
  if (!Array.isArray(xs) || xs.some((x) => typeof x !== "number" || !Number.isFinite(x))) throw lineError(file, line, `"${name}" must be an array of numbers`);
  const nums = xs as number[];
  if (nums.length !== options) throw lineError(file, line, `${options} options but ${nums.length} values in "${name}"; give one per option, in the same order`);
  const neg = nums.findIndex((x) => x < 0);
  if (neg >= 0) throw lineError(file, line, `"${name}"[${neg}] is ${nums[neg]}; values must be ≥ 0`);
  const sum = nums.reduce((a, b) => a + b, 0);
  if (p === undefined) {
    if (sum === 0) throw lineError(file, line, `"${name}" values are all 0; at least one option needs a count`);
    return { target: nums.map((x) => x / sum), counts: nums };
  }
  if (Math.abs(sum - 1) > TARGET_SUM_TOLERANCE) throw lineError(file, line, `"p" sums to ${Number(sum.toPrecision(10))}, not 1; give probabilities that sum to 1, or "counts" instead`);
  return { target: nums.map((x) => x / sum) };
}
