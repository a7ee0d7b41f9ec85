// Issue 20, item 6: rescaling never overflows ([1e308, 1e308] → [0.5, 0.5], not [0, 0]).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseDist, validateTarget } from "../../src/distributions/parse.ts";
import { parseTargetFile } from "../../src/distributions/targetFile.ts";
import { drawIndex, makeRng, normalise } from "../../src/rng.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("normalisation without overflow", () => {
  it("normalise: huge, tiny and ordinary weights", () => {
    assert.deepEqual(normalise([1e308, 1e308]), [0.5, 0.5]);
    assert.deepEqual(normalise([1.7e308, 1.7e308, 0]), [0.5, 0.5, 0]);
    assert.deepEqual(normalise([5e-324, 5e-324]), [0.5, 0.5]);
    assert.deepEqual(normalise([0, 0]), [0, 0]);
    // Ordinary weights: exactly the plain division (results stored before stay bit-identical).
    const w = [0.1, 0.7, 0.2, 3e-5];
    const sum = w.reduce((a, b) => a + b, 0);
    assert.deepEqual(normalise(w), w.map((x) => x / sum));
  });
  it("targets: --normalize and counts of 1e308", () => {
    assert.deepEqual(validateTarget({ support: ["a", "b"], probs: [1e308, 1e308] }, { normalize: true }).probs, [0.5, 0.5]);
    assert.deepEqual(parseTargetFile("a,1e308\nb,1e308\n", "t.csv").probs, [0.5, 0.5]);
    assert.deepEqual(parseDist("{a:1e308,b:3e307}", { normalize: true }).probs.map((p) => +p.toFixed(12)), [0.769230769231, 0.230769230769]);
  });
  it("drawIndex draws in proportion when the weights' sum overflows", () => {
    const rng = makeRng(1);
    const counts = [0, 0];
    for (let i = 0; i < 2000; i++) counts[drawIndex([1e308, 1e308], rng)]!++;
    assert.ok(counts[0]! > 800 && counts[1]! > 800, String(counts));
  });
  it("metrics --ptoken [1e308,1e308] --normalize: [0.5, 0.5], atvd 0; --target-file counts of 1e308 give a target, not an error", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "big.json"), "[[[1e308,1e308],[1e308,1e308]]]");
    await writeFile(join(dir, "half.json"), "[[[0.5,0.5],[0.5,0.5]]]");
    await writeFile(join(dir, "t.csv"), "a,1e308\nb,1e308\n");
    const m = await ptalign(["metrics", "--target", "{a:0.5,b:0.5}", "--ptoken", join(dir, "big.json"), "--normalize", "--json"]);
    assert.equal(m.code, 0, m.stderr);
    const r = JSON.parse(m.stdout) as { runs: { steps: { ptoken: number[] }[] }[]; metrics: { atvd: number } };
    assert.deepEqual(r.runs[0]!.steps[0]!.ptoken, [0.5, 0.5]);
    assert.equal(r.metrics.atvd, 0);
    const f = await ptalign(["metrics", "--target-file", join(dir, "t.csv"), "--ptoken", join(dir, "half.json"), "--json"]);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual((JSON.parse(f.stdout) as { target: { probs: number[] } }).target.probs, [0.5, 0.5]);
    const run = await ptalign(["run", "--model", "sim:d", "--target-file", join(dir, "t.csv"), "--steps", "3", "--runs", "1", "--no-save", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok((JSON.parse(run.stdout) as { runs: { steps: { sample: string }[] }[] }).runs[0]!.steps.every((s) => s.sample === "a" || s.sample === "b"));
  });
});
