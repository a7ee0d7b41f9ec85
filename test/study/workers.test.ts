// test-process: own — worker processes and a PostgreSQL server (top-level hooks) (test/support/suite.ts)
// Several worker processes running one study into one PostgreSQL store (issue 21 item 2): they split the cells, none
// measured twice; a worker killed with SIGKILL mid-cell lets its lease lapse and another takes the cell over, keeping
// its finished run parts; a database restarted mid-run is waited for. Counted in the database: cells, duplicated
// steps, lost steps, and the time a takeover took. Child processes: concurrent processes and kill -9 are the subject.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { BIN } from "../support/cli.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { tempDir } from "../support/tmp.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Worker {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function worker(study: string, url: string, env: NodeJS.ProcessEnv = {}): Worker {
  const child = spawn(process.execPath, [BIN, "run", study, "--store", url, "--json"], { env: { ...process.env, CI: "1", PTALIGN_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

interface Out {
  cells: { cell: number; hash: string; status: string }[];
}

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

/** What the database holds: measurements per cell, steps stored vs planned, duplicates and losses. */
async function census(db: string, cells: number, runs: number, steps: number) {
  const [r] = await server.sql<{ measurements: number; cells: number; not_done: number; steps: number; parts: number; over: number }>(
    db,
    `SELECT (SELECT count(*)::int FROM ptalign_runs) AS measurements,
            (SELECT count(DISTINCT cell)::int FROM ptalign_runs) AS cells,
            (SELECT count(*)::int FROM ptalign_runs WHERE status <> 'done') AS not_done,
            (SELECT count(*)::int FROM ptalign_steps) AS steps,
            (SELECT count(*)::int FROM ptalign_run_parts) AS parts,
            (SELECT coalesce(sum(n - $1), 0)::int FROM (SELECT count(*) AS n FROM ptalign_steps GROUP BY run_id HAVING count(*) > $1) x) AS over`,
    [runs * steps],
  );
  const planned = cells * runs * steps;
  // A duplicated step would be a second measurement of a cell (its steps under another run id) or a step beyond the plan.
  const duplicated = (r!.measurements - r!.cells) * runs * steps + r!.over;
  return { ...r!, planned, duplicated, lost: Math.max(0, planned - r!.steps + duplicated) };
}

/** Each cell "done" in exactly one worker's output, "skipped" (taken as stored) in the others'. */
function measuredOnce(outs: Out[], cells: number): Map<string, number> {
  const by = new Map<string, number>();
  for (const o of outs) {
    assert.equal(o.cells.length, cells, "every worker accounts for every cell");
    for (const c of o.cells) {
      assert.ok(c.status === "done" || c.status === "skipped", `cell ${c.cell}: ${c.status}`);
      if (c.status === "done") by.set(c.hash, (by.get(c.hash) ?? 0) + 1);
    }
  }
  assert.equal(by.size, cells, "every cell measured");
  assert.deepEqual([...by.values()].filter((n) => n !== 1), [], "no cell measured twice");
  return by;
}

const say = (t: TestContext, line: string) => {
  t.diagnostic(line);
  if (process.env.PTALIGN_TEST_TIMES) process.stderr.write(`${line}\n`);
};

describe("study workers on one PostgreSQL store", () => {
  it("4 workers, 200 cells: every cell measured exactly once, 0 duplicated steps, 0 lost", async (t) => {
    const dir = await tempDir();
    const { url, name } = await server.newDatabase();
    const study = join(dir, "s.yaml");
    const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
    await writeFile(study, `models: [sim:d, sim:e]\ntargets: [extreme, flat, "uniform(1,6)", "binomial(4,0.5)", "{a:0.2,b:0.8}"]\nseeds: [${seeds.join(", ")}]\nsteps: 3\nruns: 1\n`);
    const t0 = Date.now();
    const workers = Array.from({ length: 4 }, () => worker(study, url, { PTALIGN_LEASE_SECONDS: "2" }));
    const results = await Promise.all(workers.map((w) => w.done));
    const wall = Date.now() - t0;
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const outs = results.map((r) => JSON.parse(r.stdout) as Out);
    measuredOnce(outs, 200);
    const c = await census(name, 200, 1, 3);
    assert.deepEqual([c.measurements, c.cells, c.not_done, c.steps, c.duplicated, c.lost], [200, 200, 0, 600, 0, 0]);
    const shares = outs.map((o) => o.cells.filter((x) => x.status === "done").length);
    assert.ok(shares.filter((n) => n > 0).length >= 2, `the cells were split between workers (${shares.join(", ")})`);
    say(t, `4 workers × 200 cells: ${c.cells} cells measured once each (shares ${shares.join("/")}), ${c.duplicated} duplicated steps, ${c.lost} lost, ${wall} ms wall`);
  });

  it("kill -9 of a worker mid-cell: its lease lapses, another worker takes the cell over and keeps its finished run parts", async (t) => {
    const dir = await tempDir();
    const { url, name } = await server.newDatabase();
    const study = join(dir, "s.yaml");
    const [cells, runs, steps] = [4, 3, 60];
    await writeFile(study, `models: [sim:d]\ntargets: [extreme, flat]\nseeds: [1, 2]\nsteps: ${steps}\nruns: ${runs}\nlease_seconds: 2\n`);
    const a = worker(study, url);
    const b = worker(study, url);
    // Wait until A holds a cell whose run 0 is complete and run 1 has steps: mid-cell, with a finished part to keep.
    let victim: { cell: string; run: string } | undefined;
    for (let i = 0; i < 1200 && !victim; i++) {
      const rows = await server.sql<{ cell: string; run: string }>(
        name,
        `SELECT l.cell, r.id AS run FROM ptalign_leases l JOIN ptalign_runs r ON r.cell = l.cell
          WHERE l.owner LIKE $1 AND l.expires > clock_timestamp()
            AND EXISTS (SELECT 1 FROM ptalign_run_parts p WHERE p.run_id = r.id AND p.run_index = 0)
            AND EXISTS (SELECT 1 FROM ptalign_steps s WHERE s.run_id = r.id AND s.run_index = 1)
            AND NOT EXISTS (SELECT 1 FROM ptalign_run_parts p WHERE p.run_id = r.id AND p.run_index = 2)`,
        [`%:${a.child.pid}:%`],
      ).catch(() => []);
      victim = rows[0];
      if (!victim) await sleep(25);
    }
    assert.ok(victim, "worker A was caught mid-cell");
    // The rows of A's finished part, with their row versions: kept means never written again.
    const keptBefore = await server.sql<{ t: number; xmin: string }>(name, "SELECT t, xmin::text FROM ptalign_steps WHERE run_id = $1 AND run_index = 0 ORDER BY t", [victim.run]);
    a.child.kill("SIGKILL");
    const killed = Date.now();
    let takeover: number | undefined;
    for (let i = 0; i < 1200 && takeover === undefined; i++) {
      const [l] = await server.sql<{ owner: string | null }>(name, "SELECT owner FROM ptalign_leases WHERE cell = $1", [victim.cell]);
      const [r] = await server.sql<{ status: string }>(name, "SELECT status FROM ptalign_runs WHERE id = $1", [victim.run]);
      if ((l?.owner && !l.owner.includes(`:${a.child.pid}:`)) || r?.status === "done") takeover = Date.now() - killed;
      else await sleep(25);
    }
    const ra = await a.done;
    const rb = await b.done;
    assert.equal(ra.signal, "SIGKILL");
    assert.equal(rb.code, 0, rb.stderr);
    assert.ok(takeover !== undefined, "the cell was taken over");
    assert.ok(takeover >= 1000, `not before the lease could lapse (${takeover} ms)`);
    const out = JSON.parse(rb.stdout) as Out;
    assert.equal(out.cells.length, cells);
    assert.equal(out.cells.find((c) => c.hash === victim!.cell)!.status, "done", "B finished the killed worker's cell");
    const c = await census(name, cells, runs, steps);
    assert.deepEqual([c.measurements, c.cells, c.not_done, c.steps, c.parts, c.duplicated, c.lost], [cells, cells, 0, cells * runs * steps, cells * runs, 0, 0]);
    const keptAfter = await server.sql<{ t: number; xmin: string }>(name, "SELECT t, xmin::text FROM ptalign_steps WHERE run_id = $1 AND run_index = 0 ORDER BY t", [victim.run]);
    assert.deepEqual(keptAfter, keptBefore, "the finished run part was kept, not measured again");
    say(t, `kill -9 mid-cell (${cells} cells × ${runs} runs × ${steps} steps, lease 2 s): taken over ${takeover} ms after the kill; ${c.duplicated} duplicated steps, ${c.lost} lost; run 0 (${keptBefore.length} steps) kept`);
  });

  it("the database restarted mid-run: the workers retry and finish, nothing duplicated or lost", async (t) => {
    const dir = await tempDir();
    const { url, name } = await server.newDatabase();
    const study = join(dir, "s.yaml");
    const [cells, runs, steps] = [24, 2, 10];
    await writeFile(study, `models: [sim:d, sim:e]\ntargets: [extreme, flat]\nseeds: [1, 2, 3, 4, 5, 6]\nsteps: ${steps}\nruns: ${runs}\nlease_seconds: 20\n`);
    const workers = Array.from({ length: 3 }, () => worker(study, url));
    // Restarted once every worker is connected and working (a worker that cannot reach the database at its start
    // exits 2 by design: only one that loses it mid-run retries) and some cells are done.
    const owners = new Set<string>();
    for (let i = 0; i < 2400; i++) {
      const [r] = await server.sql<{ n: number }>(name, "SELECT count(*)::int AS n FROM ptalign_runs WHERE status = 'done'").catch(() => [{ n: 0 }]);
      const held = await server.sql<{ owner: string | null }>(name, "SELECT owner FROM ptalign_leases").catch(() => []);
      for (const h of held) if (h.owner) owners.add(h.owner);
      if (r!.n >= 3 && owners.size >= 3) break;
      await sleep(25);
    }
    assert.ok(owners.size >= 3, `every worker claimed a cell before the restart (${owners.size} seen)`);
    const t0 = Date.now();
    await server.restart(1000);
    const down = Date.now() - t0;
    const results = await Promise.all(workers.map((w) => w.done));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    measuredOnce(results.map((r) => JSON.parse(r.stdout) as Out), cells);
    const c = await census(name, cells, runs, steps);
    assert.deepEqual([c.measurements, c.cells, c.not_done, c.steps, c.duplicated, c.lost], [cells, cells, 0, cells * runs * steps, 0, 0]);
    say(t, `database down ${down} ms mid-run (3 workers, ${cells} cells): all finished, ${c.duplicated} duplicated steps, ${c.lost} lost`);
  });
});
