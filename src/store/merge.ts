// `ptalign merge DIR… --out DIR`: the measurements and task results of several stores in one, through the
// ResultStore interface (so any registered store — a results directory, a database URL — is a source or the target).
// Made for the parts of a study run with --shard i/n on machines that share no database (docs/scale.md).
//
// Everything is checked before anything is written, so a refused merge leaves --out as it was:
// - the same measurement (same id, or same study cell hash) found twice with identical data is taken once;
// - found twice with different data, it is a conflict: one line naming both places, nothing merged;
// - a measurement already in --out is never replaced: identical → skipped, different → a conflict.
// "Identical" compares the stored data but for the id, the times and what only describes the machine that measured
// (settings.engine: device, threads, GPU layers; settings.model_spec: the model's local path): the shards of a study
// run on different machines. Unfinished measurements (running, failed) are not merged: they are counted and named.
// Merging again is a no-op (idempotent).

import { createHash } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { Result } from "../types.ts";
import { assertResultsDir, resultFiles } from "./read.ts";
import { isUrl, openStore } from "./registry.ts";
import { exportResult } from "./results.ts";
import type { ResultStore, TaskRecord } from "./types.ts";

export interface MergeSummary {
  /** Measurements written into the target. */
  added: number;
  /** Found again (in another source or already in the target) with identical data: taken once. */
  duplicates: number;
  /** Task results written / found identical. */
  tasksAdded: number;
  taskDuplicates: number;
  /** Measurements left out because they are not finished, per source. */
  unfinished: { location: string; count: number }[];
}

/** One finished measurement of a source, known by its digest until it is written. */
interface Item {
  location: string;
  id: string;
  cell: string | null;
  study: string | null;
  created: string;
  digest: string;
  /** Where to read it again when it is written: the source's store, or a result file a store does not hold. */
  file?: Result & { id: string };
}

interface TaskItem {
  location: string;
  id: string;
  created: string;
  digest: string;
}

export async function mergeStores(sources: readonly string[], target: string): Promise<MergeSummary> {
  if (sources.length === 0) throw new InputError("merge needs at least one results directory: ptalign merge DIR… --out DIR");
  for (const s of sources) if (!isUrl(s)) assertResultsDir(s);
  const summary: MergeSummary = { added: 0, duplicates: 0, tasksAdded: 0, taskDuplicates: 0, unfinished: [] };

  // The target's own measurements come first: they are never replaced. It is only read until nothing conflicts.
  const byId = new Map<string, Item>();
  const byCell = new Map<string, Item>();
  const tasks = new Map<string, TaskItem>();
  const existing = await openStore(target);
  const targetName = isUrl(target) && existing ? existing.location : target;
  let targetUnfinished: Set<string>;
  try {
    const inTarget = await collect(target, existing);
    for (const item of inTarget.items) remember(item, byId, byCell);
    targetUnfinished = new Set(inTarget.unfinishedIds);
    for (const t of existing ? await taskItemsOf(existing, targetName) : []) tasks.set(t.id, t);
  } finally {
    await existing?.close();
  }

  const toAdd: Item[] = [];
  const tasksToAdd: TaskItem[] = [];
  for (const location of sources) {
    const store = await openStore(location);
    try {
      const found = await collect(location, store);
      if (found.unfinished > 0) summary.unfinished.push({ location, count: found.unfinished });
      for (const item of found.items.sort(byCreated)) {
        if (targetUnfinished.has(item.id)) throw new InputError(`measurement ${item.id} is unfinished in ${targetName} and finished in ${location}: merge into another --out, or remove it from ${targetName} first; nothing was merged`);
        const seen = byId.get(item.id) ?? (item.cell ? byCell.get(item.cell) : undefined);
        if (seen) {
          if (seen.digest !== item.digest) throw conflict(seen, item);
          summary.duplicates++;
          continue;
        }
        remember(item, byId, byCell);
        toAdd.push(item);
      }
      for (const t of store ? await taskItemsOf(store, location) : []) {
        const seen = tasks.get(t.id);
        if (seen) {
          if (seen.digest !== t.digest) throw new InputError(`task result ${t.id} differs between ${seen.location} and ${t.location}: keep one (move the other's tasks/${t.id}.json and its store row aside), then merge again; nothing was merged`);
          summary.taskDuplicates++;
          continue;
        }
        tasks.set(t.id, t);
        tasksToAdd.push(t);
      }
    } finally {
      await store?.close();
    }
  }
  if (toAdd.length === 0 && tasksToAdd.length === 0) return summary;

  // Nothing conflicts: write. Each measurement keeps its id and creation time, so readers list them as measured.
  const out = await openStore(target, { write: true });
  try {
    const bySource = new Map<string, Item[]>();
    for (const item of toAdd.sort(byCreated)) bySource.set(item.location, [...(bySource.get(item.location) ?? []), item]);
    for (const [location, items] of bySource) {
      const store = items.some((i) => !i.file) ? await openStore(location) : undefined;
      try {
        for (const item of items) {
          const result = item.file ?? (await storedResult(store!, item.id));
          await out.putResult(result, { cell: item.cell, study: item.study, created: item.created });
          if (!isUrl(target)) await exportResult(out, target, item.id);
          summary.added++;
        }
      } finally {
        await store?.close();
      }
    }
    for (const t of tasksToAdd) {
      const store = await openStore(t.location);
      try {
        const record = await store!.getTaskResult(t.id);
        if (!record) continue;
        await out.putTaskResult(record);
        if (!isUrl(target)) await writeTaskFile(target, record);
        summary.tasksAdded++;
      } finally {
        await store?.close();
      }
    }
    return summary;
  } finally {
    await out.close();
  }
}

