import assert from "node:assert/strict";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { completePieces, writeBigramModel } from "../../src/synth/index.ts";
import { loadSearch } from "../../src/tasks/search/data.ts";
import { DEFAULT_SEARCH, runSearch, searchStored } from "../../src/tasks/search/run.ts";
import { ptalign } from "../support/cli.ts";
import { cachedModel } from "../support/modelCache.ts";
import { writeBeir, writeCranfield, writeNfcorpus, writeTrec, type Doc } from "../support/searchLayouts.ts";
import { tempDir } from "../support/tmp.ts";
import { Interrupted } from "../../src/errors.ts";

interface PoolDoc { id: string; grade: number; judged: boolean }
interface QueryRec { id: string; source_id?: string; pool: PoolDoc[]; exposure: number[]; target_exposure: number[]; ee_l: number; ee_d: number; ee_r: number; rankings: number[][]; verdict: string; by_rank: { rank: number; verdict: string }[] }
interface Result { task: string; model: string; settings: { patience: number; browsing: string }; metrics: { ee_l: number; ee_d: number; ee_r: number; verdict: string; queries: number }; queries: QueryRec[] }

const docs = (n: number): Doc[] => Array.from({ length: n }, (_, i) => ({ id: `d${i + 1}`, text: `document ${i + 1} about topic ${i % 3}` }));

async function json(args: string[]): Promise<Result[]> {
  const res = await ptalign(["task", "search", ...args, "--json", "--no-save"]);
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as Result[];
}

/** ε* recomputed by a reader from the recorded grades and patience (RBP), as docs/tasks.md gives it. */
function readerTarget(grades: number[], g: number): number[] {
  return grades.map((x) => {
    const b = grades.filter((y) => y > x).length;
    const m = grades.filter((y) => y === x).length;
    return (g ** b - g ** (b + m)) / (m * (1 - g));
  });
}
const sq = (a: number[], b: number[]) => a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

async function err(args: string[]): Promise<string> {
  const res = await ptalign(["task", "search", ...args, "--no-save"]);
  assert.equal(res.code, 2, `exit 2 expected: ${res.stdout}${res.stderr}`);
  const lines = res.stderr.trim().split("\n");
  assert.equal(lines.length, 1, res.stderr);
  assert.doesNotMatch(res.stderr, /internal error|\n\s+at /);
  return lines[0]!;
}

