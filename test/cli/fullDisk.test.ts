// test-process: own — a tmpfs mounted for this file (top-level hooks), child processes (test/support/suite.ts)
// A full disk (issue 20.10), on a real full file system: a 16 MB tmpfs (SQLite's write-ahead log grows to ~4 MB
// before it is checkpointed, so a smaller one could never hold the resumed run) mounted for this file (root), filled with a
// filler file to the byte, or to a few hundred KB short so that a run fills it part way. Every command (run, a study,
// task codegen, report, export) says so in one line (no "internal error", no stack) and exits 1, leaves no temporary
// file, and a rerun once there is room resumes the run to the uninterrupted result; the results a command read are
// kept byte for byte (test/support/stored.ts). Standard output on /dev/full (ls, export, run --json) is the same one
// line, in a child process (the process's own stdout is the subject), with the same checks. Without the right to
// mount (not root, or no CAP_SYS_ADMIN) the tmpfs cases are skipped, saying why: filling a shared tmpfs (/dev/shm)
// would starve the other processes of the machine.
import assert from "node:assert/strict";
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { ptalign } from "../support/cli.ts";
import { mountSmallDisk, type FullDisk } from "../support/fullDisk.ts";
import { spawnCli } from "../support/process.ts";
import { assertNothingLost, noTemp, oneLine, snapshot, type Stored } from "../support/stored.ts";
import { tempDir } from "../support/tmp.ts";

let disk: FullDisk;
let mnt = "";
before(async () => {
  disk = await mountSmallDisk();
  mnt = disk.dir;
});
after(() => disk.unmount());
const fill = (spare?: number) => disk.fill(spare);
const unfill = () => disk.unfill();


const cli = (args: string[]) => ptalign(args, { env: { PTALIGN_DEBUG: "" } });