/** The finished measurements of a location: its store's, and result files its store does not hold. */
async function collect(location: string, store: ResultStore | undefined): Promise<{ items: Item[]; unfinished: number; unfinishedIds: string[] }> {
  const found = store ? await itemsOf(store, location) : { items: [], unfinished: 0, unfinishedIds: [] };
  if (isUrl(location)) return found;
  // Result files the store does not hold (an older ptalign, a store moved aside).
  const known = new Set([...found.items.map((i) => i.id), ...found.unfinishedIds]);
  for (const r of await resultFiles(location, known, true)) {
    if (r.status !== "done") {
      found.unfinished++;
      found.unfinishedIds.push(r.id);
      continue;
    }
    const { status: _s, error: _e, created, progress: _p, ...result } = r;
    found.items.push({ location, id: r.id, cell: cellOf(result), study: null, created, digest: digestOf(result), file: result as Result & { id: string } });
  }
  return found;
}

function remember(item: Item, byId: Map<string, Item>, byCell: Map<string, Item>): void {
  byId.set(item.id, item);
  if (item.cell && !byCell.has(item.cell)) byCell.set(item.cell, item);
}

const byCreated = (a: { created: string; id: string }, b: { created: string; id: string }) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id.localeCompare(b.id));

/** The finished measurements of a store (unfinished ones counted, their ids noted so their files are not read). */
async function itemsOf(store: ResultStore, location: string): Promise<{ items: Item[]; unfinished: number; unfinishedIds: string[] }> {
  const items: Item[] = [];
  const unfinishedIds: string[] = [];
  let unfinished = 0;
  for (const rec of await store.listRuns()) {
    if (rec.status !== "done") {
      unfinished++;
      unfinishedIds.push(rec.id);
      continue;
    }
    const result = await storedResult(store, rec.id);
    items.push({ location, id: rec.id, cell: rec.cell ?? cellOf(result), study: rec.study, created: rec.created, digest: digestOf(result) });
  }
  return { items, unfinished, unfinishedIds };
}

async function storedResult(store: ResultStore, id: string): Promise<Result & { id: string }> {
  const rec = await store.getRun(id);
  if (!rec) throw new Error(`measurement ${id} vanished from ${store.location} during the merge`);
  const { status: _s, error: _e, created: _c, ...stored } = await store.resultOf(rec);
  // A finished measurement has its metrics and verdict stored.
  return { ...stored, metrics: stored.metrics!, verdict: stored.verdict! };
}

async function taskItemsOf(store: ResultStore, location: string): Promise<TaskItem[]> {
  const out: TaskItem[] = [];
  for (const t of await store.listTaskResults()) {
    const record = await store.getTaskResult(t.id);
    if (record) out.push({ location, id: t.id, created: t.created, digest: canonicalDigest(record) });
  }
  return out;
}

/** A study cell's hash, as recorded in its settings (result files carry no store column). */
function cellOf(result: Pick<Result, "settings">): string | null {
  const cell = (result.settings as Record<string, unknown> | undefined)?.cell;
  return typeof cell === "string" ? cell : null;
}

/** The digest of what a measurement found: the stored data but its id and what describes the machine (see top). */
export function digestOf(result: Pick<Result, "settings"> & { id?: string }): string {
  const { id: _id, settings, ...rest } = result;
  const { engine: _engine, model_spec: _spec, ...kept } = (settings ?? {}) as Record<string, unknown>;
  return canonicalDigest({ ...rest, settings: kept });
}

function canonicalDigest(value: unknown): string {
  return createHash("sha256").update(canonical(value)).digest("hex");
}

/** JSON with the keys of every object sorted: the same data gives the same text whatever order it was built in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function conflict(a: Item, b: Item): InputError {
  const what = a.id === b.id ? `measurement ${a.id}` : `study cell ${b.cell}`;
  const where = (i: Item) => `${i.location} (id ${i.id})`;
  return new InputError(`${what} differs between ${where(a)} and ${where(b)}: keep one (remove the other with its runs/<id>.json, or merge without that directory); nothing was merged`);
}

/** DIR/tasks/<id>.json as saveTaskResult writes it (atomically). */
async function writeTaskFile(dir: string, record: TaskRecord): Promise<void> {
  const tasksDir = join(dir, "tasks");
  await mkdir(tasksDir, { recursive: true });
  const file = join(tasksDir, `${record.id}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(record) + "\n");
  await rename(tmp, file);
}