describe("task search: BEIR layout, grades 0–3", () => {
  it("reads the grades; a target-following sim gives EE-L ≈ 0 and a reader recomputes ε*, EE-L, EE-D, EE-R to 1e-9", async () => {
    const dir = await writeBeir(join(await tempDir(), "scifact"), docs(12), [{ id: "q1", text: "topic zero" }, { id: "q2", text: "topic one" }, { id: "q3", text: "nothing judged relevant" }], [
      ["q1", "d1", 3], ["q1", "d2", 2], ["q1", "d3", 2], ["q1", "d4", 1], ["q1", "d5", 0],
      ["q2", "d6", 1], ["q2", "d7", 1], ["q2", "d8", 1],
      ["q3", "d9", 0],
    ]);
    const [e] = await json(["--model", "sim:e?noise=0", "--data", dir, "--pool", "7", "--runs", "30", "--seed", "3"]);
    assert.equal(e!.task, "search");
    assert.equal(e!.metrics.queries, 2, "q3 has no relevant judgment: left out");
    const q1 = e!.queries.find((q) => q.id === "q1")!;
    const grade = Object.fromEntries(q1.pool.map((d) => [d.id, d.grade]));
    assert.deepEqual([grade.d1, grade.d2, grade.d3, grade.d4, grade.d5], [3, 2, 2, 1, 0]);
    assert.equal(q1.pool.length, 7);
    assert.equal(q1.pool.filter((d) => !d.judged).length, 2, "two unjudged documents drawn, read as grade 0");
    for (const q of e!.queries) {
      const grades = q.pool.map((d) => d.grade);
      const target = readerTarget(grades, e!.settings.patience);
      target.forEach((t, i) => assert.ok(Math.abs(t - q.target_exposure[i]!) < 1e-9, `ε* of ${q.pool[i]!.id}`));
      assert.ok(Math.abs(sq(q.exposure, target) - q.ee_l) < 1e-9);
      assert.ok(Math.abs(dot(q.exposure, q.exposure) - q.ee_d) < 1e-9);
      assert.ok(Math.abs(dot(q.exposure, target) - q.ee_r) < 1e-9);
      // Every ranking puts the grades in order (ties in any order): the model follows the target.
      for (const r of q.rankings) assert.deepEqual(r.map((i) => grades[i]), [...grades].sort((a, b) => b - a));
      assert.ok(q.ee_l < 0.01, `EE-L ${q.ee_l} ≈ 0`);
    }
    // The exposure of tied documents differs only through the histories drawn: ≈ 0 overall.
    assert.ok(e!.metrics.ee_l < 0.005, `EE-L ${e!.metrics.ee_l}`);
    assert.equal(e!.metrics.verdict, "E");
    // sim:d bets on one document per rank, drawn from P_task: each rank far from P_task, the bets changing from one
    // ranking to the next; on average its exposure is still the target's.
    const [d] = await json(["--model", "sim:d?peak=0.95", "--data", dir, "--pool", "7", "--runs", "30", "--seed", "3"]);
    assert.equal(d!.metrics.verdict, "D");
    assert.ok(d!.metrics.ee_l < 0.02, `sim:d EE-L ${d!.metrics.ee_l}`);
    // --exposure exact reads every ranking prefix: the ties cost nothing, EE-L is 0 to rounding.
    const [x] = await json(["--model", "sim:e?noise=0", "--data", dir, "--pool", "6", "--runs", "2", "--exposure", "exact"]);
    for (const q of x!.queries) {
      assert.equal((q as QueryRec & { exposure_method: string }).exposure_method, "exact");
      assert.ok(q.ee_l < 1e-15, `exact EE-L ${q.ee_l}`);
    }
    const refused = await err(["--model", "sim:e", "--data", dir, "--pool", "8", "--exposure", "exact"]);
    assert.match(refused, /--exposure exact reads every ranking prefix: a pool of 8 needs up to 69280 P_token readings per query; use --pool 7 or fewer/);
  });

  it("distinct grades: the target policy is one ranking, so EE-L is exactly 0 for E and D alike; collapsed is far", async () => {
    const dir = await writeBeir(join(await tempDir(), "b"), docs(4), [{ id: "q", text: "q" }], [["q", "d1", 3], ["q", "d2", 2], ["q", "d3", 1], ["q", "d4", 0]]);
    const [e, d, c] = await json(["--model", "sim:e?noise=0", "--model", "sim:d?peak=0.95", "--model", "sim:collapsed?peak=1&jitter=0", "--data", dir, "--pool", "4", "--runs", "6"]);
    assert.equal(e!.queries[0]!.ee_l, 0);
    assert.deepEqual(e!.queries[0]!.exposure, e!.queries[0]!.target_exposure);
    assert.equal(e!.metrics.verdict, "E");
    assert.equal(c!.metrics.verdict, "collapsed");
    assert.ok(c!.metrics.ee_l > 0.3, `collapsed EE-L ${c!.metrics.ee_l}`);
    // sim:d bets on one document per rank, drawn from P_task: with one document of the best grade at every rank the
    // bet is the target itself, so D and E cannot differ here (a deterministic target has no spread to bet across).
    assert.equal(d!.metrics.verdict, "E");
    assert.equal(d!.queries[0]!.ee_l, 0);
    assert.equal(d!.queries[0]!.by_rank.length, 3, "three ranks are choices; the fourth is what is left");
  });
});

