// test-process: own — child processes stopped by signals, ~20 CPU-s (test/support/suite.ts)
// Ctrl-C and SIGTERM (issue 20.11), for run and a study each. The subject is a process, so each case spawns
// bin/ptalign.js, waits until the store holds some steps (read from another connection, never written), sends the
// signal, and checks the exit code, the one line on stderr (no "internal error", no stack), what the store keeps
// (status "interrupted", the steps, no claim left, no temporary file) and that the same command resumes the
// measurement to exactly the result of an uninterrupted one; interrupted in a results directory that already holds a
// result, that result is kept byte for byte with all its steps (test/support/stored.ts).
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { claimsHeld as claims, interruptAfter, spawnCli, stepsStored, waitFor } from "../support/process.ts";
import { assertNothingLost, noTemp, oneLine, snapshot } from "../support/stored.ts";
import { tempDir } from "../support/tmp.ts";
import { startFakeServer, type FakeServer } from "../remote/fakeServer.ts";


interface Listed {
  id: string;
  status: string;
  error: string | null;
  progress: { steps: number; planned: number | null };
}
async function listed(dir: string): Promise<Listed[]> {
  const r = await ptalign(["ls", dir, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed[];
}

interface RunJson {
  id: string;
  runs: unknown[];
  metrics: unknown;
  verdict: unknown;
}

describe("signals: Ctrl-C and SIGTERM", () => {
  it("run: SIGINT after some steps → exit 130, one line, the steps kept as interrupted; the same command resumes to the uninterrupted result", async () => {
    const dir = await tempDir();
    const out = join(dir, "res");
    const args = ["run", "--model", "sim:d", "--target", "extreme", "--steps", "1000", "--runs", "3", "--seed", "11"];
    const { child, exit } = spawnCli([...args, "--out", out]);
    // Run 0 complete (1000 steps) and run 1 under way.
    await waitFor("1100 stored steps", () => stepsStored(out) >= 1100);
    child.kill("SIGINT");
    const r = await exit;
    assert.equal(r.code, 130, r.stderr);
    oneLine(r, /^ptalign: interrupted \(SIGINT\): \d+ steps kept in .*res \(measurement [^)]+\); run the same command again to resume$/);
    noTemp(dir);

    const [rec] = await listed(out);
    assert.equal(rec!.status, "interrupted");
    assert.match(rec!.error ?? "", /^interrupted: SIGINT after \d+ steps$/);
    assert.ok(rec!.progress.steps >= 1100 && rec!.progress.steps < 3000, `steps kept: ${rec!.progress.steps}`);
    assert.equal(claims(out), 0, "the claim was given back");
    assert.ok(existsSync(join(out, "runs", `${rec!.id}.partial.json`)), "the partial export is written");

    const whole = await ptalign([...args, "--json", "--no-save"]);
    assert.equal(whole.code, 0, whole.stderr);
    const resumed = await ptalign([...args, "--out", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed the interrupted measurement .* \([12] of 3 runs kept from before/);
    const a = JSON.parse(whole.stdout) as RunJson;
    const b = JSON.parse(resumed.stdout) as RunJson;
    assert.equal(b.id, rec!.id, "the same measurement, continued");
    assert.deepEqual(b.runs, a.runs);
    assert.deepEqual(b.metrics, a.metrics);
    const after = await listed(out);
    assert.deepEqual(after.map((x) => [x.id, x.status, x.progress.steps]), [[rec!.id, "done", 3000]]);
    assert.deepEqual(readdirSync(join(out, "runs")), [`${rec!.id}.json`], "the partial export is replaced by the result");
  });

  it("probe --counterfactual: SIGINT → exit 130, one line saying a probe is not resumed, the steps kept as interrupted", async () => {
    const dir = await tempDir();
    const out = join(dir, "res");
    const { child, exit } = spawnCli(["probe", "--model", "sim:d-plan", "--target", "extreme", "--steps", "20000", "--runs", "1", "--counterfactual", "--out", out]);
    await waitFor("200 stored steps", () => stepsStored(out) >= 200);
    child.kill("SIGINT");
    const r = await exit;
    assert.equal(r.code, 130, r.stderr);
    oneLine(r, /^ptalign: interrupted \(SIGINT\): \d+ steps kept in .*res \(measurement [^)]+\); this measurement is not resumed \(a probe\): run the command again for a complete one$/);
    const [rec] = await listed(out);
    assert.equal(rec!.status, "interrupted");
    assert.ok(rec!.progress.steps >= 200 && rec!.progress.steps < 20000, `steps kept: ${rec!.progress.steps}`);
  });

  it("study: SIGTERM → exit 143, the cell in progress interrupted with its claim released; the same command finishes it as an uninterrupted study", async () => {
    const dir = await tempDir();
    const study = join(dir, "s.yaml");
    await writeFile(study, "models: [sim:d]\ntargets: [extreme, flat]\nsteps: 1500\nruns: 2\nseeds: [3]\n");
    const out = join(dir, "res");
    const { child, exit } = spawnCli(["run", study, "--out", out]);
    await waitFor("700 stored steps", () => stepsStored(out) >= 700);
    child.kill("SIGTERM");
    const r = await exit;
    assert.equal(r.code, 143, r.stderr);
    oneLine(r, /^ptalign: interrupted \(SIGTERM\): [01] of 2 cells are finished in .*res, the cell in progress keeps its steps; run the same command again to resume$/);
    assert.equal(claims(out), 0, "no claim is left behind");
    const statuses = (await listed(out)).map((x) => x.status);
    assert.ok(statuses.includes("interrupted"), `statuses: ${statuses.join(", ")}`);

    const resumed = await ptalign(["run", study, "--out", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const fresh = await ptalign(["run", study, "--out", join(dir, "fresh"), "--json"]);
    assert.equal(fresh.code, 0, fresh.stderr);
    const cells = (s: string) => (JSON.parse(s) as { cells: { hash: string; metrics: unknown; verdict: unknown }[] }).cells.map((c) => [c.hash, c.metrics, c.verdict]);
    assert.deepEqual(cells(resumed.stdout), cells(fresh.stdout));
    assert.deepEqual((await listed(out)).map((x) => x.status), ["done", "done"]);
  });

  it("run: SIGTERM, then a study: SIGINT, into a results directory that already holds a result → exit 143 / 130, one line each, no temporary file, the stored result kept byte for byte with all its steps", async () => {
    const dir = await tempDir();
    const out = join(dir, "res");
    const made = await ptalign(["run", "--model", "sim:d", "--target", "extreme", "--steps", "5", "--runs", "2", "--out", out]);
    assert.equal(made.code, 0, made.stderr);
    const stored = await snapshot(out);

    const run = await interruptAfter(["run", "--model", "sim:d", "--target", "extreme", "--steps", "4000", "--seed", "3", "--out", out], out, stored.steps + 300, "SIGTERM");
    assert.equal(run.code, 143, run.stderr);
    oneLine(run, /^ptalign: interrupted \(SIGTERM\): \d+ steps kept in .*res \(measurement [^)]+\); run the same command again to resume$/);
    noTemp(dir);

    const study = join(dir, "s.yaml");
    await writeFile(study, "models: [sim:d]\ntargets: [extreme, flat]\nsteps: 1500\nruns: 2\n");
    const r = await interruptAfter(["run", study, "--out", out], out, stepsStored(out) + 300, "SIGINT");
    assert.equal(r.code, 130, r.stderr);
    oneLine(r, /^ptalign: interrupted \(SIGINT\): [01] of 2 cells are finished in .*res, the cell in progress keeps its steps; run the same command again to resume$/);
    noTemp(dir);

    await assertNothingLost(out, stored);
  });

  it("task codegen: SIGINT keeps the finished models and the finished problems of the one in progress, marked interrupted", async () => {
    const dir = await tempDir();
    const out = join(dir, "res");
    const { child, exit } = spawnCli(["task", "codegen", "--model", "sim:d", "--model", "sim:e", "--n", "6", "--runs", "2", "--out", out]);
    // The first model's result is stored when it is done; the second is then under way.
    await waitFor("the first task result", () => existsSync(join(out, "tasks")) && readdirSync(join(out, "tasks")).some((f) => f.endsWith(".json")));
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGINT");
    const r = await exit;
    assert.equal(r.code, 130, r.stderr);
    oneLine(r, /^ptalign: interrupted \(SIGINT\): 2 of 2 model results stored in .*tasks \(marked interrupted\), sim:e\S*: \d+ of \d+ problem runs finished; run the command again for complete results$/);
    const files = readdirSync(join(out, "tasks")).filter((f) => f.endsWith(".json"));
    assert.equal(files.length, 2);
    assert.ok(!readdirSync(join(out, "tasks")).some((f) => f.endsWith(".tmp")));
    const { loadTaskResults } = await import("../../src/tasks/store.ts");
    const [first, second] = (await loadTaskResults(out)) as unknown as { model: string; interrupted?: { done: number; total: number }; cells: unknown[] }[];
    assert.equal(first!.interrupted, undefined, "the first model finished");
    assert.ok(second!.interrupted && second!.interrupted.done > 0 && second!.interrupted.done < second!.interrupted.total);
    assert.equal(second!.cells.length, second!.interrupted.done, "every finished problem run is kept");
  });

  describe("a step that never ends (a server that stops answering)", () => {
    let srv: FakeServer;
    before(async () => {
      srv = await startFakeServer("vllm", { delayMs: 1 });
    });
    after(() => srv.close());

    it("the first Ctrl-C waits for the step, a second exits at once (130); the measurement left running is resumed by the same command", async () => {
      const dir = await tempDir();
      const out = join(dir, "res");
      const env = { PTALIGN_RETRY_BASE_MS: "5", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" };
      const args = ["run", "--model", "openai:m", "--base-url", srv.url, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "10", "--runs", "2", "--seed", "5", "--out", out];
      let answered = 0;
      let hanging = false;
      srv.fault = () => {
        if (answered++ < 8) return false;
        hanging = true;
        return true; // swallowed: the request hangs
      };
      const { child, exit } = spawnCli(args, { env });
      let exited = false;
      void exit.then(() => (exited = true));
      await waitFor("a hanging request", () => hanging);
      await new Promise((r) => setTimeout(r, 300));
      child.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(exited, false, "the first Ctrl-C waits for the step in flight");
      const second = Date.now();
      child.kill("SIGINT");
      const r = await exit;
      assert.ok(Date.now() - second < 3000, `the second Ctrl-C took ${Date.now() - second} ms`);
      assert.equal(r.code, 130);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      srv.fault = undefined;

      // Nothing could mark it: it is left running, with a claim held by a process that is gone — taken over.
      const [rec] = await listed(out);
      assert.equal(rec!.status, "running");
      const resumed = await ptalign([...args, "--json"], { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /resumed the interrupted measurement/);
      const whole = await ptalign([...args.filter((a) => a !== out && a !== "--out"), "--json", "--no-save"], { env });
      assert.equal(whole.code, 0, whole.stderr);
      assert.deepEqual((JSON.parse(resumed.stdout) as RunJson).runs, (JSON.parse(whole.stdout) as RunJson).runs);
      assert.deepEqual((await listed(out)).map((x) => [x.id, x.status]), [[rec!.id, "done"]]);
    });
  });
});
