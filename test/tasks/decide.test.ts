// `ptalign task decide` on files the tests write in the published layouts (choices13k's CSV + JSON, ChaosNLI's JSONL,
// the generic JSONL), with answers worked by hand; every bad input is one line naming file and line, exit 2.

import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { completePieces, writeBigramModel } from "../../src/synth/index.ts";
import { describeLottery } from "../../src/tasks/decide/choices13k.ts";
import { jsDistance } from "../../src/tasks/decide/metrics.ts";
import type { ChoiceResult } from "../../src/tasks/choice/types.ts";
import type { DecideAggregate } from "../../src/tasks/decide/metrics.ts";
import { ptalign } from "../support/cli.ts";
import { cachedModel } from "../support/modelCache.ts";
import { tempDir } from "../support/tmp.ts";

const close = (a: number | null | undefined, b: number, eps = 1e-9) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps, `${a} ≉ ${b}`);
const extra = (r: ChoiceResult, g?: string) => (g ? r.groups![g]! : r.metrics).extra as unknown as DecideAggregate;

// choices13k's first 8 rows, byte for byte as downloaded (LF line ends), and their problems (keys = CSV row index).
const C13K_CSV = `Problem,Feedback,n,Block,Ha,pHa,La,Hb,pHb,Lb,LotShapeB,LotNumB,Amb,Corr,bRate,bRate_std
1,True,15,2,26,0.95,-1,23,0.05,21,0,1,False,0,0.6266666666666667,0.3844600418893019
2,True,15,4,14,0.6,-18,8,0.25,-5,0,1,True,-1,0.4933333333333334,0.4131182235954578
3,True,17,4,2,0.5,0,1,1.0,1,0,1,False,0,0.611764705882353,0.4328428596805896
4,True,18,3,37,0.05,8,87,0.25,-31,1,2,False,0,0.2222222222222222,0.3873827041533013
5,False,15,1,26,1.0,26,45,0.75,-36,2,5,False,0,0.5866666666666667,0.45018514709691015
6,True,15,4,28,1.0,28,33,0.01,28,2,3,True,0,0.8,0.3545621041711673
7,False,15,1,-6,1.0,-6,24,0.2,-5,1,2,False,0,0.8666666666666667,0.3518657752744984
7,True,16,3,-6,1.0,-6,24,0.2,-5,1,2,False,0,0.9625,0.15000000000000002
`;
const B_RATES = [0.6266666666666667, 0.4933333333333334, 0.611764705882353, 0.2222222222222222, 0.5866666666666667, 0.8, 0.8666666666666667, 0.9625];
const C13K_PROBLEMS = {
  "0": { B: [[0.95, 21.0], [0.05, 23.0]], A: [[0.95, 26.0], [0.050000000000000044, -1.0]] },
  "1": { B: [[0.75, -5.0], [0.25, 8.0]], A: [[0.6, 14.0], [0.4, -18.0]] },
  "2": { B: [[1.0, 1.0]], A: [[0.5, 2.0], [0.5, 0.0]] },
  "3": { B: [[0.75, -31.0], [0.125, 86.5], [0.125, 87.5]], A: [[0.05, 37.0], [0.95, 8.0]] },
  "4": { B: [[0.25, -36.0], [0.375, 41.0], [0.1875, 43.0], [0.09375, 47.0], [0.046875, 55.0], [0.046875, 71.0]], A: [[1.0, 26.0], [0.0, 26.0]] },
  "5": { B: [[0.99, 28.0], [0.005, 31.0], [0.0025, 33.0], [0.0025000000000000846, 37.0]], A: [[1.0, 28.0], [0.0, 28.0]] },
  "6": { B: [[0.8, -5.0], [0.1, 23.5], [0.1, 24.5]], A: [[1.0, -6.0], [0.0, -6.0]] },
  "7": { B: [[0.8, -5.0], [0.1, 23.5], [0.1, 24.5]], A: [[1.0, -6.0], [0.0, -6.0]] },
};