describe("a full disk", () => {
  it("run --out on a file system that fills part way: one line, exit 1; once there is room the same command resumes it to the uninterrupted result", async (t) => {
    if (!disk.mounted) return t.skip(disk.why);
    const out = join(mnt, "r");
    const args = ["run", "--model", "sim:d", "--target", "extreme", "--steps", "1500", "--runs", "2", "--seed", "5"];
    fill(200 * 1024);
    try {
      const r = await cli([...args, "--out", out]);
      assert.equal(r.code, 1, r.stderr);
      oneLine(r, /^ptalign: no space left on the device while writing the results in .*r \(measurement \S+\) \(SQLITE_FULL\): the steps written before are kept; free some space .*then run the same command again to resume$/);
      noTemp(mnt);
    } finally {
      unfill();
    }
    const db = new Database(join(out, "ptalign.db"), { readonly: true });
    const stored = (db.prepare("SELECT count(*) AS n FROM steps").get() as { n: number }).n;
    db.close();
    assert.ok(stored > 0 && stored < 3000, `steps stored before the disk filled: ${stored}`);

    const resumed = await cli([...args, "--out", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed the interrupted measurement/);
    const whole = await cli([...args, "--json", "--no-save"]);
    const runsOf = (s: string) => (JSON.parse(s) as { runs: unknown }).runs;
    assert.deepEqual(runsOf(resumed.stdout), runsOf(whole.stdout));
    const ls = JSON.parse((await cli(["ls", out, "--json"])).stdout) as { status: string; progress: { steps: number } }[];
    assert.deepEqual(ls.map((x) => [x.status, x.progress.steps]), [["done", 3000]]);
    rmSync(out, { recursive: true });
  });

  it("a study on a file system that fills part way: one line, exit 1; the rerun with room finishes it as a fresh study", async (t) => {
    if (!disk.mounted) return t.skip(disk.why);
    const dir = await tempDir();
    const study = join(dir, "s.yaml");
    await writeFile(study, "models: [sim:d]\ntargets: [extreme, flat]\nsteps: 400\nruns: 2\nseeds: [9]\n");
    const out = join(mnt, "s");
    fill(200 * 1024);
    try {
      const r = await cli(["run", study, "--out", out]);
      assert.equal(r.code, 1, r.stderr);
      oneLine(r, /^ptalign: no space left on the device (while writing the results in .*s: [01] of 2 cells are finished|\(SQLITE_FULL\) writing the results store).*run the same command again/);
      noTemp(mnt);
    } finally {
      unfill();
    }
    const resumed = await cli(["run", study, "--out", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const fresh = await cli(["run", study, "--out", join(dir, "fresh"), "--json"]);
    const cells = (s: string) => (JSON.parse(s) as { cells: { hash: string; metrics: unknown }[] }).cells.map((c) => [c.hash, c.metrics]);
    assert.deepEqual(cells(resumed.stdout), cells(fresh.stdout));
    rmSync(out, { recursive: true });
  });

  it("run, task codegen, report and export on a full file system: one line, exit 1, no temporary file, nothing half written, the results read kept", async (t) => {
    if (!disk.mounted) return t.skip(disk.why);
    const src = await tempDir();
    const made = await cli(["run", "--model", "sim:e", "--target", "flat", "--steps", "20", "--out", src]);
    assert.equal(made.code, 0, made.stderr);
    const stored = await snapshot(src);
    mkdirSync(join(mnt, "t"));
    fill();
    try {
      // Full from the start: not even the store can be created.
      const run = await cli(["run", "--model", "sim:d", "--target", "extreme", "--steps", "50", "--out", join(mnt, "r2")]);
      assert.equal(run.code, 1, run.stderr);
      oneLine(run, /^ptalign: no space left on the device \((ENOSPC|SQLITE_FULL)\) writing .*: free some space or write elsewhere .*then run the same command again/);
      const task = await cli(["task", "codegen", "--model", "sim:d", "--n", "2", "--runs", "1", "--out", join(mnt, "t")]);
      assert.equal(task.code, 1, task.stderr);
      oneLine(task, /^ptalign: no space left on the device \((ENOSPC|SQLITE_FULL)\) writing .*: free some space or write elsewhere/);
      const report = await cli(["report", src, "--out", join(mnt, "r.html")]);
      assert.equal(report.code, 1, report.stderr);
      oneLine(report, /^ptalign: no space left on the device \(ENOSPC\) writing .*r\.html: free some space/);
      assert.ok(!existsSync(join(mnt, "r.html")));
      const exported = await cli(["export", src, "--out", join(mnt, "steps.csv")]);
      assert.equal(exported.code, 1, exported.stderr);
      oneLine(exported, /^ptalign: no space left on the device \(ENOSPC\) writing .*steps\.csv: free some space/);
      assert.ok(!existsSync(join(mnt, "steps.csv")));
      noTemp(mnt);
    } finally {
      unfill();
    }
    noTemp(src);
    await assertNothingLost(src, stored);
  });

  describe("standard output on /dev/full", () => {
    let src = "";
    let stored: Stored;
    before(async () => {
      src = await tempDir();
      const made = await cli(["run", "--model", "sim:d", "--target", "extreme", "--steps", "30", "--out", src]);
      assert.equal(made.code, 0, made.stderr);
      stored = await snapshot(src);
    });
    for (const [name, args] of [
      ["ls", () => ["ls", src]],
      ["export", () => ["export", src]],
      ["run --json", () => ["run", "--model", "sim:d", "--target", "extreme", "--steps", "5", "--json", "--no-save"]],
    ] as const) {
      it(`${name} > /dev/full: one line, exit 1, no temporary file, the results read kept`, async () => {
        const full = openSync("/dev/full", "w");
        try {
          const r = await spawnCli([...args()], { stdout: full }).exit;
          assert.equal(r.code, 1, r.stderr);
          oneLine(r, /^ptalign: no space left on the device \(ENOSPC\) writing the output: free some space or write elsewhere/);
        } finally {
          closeSync(full);
        }
        noTemp(src);
        await assertNothingLost(src, stored);
      });
    }
  });
});
