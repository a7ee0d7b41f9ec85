// What a command stopped by a fault (a full disk, a signal, bad input) must leave (issue 13): one line saying so, no
// temporary file, and nothing stored lost — what a results directory held before the fault, checked after it: every
// runs/*.json byte for byte, and every stored run with all its steps. Used by the fuzz, full-disk and signal tests.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/store/registry.ts";
import { tempFiles } from "./fullDisk.ts";

/** Exactly one line on stderr, matching `pattern`; no "internal error" on either stream, no stack. */
export function oneLine({ stdout = "", stderr }: { stdout?: string; stderr: string }, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
  assert.doesNotMatch(stderr + stdout, /internal error/i);
}

/** No temporary file of an atomic write is left in `dir`. */
export const noTemp = (dir: string): void => assert.deepEqual(tempFiles(dir), [], "no temporary file is left behind");

export interface Stored {
  /** runs/*.json → sha256 of its bytes. */
  files: Map<string, string>;
  /** Stored run id → its steps. */
  runs: Map<string, number>;
  /** All steps stored. */
  steps: number;
}

/** What DIR holds now (read through the store, which is closed again). */
export async function snapshot(dir: string): Promise<Stored> {
  const files = new Map<string, string>();
  for (const f of readdirSync(join(dir, "runs"))) files.set(f, createHash("sha256").update(readFileSync(join(dir, "runs", f))).digest("hex"));
  const store = (await openStore(dir))!;
  try {
    const runs = new Map<string, number>();
    for (const r of await store.listRuns()) runs.set(r.id, (await store.stepCounts(r.id)).reduce((a, b) => a + b, 0));
    return { files, runs, steps: [...runs.values()].reduce((a, b) => a + b, 0) };
  } finally {
    await store.close();
  }
}

/** Asserts that DIR still holds everything `before` saw (more is allowed); returns what it holds now. */
export async function assertNothingLost(dir: string, before: Stored): Promise<Stored> {
  const now = await snapshot(dir);
  for (const [f, h] of before.files) assert.equal(now.files.get(f), h, `runs/${f} unchanged`);
  for (const [id, n] of before.runs) assert.equal(now.runs.get(id), n, `run ${id} keeps its ${n} steps`);
  return now;
}
