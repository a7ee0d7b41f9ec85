import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSimSpec, type SimModel } from "../../src/backends/sim.ts";
import { simulateRuns } from "../../src/protocols/simulate.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { InputError } from "../../src/errors.ts";
import { tv } from "../../src/metrics/index.ts";
import { makeRng } from "../../src/rng.ts";
import type { Target } from "../../src/types.ts";

const extreme: Target = parseDist("extreme");
const flat: Target = parseDist("flat");

function argmax(q: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < q.length; i++) if (q[i]! > q[best]!) best = i;
  return best;
}

function stepsOf(model: SimModel, target: Target, n: number, seed = 1): { ptoken: number[]; leak: number }[] {
  const rng = makeRng(seed);
  const history: number[] = [];
  const out: { ptoken: number[]; leak: number }[] = [];
  for (let t = 0; t < n; t++) {
    const s = model.step(target, history, rng);
    out.push(s);
    history.push(argmax(s.ptoken));
  }
  return out;
}

function sum(q: readonly number[]): number {
  return q.reduce((a, b) => a + b, 0);
}

describe("parseSimSpec", () => {
  it("parses families with defaults and a canonical spec", () => {
    const d = parseSimSpec("sim:d");
    assert.equal(d.family, "d");
    assert.deepEqual(d.params, { peak: 0.95, leak: 0.01, repeat: 0 });
    assert.equal(d.spec, "sim:d?peak=0.95&leak=0.01&repeat=0");
    const e = parseSimSpec("sim:e?noise=0.05");
    assert.equal(e.family, "e");
    assert.equal(e.params.noise, 0.05);
    assert.equal(e.spec, "sim:e?noise=0.05&leak=0.01&repeat=0");
    const c = parseSimSpec("sim:collapsed?mode=0&jitter=0");
    assert.deepEqual(c.params, { peak: 0.9, mode: 0, jitter: 0, leak: 0.01, repeat: 0 });
    assert.equal(c.spec, "sim:collapsed?peak=0.9&mode=0&jitter=0&leak=0.01&repeat=0");
    assert.equal(parseSimSpec("sim:collapsed").params.mode, undefined);
    // The canonical spec parses back to the same model.
    assert.equal(parseSimSpec(c.spec).spec, c.spec);
  });

  const bad: [string, RegExp][] = [
    ["sim:x", /unknown sim family "x".*valid families: d, e, collapsed/],
    ["sim:", /unknown sim family ""/],
    ["gguf:foo", /not a sim model spec/],
    ["sim:d?noise=0.1", /unknown parameter "noise" for sim:d.*valid parameters: peak .*leak .*repeat/],
    ["sim:d?peak=1.5", /bad value "1.5" for peak.*0 ≤ peak ≤ 1/],
    ["sim:d?peak=", /bad value "" for peak/],
    ["sim:d?peak", /bad value "" for peak/],
    ["sim:e?noise=abc", /bad value "abc" for noise/],
    ["sim:e?noise=-1", /bad value "-1" for noise/],
    ["sim:e?leak=1", /bad value "1" for leak/],
    ["sim:collapsed?mode=1.5", /bad value "1.5" for mode.*integer/],
    ["sim:collapsed?mode=-1", /bad value "-1" for mode/],
    ["sim:d?peak=0.9&peak=0.8", /given twice/],
    ["sim:d?repeat=Infinity", /bad value "Infinity" for repeat/],
  ];
  for (const [spec, re] of bad) {
    it(`rejects ${JSON.stringify(spec)} with one precise line`, () => {
      assert.throws(
        () => parseSimSpec(spec),
        (err: unknown) => err instanceof InputError && re.test(err.message) && !err.message.includes("\n"),
      );
    });
  }

  it("rejects a collapsed mode outside the support when stepping", () => {
    const m = parseSimSpec("sim:collapsed?mode=7");
    assert.throws(() => m.step(extreme, [], makeRng(1)), (e: unknown) => e instanceof InputError && /out of range.*0\.\.3/.test(e.message));
  });
});

