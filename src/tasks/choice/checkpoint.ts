// Resume: each context's record is appended to DIR/tasks/partial/<task>-<key>.jsonl as soon as it is measured, so
// an interrupted measurement (Ctrl-C, a crash, a full disk) loses at most the context in flight. The key hashes
// everything that changes the numbers (task, model, settings, the contexts themselves); the same command finds the
// file again and measures only the contexts not in it. The finished result replaces it (DIR/tasks/<id>.json).
// With --no-save there is no checkpoint.

import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { ContextRecord } from "./types.ts";

export interface Checkpoint {
  /** Records measured by an earlier attempt, by context id. */
  readonly done: ReadonlyMap<string, ContextRecord>;
  /** Appends one record (durable when the promise settles). */
  add(record: ContextRecord): Promise<void>;
  /** The measurement finished: the checkpoint is no longer needed. */
  finish(): Promise<void>;
  readonly file: string | undefined;
}

export function checkpointKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

const NONE: Checkpoint = { done: new Map(), add: async () => {}, finish: async () => {}, file: undefined };

/** The checkpoint of a measurement under DIR (none without DIR). A torn last line (a crash mid-write) is ignored. */
export async function openCheckpoint(dir: string | undefined, task: string, key: string): Promise<Checkpoint> {
  if (dir === undefined) return NONE;
  const folder = join(dir, "tasks", "partial");
  const file = join(folder, `${task}-${key}.jsonl`);
  const done = new Map<string, ContextRecord>();
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as ContextRecord;
      if (typeof r.id === "string" && Array.isArray(r.options)) done.set(r.id, r);
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
