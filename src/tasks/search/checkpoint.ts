// Resume for `task search`, in the manner of the choice core's (src/tasks/choice/checkpoint.ts, whose records are
// choice contexts): each ranked query's record is appended to DIR/tasks/partial/search-<key>.jsonl as soon as it is
// measured; the same command finds the file again (the key hashes the model, the settings and the pools) and
// measures only the queries not in it. The file goes once the result is stored; --no-save keeps none.

import { appendFile, mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { SearchQueryRecord } from "./run.ts";

export interface SearchCheckpoint {
  readonly done: ReadonlyMap<string, SearchQueryRecord>;
  add(record: SearchQueryRecord): Promise<void>;
  finish(): Promise<void>;
}

const NONE: SearchCheckpoint = { done: new Map(), add: async () => {}, finish: async () => {} };

export async function openSearchCheckpoint(dir: string | undefined, key: string): Promise<SearchCheckpoint> {
  if (dir === undefined) return NONE;
  const folder = join(dir, "tasks", "partial");
  const file = join(folder, `search-${key}.jsonl`);
  const done = new Map<string, SearchQueryRecord>();
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as SearchQueryRecord;
      if (typeof r.id === "string" && Array.isArray(r.pool) && Array.isArray(r.rankings)) done.set(r.id, r);
    } catch {
      // the line a crash cut short: that query is measured again
    }
  }
  let made = false;
  let pad = text.length > 0 && !text.endsWith("\n") ? "\n" : "";
  return {
    done,
    async add(record) {
      if (!made) await mkdir(folder, { recursive: true });
      made = true;
      await appendFile(file, pad + JSON.stringify(record) + "\n");
      pad = "";
    },
    finish: () => unlink(file).catch(() => {}),
  };
}
