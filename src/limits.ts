// Size caps on what ptalign reads into memory: a server's answer and an input file (after decompression). Without
// them a 600 MB answer or a 1 MB .jsonl.gz that inflates to 1 GB ended in "internal error: Cannot create a string
// longer than 0x1fffffe8 characters" after gigabytes of RSS. The defaults are far above any real answer (a
// full-vocabulary llama-server answer for 152k tokens is 13 MB; HumanEval-X is 0.2 MB) and below V8's string limit.
import { open } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { InputError } from "./errors.ts";

/** V8's longest string is 2^29 − 24 characters: a larger text cannot be decoded at all. */
const V8_STRING_MB = 511;

export const DEFAULT_MAX_RESPONSE_MB = 128;
export const DEFAULT_MAX_INPUT_MB = 256;

function megabytes(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new InputError(`${name}=${raw} is not a size; give megabytes, e.g. ${name}=${fallback}`);
  if (v > V8_STRING_MB) throw new InputError(`${name}=${raw} is above ${V8_STRING_MB}, the largest text Node can hold; give at most ${V8_STRING_MB}`);
  return v;
}

/** Largest answer body accepted from a server, in bytes (PTALIGN_MAX_RESPONSE_MB, default 128). */
export function maxResponseBytes(): number {
  return Math.floor(megabytes("PTALIGN_MAX_RESPONSE_MB", DEFAULT_MAX_RESPONSE_MB) * 1024 * 1024);
}

/** Largest input file accepted, after decompression, in bytes (PTALIGN_MAX_INPUT_MB, default 256). */
export function maxInputBytes(): number {
  return Math.floor(megabytes("PTALIGN_MAX_INPUT_MB", DEFAULT_MAX_INPUT_MB) * 1024 * 1024);
}

const mb = (bytes: number) => `${+(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The message of an input over the cap (exit 2). */
export function inputTooLarge(file: string, what: string): InputError {
  return new InputError(`${file}: ${what} larger than ${mb(maxInputBytes())}, the input limit; raise it with PTALIGN_MAX_INPUT_MB (at most ${V8_STRING_MB}) if the file is right`);
}

/**
 * Reads an input file, checking its size before reading and, for gzip data, its inflated size while inflating
 * (never more than the cap is held). Throws InputError (exit 2) naming the limit.
 */
export async function readInputFile(file: string, o: { gunzip?: boolean } = {}): Promise<Buffer> {
  const cap = maxInputBytes();
  const handle = await open(file, "r");
  let bytes: Buffer;
  try {
    const { size } = await handle.stat();
    if (size > cap) throw inputTooLarge(file, "the file is");
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  if (o.gunzip && bytes[0] === 0x1f && bytes[1] === 0x8b) return gunzipCapped(bytes, file, cap);
  return bytes;
}

function gunzipCapped(bytes: Buffer, file: string, cap: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: cap });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) throw inputTooLarge(file, "its gzip data inflates to");
    throw new InputError(`${file}: damaged gzip data (${err instanceof Error ? err.message : String(err)}); download the file again`);
  }
}