describe("sim families: per-step shape", () => {
  for (const [name, target] of [["extreme", extreme], ["flat", flat]] as const) {
    it(`d on ${name}: every step puts ≥ peak on one answer, and that answer changes`, () => {
      const steps = stepsOf(parseSimSpec("sim:d"), target, 60);
      const tops = new Set<number>();
      for (const s of steps) {
        assert.ok(Math.abs(sum(s.ptoken) - 1) < 1e-9);
        assert.ok(Math.max(...s.ptoken) >= 0.95 - 1e-12);
        assert.equal(s.leak, 0.01);
        tops.add(argmax(s.ptoken));
      }
      assert.ok(tops.size >= 3, `argmax took ${tops.size} values`);
      // Each step is far from p, yet the average step matches p (E[q_t] = p exactly).
      assert.ok(steps.every((s) => tv(s.ptoken, target.probs) > 0.2));
      const many = stepsOf(parseSimSpec("sim:d"), target, 2000);
      const mean = target.probs.map((_, i) => many.reduce((a, s) => a + s.ptoken[i]!, 0) / many.length);
      assert.ok(tv(mean, target.probs) < 0.05, `marginal TV ${tv(mean, target.probs)}`);
    });

    it(`e on ${name}: each step stays close to p`, () => {
      for (const s of stepsOf(parseSimSpec("sim:e"), target, 60)) {
        assert.ok(Math.abs(sum(s.ptoken) - 1) < 1e-9);
        assert.ok(tv(s.ptoken, target.probs) < 0.12, `TV ${tv(s.ptoken, target.probs)}`);
      }
      for (const s of stepsOf(parseSimSpec("sim:e?noise=0"), target, 5)) {
        s.ptoken.forEach((v, i) => assert.ok(Math.abs(v - target.probs[i]!) < 1e-12));
      }
    });

    it(`collapsed on ${name}: argmax fixed on the least likely answer, not p's mode`, () => {
      const steps = stepsOf(parseSimSpec("sim:collapsed"), target, 60);
      const pMode = argmax(target.probs);
      const first = argmax(steps[0]!.ptoken);
      assert.notEqual(first, pMode);
      assert.equal(target.probs[first], Math.min(...target.probs));
      for (const s of steps) {
        assert.equal(argmax(s.ptoken), first);
        assert.ok(Math.max(...s.ptoken) >= 0.8);
      }
      const explicit = stepsOf(parseSimSpec("sim:collapsed?mode=2"), target, 10);
      assert.ok(explicit.every((s) => argmax(s.ptoken) === 2));
    });
  }

  it("repeat tilts q towards answers already drawn (and away with a negative value)", () => {
    const rng = makeRng(3);
    const history = [0, 0, 0];
    const plain = parseSimSpec("sim:e?noise=0").step(extreme, history, rng).ptoken;
    const sticky = parseSimSpec("sim:e?noise=0&repeat=1").step(extreme, history, rng).ptoken;
    const shy = parseSimSpec("sim:e?noise=0&repeat=-1").step(extreme, history, rng).ptoken;
    assert.ok(sticky[0]! > plain[0]!);
    assert.ok(shy[0]! < plain[0]!);
    // exact: q(0) ∝ 0.1·e^3, others unchanged
    const z = 0.1 * Math.exp(3) + 0.9;
    assert.ok(Math.abs(sticky[0]! - (0.1 * Math.exp(3)) / z) < 1e-12);
    // a memoryless model ignores the history
    assert.deepEqual(parseSimSpec("sim:e?noise=0").step(extreme, [], rng).ptoken, plain);
  });

  it("uses only the rng it is given (same seed, same steps)", () => {
    const m = parseSimSpec("sim:d");
    assert.deepEqual(stepsOf(m, flat, 20, 9), stepsOf(m, flat, 20, 9));
    assert.notDeepEqual(stepsOf(m, flat, 20, 9), stepsOf(m, flat, 20, 10));
  });
});

describe("simulateRuns", () => {
  it("records the sequential protocol: t, tempered ptoken, leak, sample from the support; seeds seed + r", () => {
    const runs = simulateRuns(parseSimSpec("sim:e"), extreme, { steps: 12, runs: 3, seed: 40, temperature: 1 });
    assert.equal(runs.length, 3);
    assert.deepEqual(runs.map((r) => r.seed), [40, 41, 42]);
    for (const run of runs) {
      assert.equal(run.steps.length, 12);
      run.steps.forEach((s, t) => {
        assert.equal(s.t, t);
        assert.equal(s.leak, 0.01);
        assert.ok(s.sample !== null && extreme.support.includes(s.sample));
      });
    }
    // Run r is reproduced on its own from seed + r.
    const again = simulateRuns(parseSimSpec("sim:e"), extreme, { steps: 12, runs: 1, seed: 41 });
    assert.deepEqual(again[0], runs[1]);
  });

  it("applies the temperature before drawing and records the tempered q", () => {
    const greedy = simulateRuns(parseSimSpec("sim:e?noise=0"), extreme, { steps: 5, runs: 1, seed: 1, temperature: 0 });
    for (const s of greedy[0]!.steps) {
      assert.deepEqual(s.ptoken, [0, 1, 0, 0]);
      assert.equal(s.sample, "2");
    }
    const hot = simulateRuns(parseSimSpec("sim:e?noise=0"), extreme, { steps: 1, runs: 1, seed: 1, temperature: 2 });
    const w = extreme.probs.map((p) => Math.sqrt(p));
    const z = w.reduce((a, b) => a + b, 0);
    hot[0]!.steps[0]!.ptoken.forEach((v, i) => assert.ok(Math.abs(v - w[i]! / z) < 1e-12));
  });

  it("passes the history of drawn indices to the model", () => {
    const seen: number[][] = [];
    simulateRuns(
      {
        step: (_t, history) => {
          seen.push([...history]);
          return { ptoken: [0, 0, 1, 0], leak: 0 };
        },
      },
      extreme,
      { steps: 3, runs: 1, seed: 1 },
    );
    assert.deepEqual(seen, [[], [2], [2, 2]]);
  });

  it("validates its options", () => {
    const m = parseSimSpec("sim:d");
    assert.throws(() => simulateRuns(m, extreme, { steps: 0, runs: 1, seed: 1 }), InputError);
    assert.throws(() => simulateRuns(m, extreme, { steps: 2, runs: 1.5, seed: 1 }), InputError);
    assert.throws(() => simulateRuns(m, extreme, { steps: 2, runs: 1, seed: 1, temperature: -1 }), InputError);
  });

  it("samples of sim:d match p in aggregate", () => {
    const runs = simulateRuns(parseSimSpec("sim:d"), extreme, { steps: 200, runs: 10, seed: 5 });
    const counts = [0, 0, 0, 0];
    for (const r of runs) for (const s of r.steps) counts[extreme.support.indexOf(s.sample!)]! += 1;
    const freq = counts.map((c) => c / 2000);
    assert.ok(tv(freq, extreme.probs) < 0.05, `sample TV ${tv(freq, extreme.probs)}`);
  });
});