describe("task search: a collapsed model gives the closed-form EE-L", () => {
  it("pool of two (grade 1 and an unjudged document): it always ranks the wrong one first — EE-L 0.5, EE-D 1.25, EE-R 1 by hand", async () => {
    const dir = await writeBeir(join(await tempDir(), "two"), docs(2), [{ id: "q", text: "q" }], [["q", "d1", 1]]);
    const [c] = await json(["--model", "sim:collapsed?peak=1&jitter=0", "--data", dir, "--pool", "2", "--runs", "3"]);
    const q = c!.queries[0]!;
    // Ranks 1, 2 have exposure 1, γ = 0.5 (RBP); the relevant document is always second: ε = 0.5 for it, 1 for the other.
    // ε* = (1, 0.5). EE-L = 0.5² + 0.5² = 0.5; EE-D = 0.25 + 1 = 1.25; EE-R = 0.5·1 + 1·0.5 = 1.
    const rel = q.pool.findIndex((d) => d.id === "d1");
    assert.deepEqual([q.exposure[rel], q.exposure[1 - rel]], [0.5, 1]);
    assert.deepEqual([q.target_exposure[rel], q.target_exposure[1 - rel]], [1, 0.5]);
    assert.equal(q.ee_l, 0.5);
    assert.equal(q.ee_d, 1.25);
    assert.equal(q.ee_r, 1);
  });

  it("always the first remaining document (mode=0): ε = γ^(position) of the pool order, EE-L = Σ (γ^i − ε*)²", async () => {
    const dir = await writeBeir(join(await tempDir(), "c"), docs(6), [{ id: "q", text: "q" }], [["q", "d1", 3], ["q", "d2", 1], ["q", "d3", 1], ["q", "d4", 0]]);
    const [c] = await json(["--model", "sim:collapsed?peak=1&jitter=0&mode=0", "--data", dir, "--pool", "6", "--runs", "2", "--patience", "0.8"]);
    const q = c!.queries[0]!;
    const eps = q.pool.map((_, i) => 0.8 ** i);
    const target = readerTarget(q.pool.map((d) => d.grade), 0.8);
    assert.deepEqual(q.rankings, [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]);
    eps.forEach((x, i) => assert.ok(Math.abs(q.exposure[i]! - x) < 1e-12));
    assert.ok(Math.abs(q.ee_l - sq(eps, target)) < 1e-12);
  });
});

describe("task search: TREC and NFCorpus layouts", () => {
  it("TREC: SGML documents, topics, qrels `qid 0 docid grade` with grades 0–3", async () => {
    const dir = await writeTrec(join(await tempDir(), "trec"), docs(8), [{ id: "401", text: "foreign minorities germany" }, { id: "402", text: "behavioral genetics" }], [
      ["401", "d1", 3], ["401", "d2", 2], ["401", "d3", 1], ["401", "d4", 0], ["402", "d5", 2],
    ]);
    const [e] = await json(["--model", "sim:e", "--data", dir, "--pool", "5", "--runs", "2"]);
    const q = e!.queries.find((x) => x.id === "401")!;
    assert.deepEqual(Object.fromEntries(q.pool.filter((d) => d.judged).map((d) => [d.id, d.grade])), { d1: 3, d2: 2, d3: 1, d4: 0 });
    assert.equal(e!.metrics.queries, 2);
  });

  it("NFCorpus: tab-separated .docs, queries from every .queries file, two .qrel files need --qrels", async () => {
    const dir = await writeNfcorpus(join(await tempDir(), "nfcorpus"), docs(6).map((d) => ({ ...d, id: d.id.replace("d", "MED-") })), [{ id: "PLAIN-2", text: "breast cancer cells feed on cholesterol" }], [{ id: "PLAIN-1008", text: "deafness" }], [
      ["PLAIN-2", "MED-1", 2], ["PLAIN-2", "MED-2", 1], ["PLAIN-1008", "MED-3", 2],
    ]);
    const line = await err(["--model", "sim:e", "--data", dir]);
    assert.match(line, /2 qrels files \(s-3\.qrel, s-4\.qrel\); choose one with --qrels FILE/);
    const [e] = await json(["--model", "sim:e", "--data", dir, "--qrels", "s-3.qrel", "--pool", "4", "--runs", "2"]);
    assert.deepEqual(e!.queries.map((q) => q.id).sort(), ["PLAIN-1008", "PLAIN-2"], "a query of each query file");
    assert.deepEqual(e!.queries.find((q) => q.id === "PLAIN-2")!.pool.filter((d) => d.judged).map((d) => d.grade).sort(), [1, 2]);
  });
});

