import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const BIN = fileURLToPath(new URL("../../bin/ptalign.js", import.meta.url));

interface CellJson {
  cell: number;
  hash: string;
  model: string;
  target: string;
  status: string;
  error?: string;
  metrics?: Record<string, number>;
  verdict?: { type: string; ci: unknown };
}

async function study(dir: string, text: string): Promise<string> {
  const file = join(dir, "study.yaml");
  await writeFile(file, text);
  return file;
}

function stepCount(db: string): number {
  if (!existsSync(db)) return 0;
  const conn = new Database(db, { readonly: true, timeout: 5000 });
  try {
    return (conn.prepare("SELECT count(*) AS n FROM steps").get() as { n: number }).n;
  } catch {
    return 0; // tables not created yet
  } finally {
    conn.close();
  }
}

describe("ptalign run STUDY.yaml", () => {
  it("runs every cell into the store, and a second invocation skips them all", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    const file = await study(dir, "models: [sim:d, sim:e]\ntargets: [extreme]\nsteps: 12\nruns: 3\n");
    const first = await ptalign(["run", file, "--out", out, "--json"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, "", "no progress bar with --json / CI");
    const cells = (JSON.parse(first.stdout) as { cells: CellJson[] }).cells;
    assert.deepEqual(cells.map((c) => [c.model, c.status, c.verdict?.type]), [["sim:d", "done", "D"], ["sim:e", "done", "E"]]);
    assert.equal((await readdir(join(out, "runs"))).length, 2, "every cell also has its DIR/runs/<id>.json");
    assert.equal(stepCount(join(out, "ptalign.db")), 2 * 3 * 12);

    const again = await ptalign(["run", file, "--out", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 measured, 2 already stored, 0 failed/);
    assert.equal(stepCount(join(out, "ptalign.db")), 2 * 3 * 12);

    const ls = await ptalign(["ls", out]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout.trim().split("\n").length, 3);
    assert.match(ls.stdout, /done\s+sim:e\s+extreme\s+sequential\s+1\s+36\/36/);
  });

  it("one cell whose model cannot be opened fails alone: the others complete, exit 1, the failure is reported", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    const file = await study(dir, "models:\n  - sim:e\n  - ./missing.gguf\n  - sim:d\ntargets: [extreme]\nsteps: 5\nruns: 2\n");
    const res = await ptalign(["run", file, "--out", out]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /cell 2 \(\.\/missing\.gguf × extreme.*\) failed: .*missing\.gguf does not exist/);
    assert.match(res.stderr, /ptalign: 1 of 3 cells failed \(cell 2\)/);
    assert.match(res.stdout, /^1\s+sim:e .*done .* E$/m);
    assert.match(res.stdout, /^2\s+\.\/missing\.gguf .*failed/m);
    assert.match(res.stdout, /^3\s+sim:d .*done .* D$/m);
    const ls = await ptalign(["ls", out]);
    assert.match(ls.stdout, /failed\s+\.\/missing\.gguf .*does not exist/);
  });

  it("SIGKILL mid-study, run again: it resumes, the numbers equal an uninterrupted study's, no step is stored twice", async () => {
    const dir = await tempDir();
    const steps = 1000;
    const runs = 3;
    const text = `models: [sim:d, sim:e, sim:collapsed]\ntargets: [extreme, "uniform(1,5)"]\nsteps: ${steps}\nruns: ${runs}\n`;
    const file = await study(dir, text);
    const total = 6 * runs * steps;

    // Uninterrupted reference.
    const ref = await ptalign(["run", file, "--out", join(dir, "ref"), "--json"]);
    assert.equal(ref.code, 0, ref.stderr);
    const expected = (JSON.parse(ref.stdout) as { cells: CellJson[] }).cells;

    // Interrupted: killed once a third of the steps are stored.
    const out = join(dir, "out");
    const db = join(out, "ptalign.db");
    const child = spawn(process.execPath, [BIN, "run", file, "--out", out], { env: { ...process.env, CI: "1" }, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    let killedAt = 0;
    for (let i = 0; i < 2000 && child.exitCode === null; i++) {
      killedAt = stepCount(db);
      if (killedAt >= total / 3) {
        child.kill("SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await exited, "SIGKILL", "the study was still running when killed");
    const stored = stepCount(db);
    assert.ok(stored > 0 && stored < total, `killed mid-study (${stored} of ${total} steps stored)`);

    const resumed = await ptalign(["run", file, "--out", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const cells = (JSON.parse(resumed.stdout) as { cells: CellJson[] }).cells;
    assert.ok(cells.some((c) => c.status === "skipped"), "cells finished before the kill are not run again");
    assert.deepEqual(
      cells.map((c) => [c.hash, c.metrics, c.verdict]),
      expected.map((c) => [c.hash, c.metrics, c.verdict]),
    );

    const conn = new Database(db, { readonly: true });
    try {
      const n = (conn.prepare("SELECT count(*) AS n FROM steps").get() as { n: number }).n;
      assert.equal(n, total, "exactly one row per step");
      const perRun = conn.prepare("SELECT run_id, run_index, count(*) AS n, min(t) AS lo, max(t) AS hi, count(DISTINCT t) AS d FROM steps GROUP BY run_id, run_index").all() as { n: number; lo: number; hi: number; d: number }[];
      assert.equal(perRun.length, 6 * runs);
      for (const r of perRun) assert.deepEqual([r.n, r.lo, r.hi, r.d], [steps, 0, steps - 1, steps]);
      const statuses = conn.prepare("SELECT status, count(*) AS n FROM runs GROUP BY status").all();
      assert.deepEqual(statuses, [{ status: "done", n: 6 }]);
    } finally {
      conn.close();
    }
  });
});

describe("a study cell is the same measurement as ptalign run", () => {
  it("equal steps, metrics and verdict for the same settings", async () => {
    const { parseStudy } = await import("../../src/study/spec.ts");
    const { runStudy } = await import("../../src/study/run.ts");
    const { measure } = await import("../../src/run.ts");
    const { parseDist } = await import("../../src/distributions/index.ts");
    const { DEFAULT_TEMPLATE } = await import("../../src/protocols/index.ts");
    const dir = await tempDir();
    const study = parseStudy("models: [\"sim:d?repeat=1\"]\ntargets: [extreme]\ntemperatures: [0.7]\nseeds: [5]\nsteps: 15\nruns: 4\n", join(dir, "s.yaml"));
    const [cell] = await runStudy(study, join(dir, "out"));
    const single = await measure({ model: "sim:d?repeat=1", target: parseDist("extreme"), protocol: "sequential", settings: { steps: 15, runs: 4, temperature: 0.7, seed: 5, prune: 1e-7 }, template: DEFAULT_TEMPLATE });
    assert.equal(cell!.status, "done");
    assert.deepEqual(cell!.result!.runs, single.runs);
    assert.deepEqual(cell!.result!.metrics, single.metrics);
    assert.deepEqual(cell!.result!.verdict, single.verdict);
  });
});
