import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Result } from "../types.ts";
import { Store } from "./db.ts";

export const DEFAULT_RESULTS_DIR = "ptalign-results";

/** `20261129-014500-sim-d-3f9a1c`: sortable by time, readable, unique. */
export function newRunId(model: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const slug = model.replace(/^.*[\\/]/, "").replace(/\.gguf$/i, "").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "model";
  return `${stamp}-${slug}-${randomBytes(3).toString("hex")}`;
}

/** Writes DIR/runs/<id>.json (or <id>.partial.json for a run that stopped early) atomically, so a reader never sees half a file, and the run into the store DIR/ptalign.db. */
export async function saveResult(dir: string, result: Result, partial = false): Promise<string> {
  const file = await writeResultFile(dir, result, partial);
  if (result.id) {
    // The SQLite store holds every run too (ls, export, report, view read it); a run recorded step by step is
    // completed here, one saved whole (demo) is added.
    const store = Store.open(dir);
    try {
      store.putResult(result as Result & { id: string });
    } finally {
      store.close();
    }
  }
  return file;
}

/** DIR/runs/<id>.json alone (the store already holds the run), written atomically. */
export async function writeResultFile(dir: string, result: Result, partial = false): Promise<string> {
  const runsDir = join(dir, "runs");
  await mkdir(runsDir, { recursive: true });
  const file = join(runsDir, `${result.id}${partial ? ".partial" : ""}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(result, null, 1) + "\n");
  await rename(tmp, file);
  return file;
}

/** Every stored run of a results directory, oldest first. */
export async function loadResults(dir: string): Promise<Result[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, "runs"));
  } catch {
    return [];
  }
  const files = names.filter((n) => n.endsWith(".json")).sort();
  return Promise.all(files.map(async (n) => JSON.parse(await readFile(join(dir, "runs", n), "utf8")) as Result));
}
