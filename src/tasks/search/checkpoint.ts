// Resume for `task search`, in the manner of the choice core's (src/tasks/choice/checkpoint.ts, whose records are
// choice contexts): each ranked query's record is appended to DIR/tasks/partial/search-<key>.jsonl as soon as it is
// measured; the same command finds the file again (the key hashes the model, the settings and the pools) and
// measures only the queries not in it. The file goes once the result is stored; --no-save keeps none.

import { appendFile, mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";

/** What a checkpoint line must hold to be taken back (a query record of run.ts: id, pool, rankings). */
export interface QueryLine {
  id: string;
  pool: unknown[];
  rankings: unknown[];
}

export interface SearchCheckpoint<R extends QueryLine> {
  readonly done: ReadonlyMap<string, R>;
  add(record: R): Promise<void>;
  finish(): Promise<void>;
}

export async function openSearchCheckpoint<R extends QueryLine>(dir: string | undefined, key: string): Promise<SearchCheckpoint<R>> {
  if (dir === undefined) return { done: new Map(), add: async () => {}, finish: async () => {} };
  const folder = join(dir, "tasks", "partial");
  const file = join(folder, `search-${key}.jsonl`);
  const done = new Map<string, R>();
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as R;
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