describe("task search: Cranfield", () => {
  it("queries numbered by position (.I 004 is query 3), codes read as 5 − code, −1 left out of the pool", async () => {
    const dir = await writeCranfield(join(await tempDir(), "cran"), docs(9).map((d, i) => ({ ...d, id: String(i + 1) })), [
      { number: "001", text: "what similarity laws must be obeyed" },
      { number: "002", text: "what are the structural problems" },
      { number: "004", text: "what problems of heat conduction" },
    ], [
      [1, "2", 2], [1, "3", 4], [1, "9", -1],
      [3, "4", 1], [3, "5", 4], [3, "6", 3], [3, "7", -1],
    ]);
    const [e] = await json(["--model", "sim:e", "--data", dir, "--pool", "8", "--runs", "2"]);
    assert.deepEqual(e!.queries.map((q) => [q.id, q.source_id]), [["1", "001"], ["3", "004"]], "query 2 has no judgment");
    const q3 = e!.queries.find((q) => q.id === "3")!;
    const judged = Object.fromEntries(q3.pool.filter((d) => d.judged).map((d) => [d.id, d.grade]));
    assert.deepEqual(judged, { "4": 4, "5": 1, "6": 2 }, "code 1 (complete answer) → 4, 3 → 2, 4 (minimum interest) → 1");
    assert.equal(q3.pool.length, 8, "9 documents, the −1 one never drawn");
    assert.ok(!q3.pool.some((d) => d.id === "7"), "the −1 document is not in the pool");
    assert.ok(!e!.queries.find((q) => q.id === "1")!.pool.some((d) => d.id === "9"));
  });

  it("a code that is not Cleverdon's is one line naming cranqrel and its line", async () => {
    const dir = await writeCranfield(join(await tempDir(), "cran2"), docs(3).map((d, i) => ({ ...d, id: String(i + 1) })), [{ number: "001", text: "a" }], [[1, "2", 2]]);
    await writeFile(join(dir, "cranqrel"), "1 2 2 \n1 3 x2 \n");
    assert.match(await err(["--model", "sim:e", "--data", dir]), /cranqrel:2: relevance code "x2" is not one of Cleverdon's codes/);
  });
});

describe("task search: bad inputs are one line naming file and line, exit 2, nothing stored lost", () => {
  it("missing file, unknown document, unknown query, non-integer grade, empty pool", async () => {
    const root = await tempDir();
    const out = join(root, "results");
    // A result stored first: every failure below must leave it in place.
    const good = await writeBeir(join(root, "good"), docs(3), [{ id: "q", text: "q" }], [["q", "d1", 1]]);
    const ok = await ptalign(["task", "search", "--model", "sim:e", "--data", good, "--pool", "3", "--runs", "2", "--out", out]);
    assert.equal(ok.code, 0, ok.stderr);
    const stored = await readdir(join(out, "tasks"));
    const before = await Promise.all(stored.filter((f) => f.endsWith(".json")).map((f) => readFile(join(out, "tasks", f), "utf8")));
    const fail = (dir: string) => err(["--model", "sim:e", "--data", dir, "--out", out]);

    const missing = await writeBeir(join(root, "missing"), docs(3), [{ id: "q", text: "q" }], [["q", "d1", 1]]);
    await rm(join(missing, "queries.jsonl"));
    assert.match(await fail(missing), /missing\/queries\.jsonl: not found; a BEIR folder holds corpus\.jsonl, queries\.jsonl and qrels/);

    const unknownDoc = await writeBeir(join(root, "unknown-doc"), docs(3), [{ id: "q", text: "q" }], [["q", "d1", 1], ["q", "d99", 2]]);
    assert.match(await fail(unknownDoc), /unknown-doc\/qrels\/test\.tsv:3: document "d99" is not in .*corpus\.jsonl/);

    const unknownQuery = await writeTrec(join(root, "unknown-query"), docs(3), [{ id: "401", text: "q" }], [["401", "d1", 1], ["999", "d2", 1]]);
    assert.match(await fail(unknownQuery), /unknown-query\/qrels\.txt:2: query "999" is not in .*topics\.txt/);

    const fractional = await writeBeir(join(root, "fractional"), docs(3), [{ id: "q", text: "q" }], [["q", "d1", "1.5"]]);
    assert.match(await fail(fractional), /fractional\/qrels\/test\.tsv:2: grade "1\.5" is not an integer/);

    const lonely = await writeBeir(join(root, "lonely"), docs(1), [{ id: "q", text: "q" }], [["q", "d1", 2]]);
    assert.match(await fail(lonely), /lonely\/qrels\/test\.tsv:2: the pool of query q holds 1 document: nothing to rank/);

    const empty = await writeBeir(join(root, "empty"), [], [{ id: "q", text: "q" }], []);
    await writeFile(join(empty, "corpus.jsonl"), "");
    assert.match(await fail(empty), /empty\/corpus\.jsonl:1: no documents/);

    const after = await Promise.all(stored.filter((f) => f.endsWith(".json")).map((f) => readFile(join(out, "tasks", f), "utf8")));
    assert.deepEqual(after, before, "the stored result is untouched");
    const ls = await ptalign(["ls", out]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /search/);
  });
});

describe("task search on a generated GGUF model: P_token read exactly over the remaining labels", () => {
  it("position-biased model (A .5, B .3, C .2 after the prompt and after every comma): each rank's P_token and leak by hand", async () => {
    const spec = { pieces: completePieces(["▁A", "▁B", "▁C", ","]), defaultRow: { "▁A": 0.5, "▁B": 0.3, "▁C": 0.2 }, rows: { "▁A": { ",": 1 }, "▁B": { ",": 1 }, "▁C": { ",": 1 } } };
    const path = await cachedModel("search-letters.gguf", spec, (p) => writeBigramModel(p, spec));
    const dir = await writeBeir(join(await tempDir(), "gguf"), docs(3), [{ id: "q", text: "q" }], [["q", "d1", 2], ["q", "d2", 1]]);
    const res = await ptalign(["task", "search", "--model", path, "--data", dir, "--pool", "3", "--runs", "4", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const [r] = JSON.parse(res.stdout) as (Result & { queries: (QueryRec & { steps: { ptoken: number[]; leak: number }[][] })[] })[];
    const q = r!.queries[0]!;
    const p = [0.5, 0.3, 0.2];
    for (const [k, ranking] of q.rankings.entries()) {
      const [first, second] = q.steps[k]!;
      first!.ptoken.forEach((v, i) => assert.ok(Math.abs(v - p[i]!) < 1e-6, `rank 1: ${first!.ptoken}`));
      assert.ok(first!.leak < 1e-6);
      // Rank 2: the label written at rank 1 is no answer any more; its mass is leak, the rest renormalised.
      const left = [0, 1, 2].filter((i) => i !== ranking[0]);
      second!.ptoken.forEach((v, j) => assert.ok(Math.abs(v - p[left[j]!]! / (1 - p[ranking[0]!]!)) < 1e-6, `rank 2: ${second!.ptoken}`));
      assert.ok(Math.abs(second!.leak - p[ranking[0]!]!) < 1e-6, `rank 2 leak ${second!.leak}`);
    }
    // ε recomputed from the recorded P_token: Σ over rankings of e_1·P1(d) + e_2·P2(d) + e_3·1{last}, then averaged
    // with the last rank conditioned on rank 2 (docs/tasks.md).
    const eps = [0, 0, 0];
    for (const [k, ranking] of q.rankings.entries()) {
      const [first, second] = q.steps[k]!;
      first!.ptoken.forEach((v, i) => (eps[i]! += v));
      const left = [0, 1, 2].filter((i) => i !== ranking[0]);
      second!.ptoken.forEach((v, j) => {
        eps[left[j]!]! += 0.5 * v;
        eps[left[1 - j]!]! += 0.25 * v;
      });
    }
    eps.forEach((x, i) => assert.ok(Math.abs(x / 4 - q.exposure[i]!) < 1e-9));
    // Exact: every prefix. ε(d) = p_d + Σ_{i≠d} p_i (p_d/(1 − p_i)·½ + (1 − p_d/(1 − p_i))·¼).
    const ex = await ptalign(["task", "search", "--model", path, "--data", dir, "--pool", "3", "--runs", "1", "--exposure", "exact", "--json", "--no-save"]);
    assert.equal(ex.code, 0, ex.stderr);
    const xq = (JSON.parse(ex.stdout) as Result[])[0]!.queries[0]!;
    p.forEach((pd, d) => {
      const hand = pd + p.reduce((acc, pi, i) => (i === d ? acc : acc + pi * ((pd / (1 - pi)) * 0.5 + (1 - pd / (1 - pi)) * 0.25)), 0);
      assert.ok(Math.abs(xq.exposure[d]! - hand) < 1e-6, `exact ε(${d}) ${xq.exposure[d]} vs ${hand}`);
    });
    // Position bias: the same pool in other orders. This model prefers positions, not documents, so ε moves with
    // the order; sim:e?noise=0 follows the grades wherever they are shown (0 exactly, exact ε both times).
    const perm = ["--data", dir, "--pool", "3", "--runs", "1", "--exposure", "exact", "--permutations", "3", "--json", "--no-save"];
    const biased = await ptalign(["task", "search", "--model", path, ...perm]);
    assert.equal(biased.code, 0, biased.stderr);
    const order = (JSON.parse(biased.stdout) as { metrics: { order_ee_l: number } }[])[0]!.metrics.order_ee_l;
    assert.ok(order > 0.01, `position-biased order_ee_l ${order}`);
    const fair = (await json(["--model", "sim:e?noise=0", ...perm.slice(0, -2)])) as unknown as { metrics: { order_ee_l: number } }[];
    assert.equal(fair[0]!.metrics.order_ee_l, 0);
  });
});

describe("task search: resume", () => {
  it("an interrupted measurement keeps the queries it finished; the same settings measure only the rest, with the same numbers", async () => {
    const root = await tempDir();
    const out = join(root, "results");
    const dir = await writeBeir(join(root, "beir"), docs(8), [{ id: "q1", text: "a" }, { id: "q2", text: "b" }, { id: "q3", text: "c" }], [["q1", "d1", 2], ["q1", "d2", 1], ["q2", "d3", 1], ["q3", "d4", 3], ["q3", "d5", 1]]);
    const data = await loadSearch({ data: dir, split: "test", pool: 5, docChars: 300, seed: 1 });
    const settings = { ...DEFAULT_SEARCH, seed: 1, runs: 3 };
    let units = 0;
    const stop = () => {
      if (++units === 7) throw new Error("interrupted"); // during q3's first ranking: q1 and q2 are done
    };
    await assert.rejects(runSearch("sim:d", data, { ...settings, out }, { onUnit: stop }), /interrupted/);
    const partial = await readdir(join(out, "tasks", "partial"));
    assert.equal(partial.length, 1);
    assert.equal((await readFile(join(out, "tasks", "partial", partial[0]!), "utf8")).trim().split("\n").length, 2);
    const resumed = await runSearch("sim:d", data, { ...settings, out });
    assert.equal(resumed.resumed, 2);
    const fresh = await runSearch("sim:d", data, settings);
    assert.deepEqual(resumed.queries, fresh.queries);
    assert.deepEqual(resumed.metrics, fresh.metrics);
    await searchStored(resumed);
    assert.deepEqual(await readdir(join(out, "tasks", "partial")), [], "the checkpoint goes once the result is stored");
  });

  it("Ctrl-C stops between queries: a result of the finished ones marked interrupted, its checkpoint kept for the next run", async () => {
    const root = await tempDir();
    const out = join(root, "results");
    const dir = await writeBeir(join(root, "beir"), docs(8), [{ id: "q1", text: "a" }, { id: "q2", text: "b" }, { id: "q3", text: "c" }], [["q1", "d1", 2], ["q2", "d3", 1], ["q3", "d4", 3]]);
    const data = await loadSearch({ data: dir, split: "test", pool: 4, docChars: 300, seed: 1 });
    const settings = { ...DEFAULT_SEARCH, seed: 1, runs: 2 };
    const c = new AbortController();
    let units = 0;
    const tick = () => (++units === 3 ? c.abort(new Interrupted("SIGINT")) : undefined); // during q2's second ranking
    const cut = await runSearch("sim:d", data, { ...settings, out }, { onUnit: tick, signal: c.signal });
    assert.deepEqual(cut.interrupted, { signal: "SIGINT", done: 2, total: 3, unit: "queries" });
    const fresh = await runSearch("sim:d", data, settings);
    assert.deepEqual(cut.queries, fresh.queries.slice(0, 2));
    await searchStored(cut);
    assert.equal((await readdir(join(out, "tasks", "partial"))).length, 1, "an interrupted result keeps its checkpoint");
    const resumed = await runSearch("sim:d", data, { ...settings, out });
    assert.equal(resumed.resumed, 2);
    assert.deepEqual(resumed.metrics, fresh.metrics);
  });
});