// ChaosNLI: two SNLI items and two αNLI items as downloaded.
const SNLI = `{"uid": "2407214681.jpg#0r1n", "label_counter": {"n": 70, "e": 30}, "majority_label": "n", "label_dist": [0.3, 0.7, 0.0], "label_count": [30, 70, 0], "entropy": 0.8812908992306927, "example": {"uid": "2407214681.jpg#0r1n", "premise": "Two young children in blue jerseys, one with the number 9 and one with the number 2 are standing on wooden steps in a bathroom and washing their hands in a sink.", "hypothesis": "Two kids at a ballgame wash their hands.", "source": "snli_agree_3"}, "old_label": "n", "old_labels": ["neutral", "neutral", "neutral", "entailment", "entailment"]}
{"uid": "4718146904.jpg#2r1n", "label_counter": {"n": 94, "e": 3, "c": 3}, "majority_label": "n", "label_dist": [0.03, 0.94, 0.03], "label_count": [3, 94, 3], "entropy": 0.3874449191544763, "example": {"uid": "4718146904.jpg#2r1n", "premise": "A man selling donuts to a customer during a world exhibition event held in the city of Angeles", "hypothesis": "A man selling donuts to a customer during a world exhibition event while people wait in line behind him.", "source": "snli_agree_3"}, "old_label": "n", "old_labels": ["neutral", "entailment", "entailment", "neutral", "neutral"]}
`;
const ANLI = `{"uid": "58090d3f-8a91-4c89-83ef-2b4994de9d241", "label_counter": {"1": 97, "2": 3}, "majority_label": 1, "label_dist": [0.97, 0.03], "label_count": [97, 3], "entropy": 0.1943918578315762, "example": {"uid": "58090d3f-8a91-4c89-83ef-2b4994de9d241", "obs1": "Ron started his new job as a landscaper today.", "obs2": "Ron is immediately fired for insubordination.", "hyp1": "Ron ignores his bosses's orders and called him an idiot.", "hyp2": "Ron's boss called him an idiot.", "source": "abdnli_dev"}, "old_label": 1}
{"uid": "91f9d1d9-934c-44f9-9677-3614def2874b2", "label_counter": {"1": 98, "2": 2}, "majority_label": 1, "label_dist": [0.98, 0.02], "label_count": [98, 2], "entropy": 0.14144054254182067, "example": {"uid": "91f9d1d9-934c-44f9-9677-3614def2874b2", "obs1": "Sandy lived in New York.", "obs2": "Sandy was prepared.", "hyp1": "It stormed in New York.", "hyp2": "She partied all night.", "source": "abdnli_dev"}, "old_label": 1}
`;

async function c13kDir(): Promise<string> {
  const dir = join(await tempDir(), "choices13k");
  await mkdir(dir);
  await writeFile(join(dir, "c13k_selections.csv"), C13K_CSV);
  await writeFile(join(dir, "c13k_problems.json"), JSON.stringify(C13K_PROBLEMS, null, 1));
  return dir;
}

async function chaosDir(): Promise<string> {
  const dir = join(await tempDir(), "chaosNLI_v1.0");
  await mkdir(dir);
  await writeFile(join(dir, "chaosNLI_snli.jsonl"), SNLI);
  await writeFile(join(dir, "chaosNLI_alphanli.jsonl"), ANLI);
  return dir;
}

async function decide(args: string[]): Promise<{ code: number | null; results: ChoiceResult[]; stderr: string; stdout: string }> {
  const r = await ptalign(["task", "decide", ...args]);
  const json = args.includes("--json") && r.code === 0;
  return { ...r, results: json ? (JSON.parse(r.stdout) as ChoiceResult[]) : [] };
}

const FAST = ["--bootstrap", "200", "--no-save", "--json"];

