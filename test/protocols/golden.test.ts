// The one protocol loop reproduces, key for key, what the three loops before it wrote for
// `ptalign run --model sim:d --target extreme --steps 20 --runs 3 --seed 7 --json` (test/fixtures, written by that code).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parseSimSpec } from "../../src/backends/sim.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import { simulateRuns } from "../../src/protocols/simulate.ts";
import { measure } from "../../src/run.ts";

const fixture = JSON.parse(await readFile(new URL("../fixtures/sim-d-extreme-20x3-seed7.json", import.meta.url), "utf8")) as Record<string, unknown>;

/** `actual` restricted to the keys `expected` has, recursively (new additive keys are allowed). */
function only(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual)) return actual.map((a, i) => only(a, expected[i]));
  if (expected && typeof expected === "object" && actual && typeof actual === "object" && !Array.isArray(actual)) {
    return Object.fromEntries(Object.keys(expected).map((k) => [k, only((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k])]));
  }
  return actual;
}

describe("golden run: sim:d, extreme, 20 steps × 3 runs, seed 7, sequential", () => {
  const settings = { steps: 20, runs: 3, temperature: 1, seed: 7, prune: 1e-7 };
  it("measure() gives exactly the fixture's steps, metrics, verdict and settings", async () => {
    const result = await measure({ model: "sim:d", target: parseDist("extreme"), protocol: "sequential", settings, template: DEFAULT_TEMPLATE });
    for (const key of ["model", "protocol", "target", "runs", "metrics", "verdict", "settings"]) {
      assert.deepEqual(only((result as unknown as Record<string, unknown>)[key], fixture[key]), fixture[key], key);
    }
  });
  it("simulateRuns (the synchronous sim loop) gives the same runs as measure()", async () => {
    const result = await measure({ model: "sim:d", target: parseDist("extreme"), protocol: "sequential", settings, template: DEFAULT_TEMPLATE });
    assert.deepEqual(simulateRuns(parseSimSpec("sim:d"), parseDist("extreme"), settings), result.runs);
  });
  it("onStep is awaited before the run's next step", async () => {
    const seen: string[] = [];
    await measure({
      model: "sim:d",
      target: parseDist("extreme"),
      protocol: "sequential",
      settings: { ...settings, steps: 3, runs: 2 },
      template: DEFAULT_TEMPLATE,
      onStep: async (r, step) => {
        seen.push(`start ${r}.${step.t}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(`end ${r}.${step.t}`);
      },
    });
    assert.deepEqual(seen, ["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"].flatMap((s) => [`start ${s}`, `end ${s}`]));
  });
});
