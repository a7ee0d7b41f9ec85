import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import type { Result } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { dLikeExpected, MULTI_TOKEN_LEAK, MULTI_TOKEN_RAW, writeDLikeModel, writeMultiTokenModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

const close = (a: number, b: number, tol = 1e-4) => Math.abs(a - b) <= tol;
const tv = (a: number[], b: number[]) => a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0) / 2;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("ptalign run --json on generated GGUF models (real engine)", () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });

  it("reports the known per-step P_token of a D-like model and the atvd/volatility they imply", async () => {
    const model = await writeDLikeModel(dir);
    const out = join(dir, "results");
    const res = await ptalign(["run", "--model", model, "--target", "extreme", "--steps", "12", "--runs", "3", "--json", "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    assert.equal(result.runs.length, 3);
    const p = [0.1, 0.7, 0.1, 0.1];
    const atvds: number[] = [];
    const vols: number[] = [];
    for (const run of result.runs) {
      assert.equal(run.steps.length, 12);
      // The model's next distribution depends only on the previous sample: the expected q_t follows from the samples.
      const expected = run.steps.map((s, t) => dLikeExpected(t === 0 ? null : run.steps[t - 1]!.sample));
      run.steps.forEach((s, t) => {
        s.ptoken.forEach((q, i) => assert.ok(close(q, expected[t]![i]!), `run ${run.seed} step ${t}: ptoken ${s.ptoken} vs ${expected[t]}`));
        assert.ok(s.leak < 1e-6);
      });
      atvds.push(mean(expected.map((q) => tv(q, p))));
      vols.push(mean(expected.slice(1).map((q, t) => tv(q, expected[t]!))));
    }
    assert.ok(close(result.metrics.atvd, mean(atvds)), `atvd ${result.metrics.atvd} vs ${mean(atvds)}`);
    assert.ok(close(result.metrics.volatility, mean(vols)), `volatility ${result.metrics.volatility} vs ${mean(vols)}`);
    assert.ok(result.metrics.volatility > 0.5); // the peak moves every step: TV .92 between consecutive steps
    // The run is stored in the results directory as the same JSON.
    const files = await readdir(join(out, "runs"));
    assert.equal(files.length, 1);
    const stored = JSON.parse(await readFile(join(out, "runs", files[0]!), "utf8")) as Result;
    assert.deepEqual(stored.metrics, result.metrics);
  });

  it("scores multi-token answers (1..12, with 1 a prefix of 10, 11, 12) exactly at every step", async () => {
    const model = await writeMultiTokenModel(dir);
    const res = await ptalign(["run", "--model", model, "--target", "uniform(1,12)", "--steps", "5", "--runs", "2", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    const total = Object.values(MULTI_TOKEN_RAW).reduce((a, b) => a + b, 0); // .795
    const expected = result.target.support.map((a) => (MULTI_TOKEN_RAW[a] ?? 0) / total);
    for (const run of result.runs) {
      for (const step of run.steps) {
        step.ptoken.forEach((q, i) => assert.ok(close(q, expected[i]!), `step ${step.t} answer ${result.target.support[i]}: ${q} vs ${expected[i]}`));
        assert.ok(close(step.leak, MULTI_TOKEN_LEAK), `leak ${step.leak}`);
        assert.ok(Object.keys(MULTI_TOKEN_RAW).includes(step.sample!), `sample ${step.sample}`);
      }
    }
    // Every step has the same q (the model only sees the last token, always ","), so atvd = TV(q, uniform) and volatility = 0.
    assert.ok(close(result.metrics.atvd, tv(expected, result.target.probs)));
    assert.ok(close(result.metrics.volatility, 0));
  });

  it("is reproducible: the same seed gives the same samples", async () => {
    const model = await writeDLikeModel(dir);
    const args = ["run", "--model", model, "--target", "extreme", "--steps", "8", "--runs", "2", "--seed", "7", "--json", "--no-save"];
    const [a, b] = await Promise.all([ptalign(args), ptalign(args)]);
    const samples = (s: string) => (JSON.parse(s) as Result).runs.map((r) => r.steps.map((x) => x.sample));
    assert.deepEqual(samples(a.stdout), samples(b.stdout));
  });
});
