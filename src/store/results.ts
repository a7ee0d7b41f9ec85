// Run ids, and the result JSON files DIR/runs/<id>.json: an export of the store (users and older readers rely on
// them), written atomically from what the store holds.

import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { writeAtomically } from "./atomic.ts";
import { join } from "node:path";
import type { Result } from "../types.ts";
import { isUrl, shownLocation, withStore } from "./registry.ts";
import type { ResultStore } from "./types.ts";

export const DEFAULT_RESULTS_DIR = "ptalign-results";

/** `20261129-014500-sim-d-3f9a1c`: sortable by time, readable, unique. */
export function newRunId(model: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const slug = model.replace(/^.*[\\/]/, "").replace(/\.gguf$/i, "").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "model";
  return `${stamp}-${slug}-${randomBytes(3).toString("hex")}`;
}

/**
 * A whole result (runs saved without step-by-step recording: demo, correct, batch) into the store, each step written
 * once, then exported to DIR/runs/<id>.json (<id>.partial.json for one that stopped early, settings.partial).
 */
export async function saveResult(dir: string, result: Result, partial = false): Promise<string> {
  result.id ??= newRunId(result.model);
  const full = result as Result & { id: string };
  return withStore(dir, async (store) => {
    await store.putResult(full);
    // A database keeps no result files: the measurement is named by where it is.
    return (await exportResult(store, dir, full.id, partial ? { partial, summary: full } : {})) ?? `${shownLocation(dir)} (measurement ${full.id})`;
  });
}

/**
 * Writes DIR/runs/<id>.json from the store (undefined when the location is not a directory). A measurement that
 * stopped early has no metrics in the store: `summary` gives the ones computed from its steps for the file.
 */
export async function exportResult(store: ResultStore, dir: string, id: string, opts: { partial?: boolean; summary?: Pick<Result, "metrics" | "verdict"> } = {}): Promise<string | undefined> {
  if (isUrl(dir)) return undefined;
  const rec = await store.getRun(id);
  if (!rec) throw new Error(`measurement ${id} is not in the store ${store.location}`);
  const { status: _s, error: _e, created: _c, ...stored } = await store.resultOf(rec);
  const result = { ...stored, metrics: stored.metrics ?? opts.summary?.metrics ?? null, verdict: stored.verdict ?? opts.summary?.verdict ?? null };
  return writeResultFile(dir, result as Result, opts.partial ?? false);
}

/** DIR/runs/<id>.json (or <id>.partial.json), written atomically, so a reader never sees half a file. */
export async function writeResultFile(dir: string, result: Result, partial = false): Promise<string> {
  const runsDir = join(dir, "runs");
  await mkdir(runsDir, { recursive: true });
  const file = join(runsDir, `${result.id}${partial ? ".partial" : ""}.json`);
  await writeAtomically(file, JSON.stringify(result, null, 1) + "\n");
  // A resumed measurement that is now complete: its partial export from the interruption is out of date.
  if (!partial) await rm(join(runsDir, `${result.id}.partial.json`), { force: true });
  return file;
}