describe("task decide: choices13k", () => {
  it("a sim model that follows the target: MSE 0, r = 1, every context E; rows kept apart by feedback and ambiguity", async () => {
    const dir = await c13kDir();
    const { code, results, stderr } = await decide(["--model", "sim:e?noise=0&leak=0", "--data", dir, "--draws", "6", "--runs", "2", ...FAST]);
    assert.equal(code, 0, stderr);
    const r = results[0]!;
    assert.equal(r.data.format, "choices13k");
    assert.equal(r.contexts.length, 8);
    close(extra(r).mse.mean, 0, 1e-12);
    close(extra(r).correlation, 1, 1e-12);
    close(r.metrics.tv.mean, 0, 1e-12);
    close(r.metrics.order_tv.mean, 0, 1e-12);
    assert.equal(r.metrics.verdicts.E, 1);
    // Rows 1, 3, 4, 8 with feedback; 2 and 6 ambiguous (with feedback); 5 and 7 without feedback.
    assert.deepEqual(Object.fromEntries(Object.entries(r.groups!).map(([g, a]) => [g, a.contexts])), { feedback: 4, "feedback/ambiguous": 2, "no-feedback": 2 });
    // Problem 7 appears twice (rows 7 and 8, JSON keys "6" and "7"): once per feedback condition.
    const seven = r.contexts.filter((c) => c.id.startsWith("7/")).map((c) => [c.id, c.target[1]]);
    assert.deepEqual(seven, [["7/no-feedback", 0.8666666666666667], ["7/feedback", 0.9625]]);
  });

  it("a greedy model (temperature 0): P(B) is 1 where bRate > ½; MSE, overconfidence worked by hand", async () => {
    const dir = await c13kDir();
    const { code, results, stderr } = await decide(["--model", "sim:e?noise=0&leak=0", "--data", dir, "--temperature", "0", "--draws", "2", "--permutations", "0", ...FAST]);
    assert.equal(code, 0, stderr);
    const r = results[0]!;
    const pb = B_RATES.map((b) => (b > 0.5 ? 1 : 0));
    // Σ (P(B) − bRate)² / 8 = (.13938 + .24338 + .15073 + .04938 + .17084 + .04 + .01778 + .00141) / 8 ≈ 0.10161
    close(extra(r).mse.mean, B_RATES.reduce((s, b, i) => s + (pb[i]! - b) ** 2, 0) / 8, 1e-12);
    close(extra(r).mse.mean, 0.10161, 1e-5);
    // Near-certain everywhere; people split (bRate 0.3–0.7) on rows 1, 2, 3, 5: 4 of 8.
    close(extra(r).overconfident.mean, 0.5, 1e-12);
    close(extra(r).overconfident_of_split, 1, 1e-12);
    assert.equal(extra(r).split, 4);
    // By group: no-feedback rows 5 (.5867 → 1) and 7 (.8667 → 1): ((1 − .58667)² + (1 − .86667)²) / 2.
    close(extra(r, "no-feedback").mse.mean, ((1 - 0.5866666666666667) ** 2 + (1 - 0.8666666666666667) ** 2) / 2, 1e-12);
  });

  it("shows the gambles as people saw them: zero-probability outcomes dropped, B's probabilities hidden when ambiguous", () => {
    assert.equal(describeLottery([[0.95, 26], [0.050000000000000044, -1]], true), "95% chance of 26, 5% chance of −1");
    assert.equal(describeLottery([[1, 26], [0, 26]], true), "26 for sure");
    assert.equal(describeLottery([[0.75, -5], [0.25, 8]], false), "one of the outcomes −5, 8, with probabilities not shown");
  });

  it("on a generated GGUF model: P_token read exactly over the labels; a position-biased model (A .3, B .7) by hand", async () => {
    const model = await cachedModel("ab-biased.gguf", { row: { "▁A": 0.3, "▁B": 0.7 } }, (path) =>
      writeBigramModel(path, { pieces: completePieces(["▁A", "▁B", ","]), defaultRow: { "▁A": 0.3, "▁B": 0.7 }, rows: { "▁A": { ",": 1 }, "▁B": { ",": 1 } } }),
    );
    const dir = await c13kDir();
    const { code, results, stderr } = await decide(["--model", model, "--data", dir, "--limit", "3", "--draws", "3", "--permutations", "1", ...FAST]);
    assert.equal(code, 0, stderr);
    const r = results[0]!;
    for (const c of r.contexts) {
      close(c.ptoken![0], 0.3, 1e-6);
      close(c.ptoken![1], 0.7, 1e-6);
      close(c.leak, 0, 1e-6);
      // Swapped, gamble A sits under label B: the model gives it .7. TV((.3,.7), (.7,.3)) = .4.
      close(c.order_tv, 0.4, 1e-6);
      // A bigram model: the same P_token at every draw whatever was written before: volatility 0.
      close(c.metrics!.volatility, 0, 1e-6);
    }
    assert.equal(r.contexts.length, 3);
    close(extra(r).mse.mean, B_RATES.slice(0, 3).reduce((s, b) => s + (0.7 - b) ** 2, 0) / 3, 1e-6);
    assert.equal(extra(r).correlation, null, "a constant P(B) has no correlation");
  });
});

