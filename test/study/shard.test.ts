// --shard i/n and `ptalign merge`: a study run as three shards into three directories and merged gives what one
// unsharded run gives (ids aside: a run id is drawn fresh for each measurement); merging is idempotent, refuses
// conflicting data in one line without writing, and reads schema-1 directories.
import assert from "node:assert/strict";
import { cpSync, existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { parseStudy } from "../../src/study/spec.ts";
import { cellsOf } from "../../src/study/matrix.ts";
import { cellsOfShard, parseShard } from "../../src/study/shard.ts";
import { ptalign, type CliResult } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/results-v1/dir", import.meta.url));
const STUDY = "models: [sim:d, sim:e]\ntargets: [extreme, \"uniform(1,4)\", \"{1:0.2,2:0.8}\"]\nseeds: [1, 2]\nsteps: 6\nruns: 2\n";

const ok = (r: CliResult) => assert.equal(r.code, 0, r.stderr);

interface LsRun {
  id: string;
  created: string;
  settings: { cell?: string } & Record<string, unknown>;
  [k: string]: unknown;
}

/** `ls --json` without the ids (fresh per measurement) and times, in cell order: what the runs found. */
async function lsFound(dir: string): Promise<unknown[]> {
  const r = await ptalign(["ls", dir, "--json"]);
  ok(r);
  const runs = JSON.parse(r.stdout) as LsRun[];
  return runs.map(({ id: _i, created: _c, ...rest }) => rest).sort((a, b) => String(a.settings.cell).localeCompare(String(b.settings.cell)));
}

/** `export` rows without their run_id column (the first), sorted: every step of every run. */
async function exportRows(dir: string, level: "steps" | "runs"): Promise<string[]> {
  const r = await ptalign(["export", dir, "--level", level]);
  ok(r);
  const [head, ...rows] = r.stdout.trimEnd().split("\r\n");
  assert.ok(head!.startsWith("run_id,"));
  return rows.map((line) => line.slice(line.indexOf(",") + 1)).sort();
}

describe("--shard i/n", () => {
  it("refuses a bad shard in one line, exit 2, before any work", async () => {
    const dir = await tempDir();
    const file = join(dir, "study.yaml");
    await writeFile(file, STUDY);
    for (const bad of ["3/3", "a/b", "0/0", "-1/2", "1", "1/2/3"]) {
      const r = await ptalign(["run", file, "--out", join(dir, "out"), "--shard", bad]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /--shard/);
      assert.equal(existsSync(join(dir, "out")), false, "nothing written");
    }
    const noStudy = await ptalign(["run", "--model", "sim:d", "--target", "extreme", "--shard", "0/2", "--no-save"]);
    assert.equal(noStudy.code, 2);
    assert.match(noStudy.stderr, /--shard needs a study file/);
  });

  it("partitions the cells by hash: disjoint, complete, balanced, and the same when the file's lists are reordered", () => {
    const study = parseStudy(STUDY, "/tmp/s.yaml");
    const reordered = parseStudy("models: [sim:e, sim:d]\ntargets: [\"{1:0.2,2:0.8}\", extreme, \"uniform(1,4)\"]\nseeds: [2, 1]\nsteps: 6\nruns: 2\n", "/tmp/s.yaml");
    const all = cellsOf(study);
    assert.equal(all.length, 12);
    for (const n of [1, 3, 5, 12, 13]) {
      const parts = Array.from({ length: n }, (_x, i) => cellsOfShard(all, { index: i, count: n }).map((c) => c.hash));
      const flat = parts.flat();
      assert.equal(flat.length, all.length, `n=${n}: every cell once`);
      assert.deepEqual(new Set(flat), new Set(all.map((c) => c.hash)));
      const sizes = parts.map((p) => p.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n=${n}: sizes ${sizes.join(",")}`);
      for (let i = 0; i < n; i++) {
        assert.deepEqual(new Set(cellsOfShard(cellsOf(reordered), { index: i, count: n }).map((c) => c.hash)), new Set(parts[i]), `n=${n} shard ${i} under reordering`);
      }
    }
    assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  });
});

describe("ptalign merge", () => {
  let dir: string;
  let whole: string;
  let shards: string[];
  let merged: string;

  before(async () => {
    dir = await tempDir();
    const file = join(dir, "study.yaml");
    await writeFile(file, STUDY);
    whole = join(dir, "whole");
    ok(await ptalign(["run", file, "--out", whole]));
    shards = [0, 1, 2].map((i) => join(dir, `shard-${i}`));
    const counts: number[] = [];
    for (const [i, out] of shards.entries()) {
      const r = await ptalign(["run", file, "--out", out, "--shard", `${i}/3`, "--json"]);
      ok(r);
      const j = JSON.parse(r.stdout) as { shard: string; cells: unknown[] };
      assert.equal(j.shard, `${i}/3`);
      counts.push(j.cells.length);
    }
    assert.deepEqual(counts, [4, 4, 4]);
    merged = join(dir, "merged");
    const m = await ptalign(["merge", ...shards, "--out", merged, "--json"]);
    ok(m);
    assert.deepEqual(JSON.parse(m.stdout), { out: merged, sources: shards, added: 12, duplicates: 0, tasks_added: 0, task_duplicates: 0, unfinished: 0 });
  });

  it("three shards merged give what one unsharded run gives (ls --json, export of steps and runs)", async () => {
    assert.deepEqual(await lsFound(merged), await lsFound(whole));
    assert.deepEqual(await exportRows(merged, "steps"), await exportRows(whole, "steps"));
    assert.deepEqual(await exportRows(merged, "runs"), await exportRows(whole, "runs"));
    assert.equal(readdirSync(join(merged, "runs")).length, 12, "a runs/<id>.json per measurement");
    // The merged directory is a study directory like any other: the study resumes there with nothing left to do.
    const again = await ptalign(["run", join(dir, "study.yaml"), "--out", merged]);
    ok(again);
    assert.match(again.stdout, /0 measured, 12 already stored, 0 failed/);
  });

  it("is idempotent, and takes identical duplicates (the unsharded run of the same cells) once", async () => {
    const r = await ptalign(["merge", ...shards, whole, "--out", merged]);
    ok(r);
    assert.match(r.stdout, /0 measurements added, 24 identical duplicates taken once/);
    assert.deepEqual(await lsFound(merged), await lsFound(whole));
    const ls = JSON.parse((await ptalign(["ls", merged, "--json"])).stdout) as LsRun[];
    assert.equal(ls.length, 12);
  });

  it("refuses a conflicting measurement in one line naming both, and writes nothing", async () => {
    const changed = join(dir, "changed");
    cpSync(shards[1]!, changed, { recursive: true });
    const db = new Database(join(changed, "ptalign.db"));
    const row = db.prepare("SELECT id, cell FROM runs LIMIT 1").get() as { id: string; cell: string };
    db.prepare("UPDATE steps SET leak = leak + 0.001 WHERE run_id = ? AND t = 0").run(row.id);
    db.close();
    const out = join(dir, "conflict-out");
    const r = await ptalign(["merge", shards[0]!, shards[1]!, changed, "--out", out]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`study cell ${row.cell} differs between .*shard-1 \\(id ${row.id}\\) and .*changed \\(id ${row.id}\\)|measurement ${row.id} differs between .*shard-1.* and .*changed`));
    assert.match(r.stderr, /nothing was merged/);
    assert.equal(existsSync(out), false, "nothing written: --out not even created");
    // Into a directory that already holds the cell: never replaced, refused the same way.
    const into = await ptalign(["merge", changed, "--out", merged]);
    assert.equal(into.code, 2);
    assert.match(into.stderr, new RegExp(`${row.id}`));
    assert.deepEqual(await lsFound(merged), await lsFound(whole));
  });

  it("merges a schema-1 results directory (migrated through the store, never written) with its tasks", async () => {
    // A copy: even a reader leaves SQLite's -shm file next to a WAL database.
    const v1 = join(dir, "v1");
    cpSync(FIXTURE, v1, { recursive: true });
    const version = () => {
      const db = new Database(join(v1, "ptalign.db"), { readonly: true });
      try {
        return (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
      } finally {
        db.close();
      }
    };
    const before = version();
    assert.equal(before, "1");
    const out = join(dir, "from-v1");
    const r = await ptalign(["merge", v1, "--out", out, "--json"]);
    ok(r);
    const s = JSON.parse(r.stdout) as { added: number; tasks_added: number; unfinished: number };
    assert.deepEqual([s.added, s.tasks_added, s.unfinished], [19, 8, 1]);
    assert.match(r.stderr, /1 unfinished measurement in .* left out/);
    assert.equal(version(), before, "the source is not migrated in place");
    const fromFixture = JSON.parse((await ptalign(["ls", v1, "--json"])).stdout) as LsRun[];
    const fromMerged = JSON.parse((await ptalign(["ls", out, "--json"])).stdout) as LsRun[];
    assert.deepEqual(fromMerged, fromFixture.filter((x) => x.status === "done"), "the same runs, ids and times kept");
    assert.equal(readdirSync(join(out, "tasks")).length, 8);
    const again = await ptalign(["merge", v1, "--out", out, "--json"]);
    assert.equal((JSON.parse(again.stdout) as { added: number }).added, 0);
  });
});
