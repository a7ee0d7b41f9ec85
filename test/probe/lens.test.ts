// ptalign probe on generated models whose blocks are chosen in advance (BigramSpec.lens): the lens reads a known row
// before block k and the model's own rows from block k on, so every per-layer distribution, the commit layer and the
// attention (q = k = 0: uniform over the context) are known by hand.
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ProbeResult, ProbeStep } from "../../src/probe/types.ts";
import { BEFORE_FLOOR, buildBigramModel, dLikeSpec, writeBigramModel, type BigramSpec } from "../../src/synth/index.ts";
import { ptalign } from "../support/cli.ts";
import { cachedModel } from "../support/modelCache.ts";
import { D_PEAK, dLikeExpected, MULTI_TOKEN_LEAK, MULTI_TOKEN_RAW, multiTokenSpec } from "../support/models.ts";

const SUPPORT = ["1", "2", "3", "4"];
/** What every block before the writing block reads (the same for every token). */
const BEFORE = [0.1, 0.6, 0.15, 0.15];
const WRITE_AT = 2;
const LAYERS = 4;

function dLensSpec(): BigramSpec {
  return {
    ...dLikeSpec(SUPPORT, { peak: D_PEAK, first: 1 }),
    compute: { layers: LAYERS },
    lens: { layer: WRITE_AT, before: Object.fromEntries(SUPPORT.map((a, i) => [`▁${a},`, BEFORE[i]!])) },
  };
}

/** The multi-token model (test/support/models.ts) written at block 1 of 3; before it: "▁2" .4, "," .4, "x" .2. */
function multiLensSpec(): BigramSpec {
  return { ...multiTokenSpec(), compute: { layers: 3 }, lens: { layer: 1, before: { "▁2": 0.4, ",": 0.4, x: 0.2 } } };
}

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