describe("advise: per task domain, the models by TV to the people and the type the data favours", () => {
  it("sim:e (E) before sim:d (D) on choices13k: the data favours E; a domain with E models only decides nothing", async () => {
    const dir = await c13kDir();
    const out = join(await tempDir(), "results");
    const r = await ptalign(["task", "decide", "--model", "sim:e?noise=0&leak=0", "--model", "sim:d", "--data", dir, "--draws", "16", "--bootstrap", "200", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const nli = await chaosDir();
    assert.equal((await ptalign(["task", "decide", "--model", "sim:e?noise=0&leak=0", "--data", nli, "--draws", "4", "--bootstrap", "100", "--out", out])).code, 0);
    const json = await ptalign(["advise", out, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const tasks = (JSON.parse(json.stdout) as { tasks: { domain: string; ranking: { model: string; type: string }[]; favours: string | null; split: number }[] }).tasks;
    const c13k = tasks.find((t) => t.domain === "decide · choices13k · 8 contexts")!;
    assert.deepEqual(c13k.ranking.map((l) => [l.model.replace(/\?.*/, ""), l.type]), [["sim:e", "E"], ["sim:d", "D"]]);
    assert.equal(c13k.favours, "E");
    assert.equal(c13k.split, 4 / 8, "people split (bRate 0.3–0.7) on rows 1, 2, 3, 5");
    const chaos = tasks.find((t) => t.domain.startsWith("decide · chaosnli"))!;
    assert.equal(chaos.favours, null);
    const text = await ptalign(["advise", out]);
    assert.match(text.stdout, /task decide · choices13k · 8 contexts \(people split on 50% of the contexts\):\n  1\. sim:e\S*  E  — tv 0\.000/);
    assert.match(text.stdout, /favours: E \(sim:e/);
    assert.match(text.stdout, /favours: — \(no D-type model was measured on these contexts/);
  });
});

describe("task decide: ChaosNLI", () => {
  it("a sim model that follows the label distribution: JSD ≈ 0, KL ≈ 0, accuracy 1; groups by subset", async () => {
    const dir = await chaosDir();
    const { code, results, stderr } = await decide(["--model", "sim:e?noise=0&leak=0", "--data", dir, "--draws", "4", ...FAST]);
    assert.equal(code, 0, stderr);
    const r = results[0]!;
    assert.equal(r.data.format, "chaosnli");
    close(extra(r).jsd.mean, 0, 1e-6);
    close(r.metrics.kl.mean, 0, 1e-9);
    assert.equal(extra(r).accuracy.mean, 1);
    assert.deepEqual(Object.keys(r.groups!).sort(), ["alphanli", "snli"]);
    assert.deepEqual(r.contexts.find((c) => c.id === "2407214681.jpg#0r1n")!.options, ["e", "n", "c"]);
  });

  it("a greedy model: JS distance (natural log, as ChaosNLI) and KL with the model clipped at 1e-15, by hand", async () => {
    const dir = await chaosDir();
    const { code, results, stderr } = await decide(["--model", "sim:e?noise=0&leak=0", "--data", join(dir, "chaosNLI_snli.jsonl"), "--temperature", "0", "--draws", "2", "--permutations", "0", ...FAST]);
    assert.equal(code, 0, stderr);
    const c = results[0]!.contexts[0]!;
    // people (.3, .7, 0); model one-hot on n. m = (.15, .85, 0): JSD = ½[.3 ln 2 + .7 ln(.7/.85)] + ½ ln(1/.85).
    const jsd = 0.5 * (0.3 * Math.log(2) + 0.7 * Math.log(0.7 / 0.85)) + 0.5 * Math.log(1 / 0.85);
    close((c.extra as { jsd: number }).jsd, Math.sqrt(jsd), 1e-9);
    close((c.extra as { jsd: number }).jsd, 0.342457, 1e-6);
    close(jsDistance([0.3, 0.7, 0], [0, 1, 0]), Math.sqrt(jsd), 1e-9);
    // KL(people ‖ model) = .3 ln(.3 / 1e-15) + .7 ln .7 (model renormalised over 1 + 2e-15).
    close(c.kl, 0.3 * Math.log(0.3 / 1e-15) + 0.7 * Math.log(0.7), 1e-9);
    assert.equal((c.extra as { correct: boolean }).correct, true);
  });
});

describe("task decide: generic JSONL, selection, resume, dry run", () => {
  const JSONL = Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `q${i}`, context: `Question ${i}?`, options: ["yes", "no", "maybe"], counts: [i + 1, 10 - i, 5] })).join("\n") + "\n";

  it("counts become P_task; --sample N --seed S is reproducible and stays in file order; --limit takes the first N", async () => {
    const file = join(await tempDir(), "d.jsonl");
    await writeFile(file, JSONL);
    const ids = async (args: string[]) => (await decide(["--model", "sim:e", "--data", file, "--draws", "2", ...args, ...FAST])).results[0]!.contexts.map((c) => c.id);
    const a = await ids(["--sample", "4", "--seed", "3"]);
    assert.deepEqual(await ids(["--sample", "4", "--seed", "3"]), a);
    assert.equal(a.length, 4);
    assert.deepEqual(a, [...a].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))));
    assert.notDeepEqual(await ids(["--sample", "4", "--seed", "4"]), a);
    assert.deepEqual(await ids(["--limit", "3"]), ["q0", "q1", "q2"]);
    const r = (await decide(["--model", "sim:e?noise=0&leak=0", "--data", file, "--limit", "1", "--draws", "2", ...FAST])).results[0]!;
    assert.deepEqual(r.contexts[0]!.target, [1 / 16, 10 / 16, 5 / 16]);
  });

  it("resumes from the checkpoint: contexts measured before the interruption are not measured again, the numbers are the same", async () => {
    const dir = await tempDir();
    const file = join(dir, "d.jsonl");
    await writeFile(file, JSONL);
    const out = join(dir, "results");
    const args = ["--model", "sim:d", "--data", file, "--draws", "3", "--bootstrap", "100"];
    const full = await decide([...args, "--no-save", "--json"]);
    assert.equal(full.code, 0, full.stderr);
    // Interrupted after 4 contexts, the 5th torn mid-line: what the checkpoint holds then.
    const lines = full.results[0]!.contexts.map((c) => JSON.stringify(c));
    const partial = join(out, "tasks", "partial");
    await mkdir(partial, { recursive: true });
    const key = await keyOf(out, args);
    await writeFile(join(partial, `decide-${key}.jsonl`), lines.slice(0, 4).join("\n") + "\n" + lines[4]!.slice(0, 20));
    const resumed = await decide([...args, "--out", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const r = resumed.results[0]!;
    assert.equal(r.resumed, 4);
    assert.deepEqual(r.contexts, full.results[0]!.contexts, "the same records, measured or resumed");
    assert.deepEqual(r.metrics, full.results[0]!.metrics);
    // Stored: the checkpoint is gone, the result is in DIR/tasks.
    assert.deepEqual(await readdir(partial), []);
    assert.equal((await readdir(join(out, "tasks"))).filter((f) => f.endsWith(".json")).length, 1);
  });

  it("--dry-run: contexts, scorings and an estimate; nothing measured or stored", async () => {
    const dir = await tempDir();
    const file = join(dir, "d.jsonl");
    await writeFile(file, JSONL);
    const out = join(dir, "results");
    const r = await ptalign(["task", "decide", "--model", "sim:e", "--data", file, "--draws", "4", "--runs", "2", "--permutations", "2", "--limit", "5", "--dry-run", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /5 of 10 contexts .* 10 scorings each \(2 runs × 4 draws \+ 2 permutations\) = 50 per model/);
    await assert.rejects(readdir(join(out, "tasks")));
  });
});

/** The checkpoint key of a decide command, as measureChoice computes it (the same inputs). */
async function keyOf(out: string, args: string[]): Promise<string> {
  const { decideTask } = await import("../../src/tasks/decide/task.ts");
  const { checkpointKey } = await import("../../src/tasks/choice/checkpoint.ts");
  const { openModel, closeModel, isSimModel } = await import("../../src/backends/index.ts");
  const flag = (n: string) => args[args.indexOf(n) + 1]!;
  const s = decideTask.settings({ seed: 1, data: flag("--data"), draws: Number(flag("--draws")), bootstrap: Number(flag("--bootstrap")), out, save: true, protocol: "sequential", permutations: 1, temperature: 1, prune: 1e-7, format: "auto" });
  const d = await decideTask.load(s);
  const m = await openModel(flag("--model"));
  const name = isSimModel(m) ? m.spec : flag("--model");
  await closeModel(m);
  const { out: _o, data: _d, ...numbers } = s.core;
  return checkpointKey({ task: "decide", model: name, settings: numbers, extra: s.extra, contexts: d.data.contexts });
}

describe("task decide: contexts the model cannot answer are flagged, never silently scored", () => {
  it("off-format (mean leak > 0.5): kept in contexts, listed in flagged, left out of the aggregates, warned about", async () => {
    const dir = await c13kDir();
    const { code, results, stderr } = await decide(["--model", "sim:e?noise=0&leak=0.6", "--data", dir, "--limit", "3", "--draws", "2", ...FAST]);
    assert.equal(code, 0, stderr);
    const r = results[0]!;
    assert.equal(r.contexts.length, 3);
    assert.ok(r.contexts.every((c) => c.off_format === true));
    assert.deepEqual(r.flagged.map((f) => f.reason.replace(/ \d.*$/, "")), Array(3).fill("off-format: mean leak"));
    assert.equal(r.metrics.contexts, 0);
    assert.equal(r.metrics.tv.mean, null);
    assert.match(stderr, /off-format on 3 of 3 contexts .*c13k_selections\.csv:2/);
  });

  it("a model with no probability on any label: unscored, with the loop's advice; the other contexts still measured", async () => {
    const model = await cachedModel("no-labels.gguf", { row: { "▁X": 1 } }, (path) =>
      writeBigramModel(path, { pieces: completePieces(["▁A", "▁B", "▁X", ","]), defaultRow: { "▁X": 1 }, rows: {} }),
    );
    const dir = await c13kDir();
    const { code, results, stderr } = await decide(["--model", model, "--data", dir, "--limit", "2", "--draws", "2", "--permutations", "0", ...FAST]);
    assert.equal(code, 0, stderr);
    const r = results[0]!;
    assert.ok(r.contexts.every((c) => c.ptoken === null && /no probability on any answer/.test(c.unscored ?? "")));
    assert.equal(r.flagged.length, 2);
    assert.equal(r.metrics.contexts, 0);
    assert.match(stderr, /2 of 2 contexts could not be scored/);
  });
});

describe("task decide: bad input is one line naming file and line, exit 2, nothing stored lost", () => {
  const cases: [string, (dir: string) => Promise<string>, RegExp][] = [
    ["a missing file", async (dir) => join(dir, "nope.jsonl"), /--data .*nope\.jsonl: no such file or folder/],
    [
      "options and probabilities of different lengths",
      async (dir) => {
        const f = join(dir, "len.jsonl");
        await writeFile(f, `{"id": "a", "context": "x", "options": ["p", "q"], "p": [0.5, 0.5]}\n{"id": "b", "context": "x", "options": ["p", "q", "r"], "p": [0.5, 0.5]}\n`);
        return f;
      },
      /len\.jsonl:2: 3 options but 2 values in "p"/,
    ],
    [
      "probabilities that do not sum to 1",
      async (dir) => {
        const f = join(dir, "sum.jsonl");
        await writeFile(f, `{"id": "a", "context": "x", "options": ["p", "q"], "p": [0.5, 0.6]}\n`);
        return f;
      },
      /sum\.jsonl:1: "p" sums to 1\.1, not 1/,
    ],
    [
      "a malformed line",
      async (dir) => {
        const f = join(dir, "bad.jsonl");
        await writeFile(f, `{"id": "a", "context": "x", "options": ["p", "q"], "p": [0.5, 0.5]}\n\n{"id": "b", "context": \n`);
        return f;
      },
      /bad\.jsonl:3: not a JSON object/,
    ],
    [
      "a choices13k row whose problem is missing from the JSON",
      async (dir) => {
        const d = join(dir, "c13k");
        await mkdir(d);
        await writeFile(join(d, "c13k_selections.csv"), C13K_CSV);
        const { "7": _, ...rest } = C13K_PROBLEMS;
        await writeFile(join(d, "c13k_problems.json"), JSON.stringify(rest));
        return d;
      },
      /c13k_selections\.csv:9: no problem "7" in .*c13k_problems\.json \(its keys are the CSV's 0-based row indices\)/,
    ],
    [
      "a choices13k bRate that is not a number",
      async (dir) => {
        const d = join(dir, "c13k-nan");
        await mkdir(d);
        await writeFile(join(d, "c13k_selections.csv"), C13K_CSV.replace("0.2222222222222222,", "x,"));
        await writeFile(join(d, "c13k_problems.json"), JSON.stringify(C13K_PROBLEMS));
        return d;
      },
      /c13k_selections\.csv:5: bRate "x" is not a number/,
    ],
    [
      "a ChaosNLI item without label_count",
      async (dir) => {
        const f = join(dir, "chaosNLI_snli.jsonl");
        await writeFile(f, SNLI.replace(`"label_count": [3, 94, 3], `, ""));
        return f;
      },
      /chaosNLI_snli\.jsonl:2: label_count: /,
    ],
    [
      "a ChaosNLI NLI item with two counts for three labels",
      async (dir) => {
        const f = join(dir, "chaos2", "chaosNLI_mnli_m.jsonl");
        await mkdir(join(dir, "chaos2"));
        await writeFile(f, SNLI.replace(`"label_count": [30, 70, 0]`, `"label_count": [30, 70]`));
        return f;
      },
      /chaosNLI_mnli_m\.jsonl:1: 3 options but 2 values in "label_count"/,
    ],
    [
      "a choices13k lottery whose probabilities do not sum to 1",
      async (dir) => {
        const d = join(dir, "c13k-sum");
        await mkdir(d);
        await writeFile(join(d, "c13k_selections.csv"), C13K_CSV);
        await writeFile(join(d, "c13k_problems.json"), JSON.stringify({ ...C13K_PROBLEMS, "2": { B: [[0.9, 1.0]], A: [[0.5, 2.0], [0.5, 0.0]] } }, null, 1));
        return d;
      },
      /c13k_problems\.json:\d+: problem "2": the probabilities of "B" sum to 0\.9, not 1/,
    ],
  ];

  it("each bad input: exit 2, one line, the stored result untouched", async () => {
    const dir = await tempDir();
    const out = join(dir, "results");
    const good = join(dir, "good.jsonl");
    await writeFile(good, `{"id": "a", "context": "x", "options": ["p", "q"], "p": [0.5, 0.5]}\n`);
    const ok = await ptalign(["task", "decide", "--model", "sim:e", "--data", good, "--draws", "2", "--out", out]);
    assert.equal(ok.code, 0, ok.stderr);
    const stored = async () => Promise.all((await readdir(join(out, "tasks"))).filter((f) => f.endsWith(".json")).map((f) => readFile(join(out, "tasks", f), "utf8")));
    const before = await stored();
    assert.equal(before.length, 1);
    for (const [what, make, message] of cases) {
      const r = await ptalign(["task", "decide", "--model", "sim:e", "--data", await make(dir), "--draws", "2", "--out", out]);
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${what}: one line: ${r.stderr}`);
      assert.match(lines[0]!, message, what);
      assert.doesNotMatch(r.stderr, /internal error|at .*\.ts:\d+/, what);
    }
    assert.deepEqual(await stored(), before, "nothing stored lost");
  });
});
