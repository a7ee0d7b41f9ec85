// Resume: each context's record is appended to DIR/tasks/partial/<task>-<key>.jsonl as soon as it is measured, so
// an interrupted measurement (Ctrl-C, a crash, a full disk) loses at most the context in flight. The key hashes
// everything that changes the numbers (task, model, settings, the contexts themselves); the same command finds the
// file again and measures only the contexts not in it. The finished result replaces it (DIR/tasks/<id>.json).
// With --no-save there is no checkpoint. `task search` keeps its query records the same way.

import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { ContextRecord } from "./types.ts";

export interface Checkpoint<R extends { id: string } = ContextRecord> {
  /** Records measured by an earlier attempt, by context id. */
  readonly done: ReadonlyMap<string, R>;
  /** Appends one record (durable when the promise settles). */
  add(record: R): Promise<void>;
  /** The measurement finished: the checkpoint is no longer needed. */
  finish(): Promise<void>;
  readonly file: string | undefined;
}

export function checkpointKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

/** A choice context's record as a checkpoint line must hold it to be taken back. */
export const isContextRecord = (r: unknown): r is ContextRecord => typeof (r as ContextRecord).id === "string" && Array.isArray((r as ContextRecord).options);

/**
 * The checkpoint of a measurement under DIR (none without DIR). A torn last line (a crash mid-write), or a line
 * `isRecord` does not accept, is ignored: that record is measured again.
 */
export async function openCheckpoint<R extends { id: string } = ContextRecord>(dir: string | undefined, task: string, key: string, isRecord: (r: unknown) => r is R): Promise<Checkpoint<R>> {
  if (dir === undefined) return { done: new Map(), add: async () => {}, finish: async () => {}, file: undefined };
  const folder = join(dir, "tasks", "partial");
  const file = join(folder, `${task}-${key}.jsonl`);
  const done = new Map<string, R>();
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r: unknown = JSON.parse(line);
      if (r !== null && typeof r === "object" && isRecord(r)) done.set(r.id, r);
    } catch {
      // the line a crash cut short: that context is measured again
    }
  }
  let made = false;
  // A torn last line has no newline: start the next record on a line of its own.
  let pad = text.length > 0 && !text.endsWith("\n") ? "\n" : "";
  return {
    done,
    file,
    async add(record) {
      if (!made) await mkdir(folder, { recursive: true });
      made = true;
      await appendFile(file, pad + JSON.stringify(record) + "\n");
      pad = "";
    },
    async finish() {
      await unlink(file).catch(() => {});
    },
  };
}