async function probe(model: string, args: string[]): Promise<ProbeResult> {
  const r = await ptalign(["probe", "--model", model, "--no-save", "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ProbeResult;
}

describe("ptalign probe: logit lens and attention on models written in a known block", () => {
  let dModel = "";
  let multiModel = "";
  let d: ProbeResult;
  before(async () => {
    dModel = await cachedModel("d-lens.gguf", dLensSpec(), (p) => writeBigramModel(p, dLensSpec()));
    multiModel = await cachedModel("multi-lens.gguf", multiLensSpec(), (p) => writeBigramModel(p, multiLensSpec()));
    d = await probe(dModel, ["--target", "extreme", "--steps", "5", "--runs", "2", "--seed", "3", "--heads"]);
  });

  it("every step: blocks before the writing block read the 'before' row, the others the model's row; the commit layer follows", () => {
    for (const run of d.runs) {
      run.steps.forEach((raw, t) => {
        const step = raw as ProbeStep;
        const lens = step.lens!;
        assert.deepEqual(lens.map((l) => l.layer), [0, 1, 2, 3]);
        const previous = t === 0 ? null : run.steps[t - 1]!.sample;
        const row = dLikeExpected(previous);
        lens.forEach((l) => {
          const want = l.layer < WRITE_AT ? BEFORE : row;
          l.ptoken.forEach((p, i) => close(p, want[i]!, 1e-6, `run ${run.seed} step ${t} block ${l.layer} answer ${SUPPORT[i]}`));
          close(l.tv_task, want.reduce((s, p, i) => s + Math.abs(p - d.target.probs[i]!), 0) / 2, 1e-6, "tv_task");
          close(l.entropy, -want.reduce((s, p) => s + p * Math.log(p), 0), 1e-5, "entropy");
          // Leak before the writing block: the vocabulary's other tokens at logit BEFORE_FLOOR against the answers' log p.
          assert.ok(l.leak >= 0 && l.leak < 1e-10, `leak ${l.leak}`);
        });
        // The final top answer is on top from block 0 when the 'before' row already favours it ("2"), else from the writing block.
        const top = row.indexOf(Math.max(...row));
        assert.equal(step.commit_layer, top === 1 ? 0 : WRITE_AT, `step ${t}: top ${SUPPORT[top]}`);
      });
    }
  });

  it("the last block's lens equals P_token within 1e-6 (every answer one token)", () => {
    for (const run of d.runs) {
      for (const raw of run.steps) {
        const step = raw as ProbeStep;
        const last = step.lens![LAYERS - 1]!;
        step.ptoken.forEach((p, i) => close(last.ptoken[i]!, p, 1e-6, `step ${step.t}`));
        close(last.tv_final, 0, 1e-12, "tv_final of the last block");
      }
    }
  });

  it("top: the layer's ten most probable next tokens at the answer position, probabilities from the same softmax", () => {
    const built = buildBigramModel(dLensSpec());
    const step = d.runs[0]!.steps[0] as ProbeStep;
    for (const l of step.lens!) {
      assert.equal(l.top.length, 10);
      for (let i = 1; i < l.top.length; i++) assert.ok(l.top[i - 1]!.p >= l.top[i]!.p);
      const want = l.layer < WRITE_AT ? BEFORE : dLikeExpected(null);
      // The four answer tokens come first, in the layer's own order of probability.
      const ids = SUPPORT.map((a) => built.ids[`▁${a},`]!);
      const got = new Map(l.top.slice(0, 4).map((x) => [x.id, x.p]));
      ids.forEach((id, i) => close(got.get(id) ?? -1, want[i]!, 1e-6, `block ${l.layer} token ${id}`));
      // Before the writing block the rest of the vocabulary sits at BEFORE_FLOOR: exp(floor − log Z) each.
      if (l.layer < WRITE_AT) close(l.top[4]!.p, Math.exp(BEFORE_FLOOR) / (1 + (built.vocab.length - 4) * Math.exp(BEFORE_FLOOR)), 1e-18, "a floor token");
    }
  });

  it("tokens: the context up to the answer position, growing by each sample's token", () => {
    const built = buildBigramModel(dLensSpec());
    const steps = d.runs[0]!.steps as ProbeStep[];
    const prompt = steps[0]!.tokens!;
    assert.equal(prompt[0], 1, "BOS first");
    steps.forEach((s, t) => {
      assert.deepEqual(s.tokens!.slice(0, prompt.length), prompt);
      assert.deepEqual(s.tokens!.slice(prompt.length), steps.slice(0, t).map((p) => built.ids[`▁${p.sample},`]!));
    });
  });

  it("attention: q = k = 0 gives every position 1/n, so history = samples / n and the three regions sum to 1", () => {
    const steps = d.runs[1]!.steps as ProbeStep[];
    const n0 = steps[0]!.tokens!.length;
    for (const s of steps) {
      const n = s.tokens!.length;
      assert.equal(s.attention!.length, LAYERS);
      for (const a of s.attention!) {
        close(a.history, (n - n0) / n, 1e-6, `step ${s.t} block ${a.layer} history`);
        close(a.history + a.target + a.prompt, 1, 1e-6, "sum");
        assert.ok(a.target > 0, "the target's description is in the prompt");
        assert.equal(a.heads!.length, 1, "one head");
        close(a.heads![0]![0], a.history, 1e-12, "per-head = mean with one head");
      }
    }
  });

  it("the summary: per-block means, the commit histogram, attention per block", () => {
    const steps = d.runs.flatMap((r) => r.steps as ProbeStep[]);
    assert.equal(d.probe.layers, LAYERS);
    assert.equal(d.probe.steps, steps.length);
    const hist: Record<string, number> = {};
    for (const s of steps) hist[String(s.commit_layer)] = (hist[String(s.commit_layer)] ?? 0) + 1;
    assert.deepEqual(d.probe.commit_histogram, hist);
    close(d.probe.lens![0]!.tv_task, steps.reduce((a, s) => a + s.lens![0]!.tv_task, 0) / steps.length, 1e-12, "mean tv_task");
    assert.equal(d.probe.attention!.length, LAYERS);
  });

  it("multi-token answers: the lens follows the chain rule over every tokenisation, delimiter included, at every block", async () => {
    const r = await probe(multiModel, ["--target", "{1:0.2,2:0.2,5:0.1,10:0.2,11:0.1,12:0.2}", "--steps", "2", "--runs", "1", "--no-attention"]);
    const support = r.target.support;
    const total = Object.values(MULTI_TOKEN_RAW).reduce((a, b) => a + b, 0);
    for (const raw of r.runs[0]!.steps) {
      const step = raw as ProbeStep;
      assert.equal(step.attention, undefined);
      const [b0, b1, b2] = step.lens!;
      // Before block 1 every evaluation reads "▁2" .4, "," .4, "x" .2: " 2," = ▁2 then "," = .16; the rest leaks.
      support.forEach((a, i) => close(b0!.ptoken[i]!, a === "2" ? 1 : 0, 1e-9, `block 0 answer ${a}`));
      close(b0!.leak, 0.84, 1e-6, "block 0 leak");
      for (const b of [b1!, b2!]) {
        support.forEach((a, i) => close(b.ptoken[i]!, MULTI_TOKEN_RAW[a]! / total, 1e-5, `block ${b.layer} answer ${a}`));
        close(b.leak, MULTI_TOKEN_LEAK, 1e-5, `block ${b.layer} leak`);
      }
      step.ptoken.forEach((p, i) => close(b2!.ptoken[i]!, p, 1e-6, "last block = P_token"));
    }
  });

  it("--out: the probed steps and the summary are stored and exported", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ptalign-probe-"));
    try {
      const r = await ptalign(["probe", "--model", dModel, "--target", "extreme", "--steps", "2", "--runs", "1", "--out", dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /commit/);
      const files = await readdir(join(dir, "runs"));
      const saved = JSON.parse(await readFile(join(dir, "runs", files.find((f) => f.endsWith(".json"))!), "utf8")) as ProbeResult;
      assert.equal(saved.probe.layers, LAYERS);
      assert.equal((saved.runs[0]!.steps[1] as ProbeStep).lens!.length, LAYERS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("ptalign probe: attention on a model whose keys single out the answer tokens", () => {
  const ANSWERS = SUPPORT.map((a) => `▁${a},`);
  const SCORE = 3;
  const spec = (): BigramSpec => ({ ...dLikeSpec(SUPPORT, { peak: D_PEAK, first: 1 }), compute: { layers: 3 }, attend: Object.fromEntries(ANSWERS.map((a) => [a, SCORE])) });

  it("each block's weight on a position is exp(score) for an answer token, 1 otherwise: history mass by hand, positions in order", async () => {
    const model = await cachedModel("d-attend.gguf", spec(), (p) => writeBigramModel(p, spec()));
    const r = await probe(model, ["--target", "extreme", "--steps", "5", "--runs", "1", "--no-lens"]);
    const ids = new Set(ANSWERS.map((a) => buildBigramModel(spec()).ids[a]!));
    const steps = r.runs[0]!.steps as ProbeStep[];
    const n0 = steps[0]!.tokens!.length;
    for (const s of steps) {
      assert.equal(s.lens, undefined, "--no-lens");
      const w = s.tokens!.map((t) => (ids.has(t) ? Math.exp(SCORE) : 1));
      const Z = w.reduce((a, b) => a + b, 0);
      const history = w.slice(n0).reduce((a, b) => a + b, 0) / Z;
      for (const a of s.attention!) close(a.history, history, 1e-6, `step ${s.t} block ${a.layer}`);
    }
    // Every sample is an answer token: the history's share grows with the steps.
    assert.ok(steps[4]!.attention![0]!.history > steps[1]!.attention![0]!.history);
  });
});

describe("ptalign probe: what it refuses", () => {
  it("a model without layers to read (sim, remote): one line, exit 2", async () => {
    for (const model of ["sim:d", "openai:gpt-4o"]) {
      const r = await ptalign(["probe", "--model", model, "--target", "extreme", "--no-save"]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.match(r.stderr, /only the embedded GGUF engine/);
    }
  });

  it("the batch protocol is not a choice", async () => {
    const r = await ptalign(["probe", "--model", "x.gguf", "--target", "extreme", "--protocol", "batch", "--no-save"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /batch/);
  });
});
