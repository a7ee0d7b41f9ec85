// Two identical studies started at once (issue 13): a cell another live process is measuring is waited for and taken
// as stored, never measured twice; a lease left by a process that died is taken over once it lapses (issue 20
// item 11: a lease, not a PID, so a reused PID cannot make a rerun wait forever).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/registry.ts";
import { runStudy } from "../../src/study/run.ts";
import { parseStudy } from "../../src/study/spec.ts";
import { ptalign, type CliResult } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

// Child processes: two live processes writing one store is the subject (claims held by another process id).
const start = (args: string[]): Promise<CliResult> => ptalign(args, { child: "concurrent writers" });

/** Polls the store until some process holds a lease (the first study is measuring), reading it without writing. */
async function firstClaim(db: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    try {
      const conn = new Database(db, { readonly: true, fileMustExist: true });
      try {
        const row = conn.prepare("SELECT cell FROM leases LIMIT 1").get() as { cell: string } | undefined;
        if (row) return row.cell;
      } finally {
        conn.close();
      }
    } catch {
      /* not created yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the first study never claimed a cell");
}

interface Out {
  cells: { cell: number; hash: string; status: string }[];
}

describe("concurrent studies", () => {
  it("two identical studies at once: every cell is measured by exactly one of them, the other takes it as stored", async () => {
    const dir = await tempDir();
    const study = join(dir, "s.yaml");
    await writeFile(study, "models: [sim:d, sim:e]\ntargets: [extreme, flat, \"uniform(1,6)\"]\nsteps: 60\nruns: 3\n");
    const out = join(dir, "res");
    const a = start(["run", study, "--out", out, "--json"]);
    const claimed = await firstClaim(join(out, "ptalign.db"));
    const b = start(["run", study, "--out", out, "--json"]);
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const oa = JSON.parse(ra.stdout) as Out;
    const ob = JSON.parse(rb.stdout) as Out;
    assert.equal(oa.cells.length, 6);
    for (const c of oa.cells) {
      const other = ob.cells.find((x) => x.cell === c.cell)!;
      assert.deepEqual([c.status, other.status].sort(), ["done", "skipped"], `cell ${c.cell} measured by exactly one process (${c.status}, ${other.status})`);
    }
    // The cell the first study held when the second started was not measured by the second.
    assert.equal(ob.cells.find((c) => c.hash === claimed)!.status, "skipped");
    const store = (await openStore(out))!;
    try {
      const runs = await store.listRuns();
      assert.equal(runs.length, 6, "one measurement per cell");
      assert.ok(runs.every((r) => r.status === "done"));
      assert.equal(await store.totalSteps(), 6 * 3 * 60);
      assert.equal((await store.claimedCells()).length, 0, "claims are released");
    } finally {
      await store.close();
    }
  });

  it("a lease left by a process that is gone is taken over once it lapses; an unexpired one is waited for", async () => {
    const dir = await tempDir();
    const study = join(dir, "s.yaml");
    await writeFile(study, "models: [sim:e]\ntargets: [extreme]\nsteps: 5\nruns: 1\n");
    const out = join(dir, "res");
    const plan = await ptalign(["run", study, "--out", out, "--dry-run", "--json"]);
    const hash = (JSON.parse(plan.stdout) as Out).cells[0]!.hash;
    await (await openStore(out, { write: true })).close();
    // A worker that died holding the cell, whose pid is now a live process's (the test runner's parent: a reused pid
    // proves nothing, so the lease is waited out), its lease lapsing 1.5 s from now.
    const db = new Database(join(out, "ptalign.db"));
    const expires = Date.now() + 1500;
    db.prepare("INSERT INTO leases (cell, owner, expires) VALUES (?, ?, ?)").run(hash, `${(await import("node:os")).hostname()}:${process.ppid}:dead`, expires);
    db.close();
    const r = await ptalign(["run", study, "--out", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Out).cells[0]!.status, "done");
    assert.ok(Date.now() >= expires, "the unexpired lease was waited for");
  });

  it("a worker stalled past its lease while another took the cell over does not finish the cell: the holder does", async () => {
    const dir = await tempDir();
    const out = join(dir, "res");
    const study = parseStudy("models: [sim:e]\ntargets: [extreme]\nsteps: 3\nruns: 1\nlease_seconds: 0.1\n", join(dir, "s.yaml"));
    const other = `${(await import("node:os")).hostname()}:${process.ppid}:other`; // alive: only its lease lapsing frees the cell
    let db: Database.Database | undefined;
    let stalled = false;
    const ownersAtEnd: string[] = [];
    const steps: number[] = [];
    const outcomes = await runStudy(study, out, {
      onStep() {
        steps.push(1);
        if (stalled || steps.length < 3) return;
        // The last step, then a stall of 250 ms (no renewal can fire: the 100 ms lease lapses), during which another
        // worker takes the cell over, holding it 400 ms.
        stalled = true;
        const until = Date.now() + 250;
        while (Date.now() < until);
        db = new Database(join(out, "ptalign.db"));
        db.prepare("UPDATE leases SET owner = ?, expires = ?").run(other, Date.now() + 400);
      },
      onCellEnd() {
        ownersAtEnd.push((db!.prepare("SELECT owner FROM leases").get() as { owner: string } | undefined)?.owner ?? "none");
      },
    });
    db?.close();
    assert.ok(stalled);
    assert.deepEqual(outcomes.map((o) => o.status), ["done"]);
    assert.equal(ownersAtEnd.length, 1, "finished once");
    assert.notEqual(ownersAtEnd[0], other, "finished by the lease's holder, after the other's lease lapsed, not by the stalled worker under the other's lease");
    assert.equal(steps.length, 3, "the finished run was kept, not measured again");
  });
});
