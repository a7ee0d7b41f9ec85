// The recorder's step listener returns a promise and is correct whether the protocol awaits it or not; a store
// written by a newer ptalign is refused in one line.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { openRecorder } from "../../src/store/recorder.ts";
import { openStore } from "../../src/store/registry.ts";
import type { Result, Run, Step } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const target = { support: ["a", "b"], probs: [0.5, 0.5] };
const step = (t: number): Step => ({ t, ptoken: [0.5, 0.5], leak: 0, sample: "a", outside: ["b"], unknown: 0.1 });

describe("recorder", () => {
  it("steps not awaited by the caller are all stored before finish completes; the export has every field", async () => {
    const dir = await tempDir();
    const rec = await openRecorder(dir, { id: "r", model: "m", protocol: "sequential", target, settings: { steps: 5, runs: 1 } });
    const run: Run = { seed: 1, steps: [] };
    for (let t = 0; t < 5; t++) {
      run.steps.push(step(t));
      void rec.onStep(0, step(t), run); // a protocol that does not await
    }
    const metrics = { atvd: 0, marginal_tvd: 0, sample_tvd: null, volatility: 0, concentration: 0.5, entropy_ratio: 1, e_score: 1, leak: 0, chi2: null, chi2_p: null, w1: null };
    const result: Result & { id: string } = { version: 1, model: "m", protocol: "sequential", target, runs: [run], metrics, verdict: { type: "E", reasons: [], ci: { atvd: [0, 0], volatility: [0, 0] } }, settings: { steps: 5, runs: 1 }, id: "r" };
    const file = await rec.finish(result);
    await rec.close();
    assert.deepEqual(JSON.parse(readFileSync(file!, "utf8")), result);
  });

  it("a failed write surfaces at finish (never an unhandled rejection)", async () => {
    const dir = await tempDir();
    const rec = await openRecorder(dir, { id: "r", model: "m", protocol: "sequential", target, settings: {} });
    const run: Run = { seed: 1, steps: [] };
    void rec.onStep(0, { ...step(0), ptoken: undefined as unknown as number[] }, run); // ptoken NOT NULL: the insert fails
    await assert.rejects(rec.finish({ version: 1, model: "m", protocol: "sequential", target, runs: [run], metrics: {} as Result["metrics"], verdict: { type: "E", reasons: [], ci: { atvd: [0, 0], volatility: [0, 0] } }, id: "r" }), /NOT NULL|constraint/i);
    await rec.close();
  });

  it("a store written by a newer ptalign: readers and writers refuse in one line (exit 2)", async () => {
    const dir = await tempDir();
    await (await openStore(dir, { write: true })).close();
    const db = new Database(join(dir, "ptalign.db"));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    for (const args of [["ls", dir], ["run", "--model", "sim:d", "--target", "extreme", "--steps", "2", "--runs", "1", "--out", dir]]) {
      const r = await ptalign(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^ptalign: .*ptalign\.db was written by a newer ptalign \(store schema 99, this one reads up to 2\): upgrade ptalign/);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
  });
});
