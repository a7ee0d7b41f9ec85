// `ptalign probe --counterfactual`: every step re-scored with its history changed. A D model that plans its sequence
// (sim:d-plan) lowers the answers it drew too often; sim:e and sim:d ignore their history (exactly 0, common random
// numbers); a sim `repeat` r gives a log-odds effect of exactly r; the embedded engine's D-like bigram model and an
// exact remote server give the effects worked out by hand; backends or protocols without exact history scoring: exit 2.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { dLikeExpected, writeDLikeModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";
import { startFakeServer, type FakeServer } from "../remote/fakeServer.ts";
import type { CounterfactualStep, CounterfactualSummary } from "../../src/probe/counterfactual.ts";

interface Out {
  runs: { seed: number; steps: { t: number; ptoken: number[]; sample: string | null; counterfactual?: CounterfactualStep }[] }[];
  counterfactual: CounterfactualSummary;
  metrics: Record<string, unknown>;
}

async function probe(args: string[]): Promise<Out> {
  const r = await ptalign(["probe", "--counterfactual", "--json", "--no-save", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Out;
}

const near = (a: number | null | undefined, b: number, tol: number, what: string) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

describe("probe --counterfactual on the sim families", () => {
  it("sim:d-plan lowers the answers it drew too often: effect < 0 with its whole 95% interval", async () => {
    const out = await probe(["--model", "sim:d-plan", "--target", "extreme", "--steps", "30", "--runs", "4", "--seed", "7"]);
    const s = out.counterfactual;
    assert.equal(s.resampled, "runs");
    assert.ok(s.effect.value! < -0.05 && s.effect.ci![1] < 0, JSON.stringify(s.effect));
    assert.ok(s.log_effect.ci![1] < 0 && s.plus.ci![1] < 0 && s.minus.ci![1] < 0, JSON.stringify(s));
    // The planner reads counts, not order: shuffling changes nothing; forgetting the history changes a lot.
    assert.equal(s.tv_shuffled.value, 0);
    assert.ok(s.tv_removed.value! > 0.1);
    // Every step carries its effects; step 0 has no history to remove from.
    const step0 = out.runs[0]!.steps[0]!.counterfactual!;
    assert.deepEqual(step0.minus, [null, null, null, null]);
    assert.equal(step0.removed, null);
    assert.equal(step0.shuffled, null);
    assert.equal(out.runs.every((r) => r.steps.every((st) => st.counterfactual?.t === st.t)), true);
  });

  for (const model of ["sim:e", "sim:d"]) {
    it(`${model} ignores its history: every effect is exactly 0, interval [0, 0]`, async () => {
      const s = (await probe(["--model", model, "--target", "extreme", "--steps", "12", "--runs", "3", "--seed", "5"])).counterfactual;
      for (const k of ["effect", "log_effect", "plus", "minus", "tv_shuffled", "tv_removed"] as const) {
        assert.equal(s[k].value, 0, k);
        assert.deepEqual(s[k].ci, [0, 0], k);
      }
    });
  }

  it("sim:e?repeat=-0.5: log-odds effect exactly -0.5 per draw, and each q⁺ˣ is q tilted by exp(r) at x", async () => {
    const out = await probe(["--model", "sim:e?repeat=-0.5", "--target", "extreme", "--steps", "8", "--runs", "2", "--seed", "3"]);
    near(out.counterfactual.log_effect.value, -0.5, 1e-9, "log_effect");
    const r = Math.exp(-0.5);
    for (const run of out.runs) for (const st of run.steps) {
      st.ptoken.forEach((q, x) => near(st.counterfactual!.plus[x], (q * r) / (1 - q + q * r) - q, 1e-12, `t=${st.t} x=${x}`));
    }
  });

  it("the factual steps are run's steps (same seeds, same draws)", async () => {
    const args = ["--model", "sim:d-plan?plan=5", "--target", "extreme", "--steps", "10", "--runs", "2", "--seed", "11", "--json", "--no-save"];
    const run = JSON.parse((await ptalign(["run", ...args])).stdout) as Out;
    const out = await probe(args.slice(0, -2));
    const strip = (o: Out) => o.runs.map((r) => ({ ...r, steps: r.steps.map(({ counterfactual: _cf, ...rest }) => rest) }));
    assert.deepEqual(strip(out), strip(run));
    assert.deepEqual(out.metrics, run.metrics);
  });

  it("prints the effects and the comparison with analyze's slope, and analyze reads them back from the store", async () => {
    const dir = await tempDir();
    const r = await ptalign(["probe", "--counterfactual", "--model", "sim:d-plan?plan=10", "--target", "extreme", "--steps", "30", "--runs", "5", "--seed", "7", "--out", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nlog_effect\s+-\d\.\d{3}\s+\[-\d\.\d{3}, -\d\.\d{3}\]/);
    assert.match(r.stdout, /the model plans its sequence/);
    const a = await ptalign(["analyze", dir, "--json"]);
    assert.equal(a.code, 0, a.stderr);
    const [m] = JSON.parse(a.stdout) as { counterfactual?: { log_effect: { value: number }; comparison: { agree: boolean | null; counterfactual: { sign: string }; words: string } } }[];
    assert.equal(m!.counterfactual!.comparison.counterfactual.sign, "negative");
    // plan=10 on extreme, 5 × 30 (seed 7): the observational slope sees no dependence, the counterfactual a strong one.
    assert.equal(m!.counterfactual!.comparison.agree, false);
    assert.match(m!.counterfactual!.comparison.words, /They disagree: the slope misses the dependence/);
    const text = await ptalign(["analyze", dir]);
    assert.match(text.stdout, /counterfactual histories \(probe\), sim:d-plan/);
    // The report: the effect per step and the same words.
    const page = join(dir, "report.html");
    const rep = await ptalign(["report", dir, "--out", page]);
    assert.equal(rep.code, 0, rep.stderr);
    const html = readFileSync(page, "utf8");
    assert.match(html, /data-chart="counterfactual"><svg/);
    assert.ok(html.includes("<b>counterfactual histories</b>: One more draw of an answer lowers its probability"));
  });
});

describe("probe --counterfactual on the embedded engine (generated D-like bigram model)", () => {
  let model: string;
  before(async () => {
    model = await writeDLikeModel("");
  });

  it("one more draw of x moves the peak to x + 1: the effects are the bigram's, worked out by hand", async () => {
    const out = await probe(["--model", model, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "5", "--runs", "1", "--seed", "2", "--raw", "--kv", "f32", "--no-lens", "--no-attention"]);
    const support = ["1", "2", "3", "4"];
    const steps = out.runs[0]!.steps;
    steps.forEach((st, t) => {
      const history = steps.slice(0, t).map((s) => s.sample!);
      const prev = history.at(-1) ?? null;
      const q = dLikeExpected(prev);
      const cf = st.counterfactual!;
      support.forEach((x, i) => {
        near(cf.plus[i], dLikeExpected(x)[i]! - q[i]!, 1e-5, `t=${t} plus ${x}`);
        const last = history.lastIndexOf(x);
        if (last < 0) assert.equal(cf.minus[i], null);
        else near(cf.minus[i], q[i]! - dLikeExpected(history.filter((_, k) => k !== last).at(-1) ?? null)[i]!, 1e-5, `t=${t} minus ${x}`);
      });
      if (t > 0) cf.removed!.forEach((v, i) => near(v, dLikeExpected(null)[i]!, 1e-5, `t=${t} removed`));
      // A shuffled history ends in one of the answers drawn: the peak follows that one.
      if (cf.shuffled) assert.ok(history.some((y) => cf.shuffled!.every((v, i) => Math.abs(v - dLikeExpected(y)[i]!) < 1e-5)), `t=${t} shuffled`);
    });
    // Appending x takes the peak away from prev + 1 (−0.92 there, 0 elsewhere): mean −0.23 per step.
    near(out.counterfactual.plus.value, -0.23, 1e-5, "plus");
  });

  it("beside the logit lens: the lens sees only the step's own evaluations, the counterfactuals are the same", async () => {
    const args = ["--model", model, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "4", "--runs", "1", "--seed", "2", "--raw", "--kv", "f32", "--json", "--no-save"];
    interface Lensed {
      runs: { steps: { lens?: unknown; attention?: unknown; counterfactual?: CounterfactualStep }[] }[];
    }
    const both = JSON.parse((await ptalign(["probe", "--counterfactual", ...args])).stdout) as Lensed;
    const lensOnly = JSON.parse((await ptalign(["probe", ...args])).stdout) as Lensed;
    const cfOnly = await probe([...args.slice(0, -2), "--no-lens", "--no-attention"]);
    both.runs[0]!.steps.forEach((st, t) => {
      assert.ok(st.lens !== undefined, "the lens ran");
      assert.deepEqual(st.lens, lensOnly.runs[0]!.steps[t]!.lens, `t=${t} lens`);
      assert.deepEqual(st.attention, lensOnly.runs[0]!.steps[t]!.attention, `t=${t} attention`);
      st.counterfactual!.plus.forEach((v, i) => near(v, cfOnly.runs[0]!.steps[t]!.counterfactual!.plus[i]!, 1e-6, `t=${t} plus`));
    });
  });
});

describe("probe --counterfactual on a remote server (loopback)", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("vllm");
  });
  after(() => srv.close());
  const base = () => ["--model", "openai:m", "--base-url", srv.url, "--target", "{1:0.25,2:0.25,3:0.25,4:0.25}", "--steps", "3", "--runs", "2", "--no-cache", "--retries", "0"];

  it("echo scoring is exact: its next-token rows forget everything before the last ',', so every effect is 0", async () => {
    const s = (await probe([...base(), "--scoring", "echo"])).counterfactual;
    assert.equal(s.effect.value, 0);
    assert.equal(s.tv_removed.value, 0);
    assert.ok(s.rescored > 0);
  });

  it("top-k scoring hides mass: one line, exit 2", async () => {
    const r = await ptalign(["probe", "--counterfactual", "--no-save", ...base(), "--scoring", "top-k"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ptalign: --counterfactual needs exact scoring .*\n$/);
  });
});

describe("probe --counterfactual: bad input", () => {
  it("the independent protocol has no history to change: one line, exit 2", async () => {
    const r = await ptalign(["probe", "--counterfactual", "--model", "sim:e", "--target", "extreme", "--protocol", "independent", "--no-save"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "ptalign: --counterfactual changes the history a step sees, which only the sequential protocol has; use --protocol sequential (not independent)\n");
  });

  it("a sim model without --counterfactual still needs the embedded engine (the lens): exit 2", async () => {
    const r = await ptalign(["probe", "--model", "sim:d-plan", "--target", "extreme", "--no-save"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split("\n").length, 2, r.stderr);
  });
});
