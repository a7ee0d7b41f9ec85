import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { completePieces, writeBigramModel } from "../../src/synth/index.ts";
import { calibrationKl, gini, itemProbs, generateWorld, loadMovieLens, ndcg, rankOf, runRecommend, smoothedKl, spearman, type RecData } from "../../src/tasks/index.ts";
import { permutationsFor } from "../../src/tasks/recommend/run.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const close = (a: number | null | undefined, b: number, eps = 1e-9) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

describe("recommendation metrics: worked values", () => {
  it("rank (ties count against the item), NDCG, Gini, Spearman, smoothed KL, calibration", () => {
    assert.equal(rankOf([0.5, 0.3, 0.2], 1), 2);
    assert.equal(rankOf([0.4, 0.4, 0.2], 0), 2);
    close(ndcg(2, 3), 1 / Math.log2(3));
    assert.equal(ndcg(4, 3), 0);
    close(gini([0, 0, 1]), 2 / 3);
    close(gini([1, 1, 1]), 0);
    close(gini([0, 1, 3]), ((2 * 1 - 4) * 0 + (2 * 2 - 4) * 1 + (2 * 3 - 4) * 3) / (3 * 4));
    assert.equal(spearman([1, 2, 3], [3, 2, 1]), -1);
    close(spearman([0.5, 0.3, 0.2], [0.3, 0.5, 0.2]), 0.5); // ranks (3,2,1) vs (2,3,1): 1 − 6·2/(3·8)
    assert.equal(spearman([1, 1], [1, 1]), 1);
    close(smoothedKl([0.5, 0.5], [1, 0]), 0.5 * Math.log(0.5 / (0.99 + 0.005)) + 0.5 * Math.log(0.5 / 0.005));
    // History all in category y; list weights: x .8, y .2 → q̃ = .99·(.8, .2) + .01·(0, 1).
    close(calibrationKl([[0, 1]], [[1, 0], [1, 0], [0, 1]], [0.5, 0.3, 0.2]), Math.log(1 / 0.208));
  });
});

describe("controlled world", () => {
  it("P_task is P(i|u) = θ_u[cat(i)]/n_cat renormalised over the candidates; same seed, same world", () => {
    const w = generateWorld({ seed: 7, items: 20, categories: 4, users: 5, history: 4, candidates: 6, alpha: 0.5 });
    for (const u of w.users) {
      const p = itemProbs(u.prefs!, w.items, w.categories);
      const z = u.candidates.reduce((s, i) => s + p[i]!, 0);
      u.candidates.forEach((i, k) => close(u.ptask![k], p[i]! / z, 1e-12));
      assert.ok(u.candidates.includes(u.held_out));
      assert.equal(new Set([...u.history, ...u.candidates]).size, 4 + 6, "history and candidates are distinct items");
    }
    assert.deepEqual(generateWorld({ seed: 7, items: 20, categories: 4, users: 5, history: 4, candidates: 6, alpha: 0.5 }), w);
    assert.notDeepEqual(generateWorld({ seed: 8, items: 20, categories: 4, users: 5, history: 4, candidates: 6, alpha: 0.5 }).users, w.users);
  });
});

// One user: history "dog" (category y); candidates ant (x), bee (x), cat (y) shown in that order; next item: bee.
const DATA: RecData = {
  source: "world",
  categories: ["x", "y"],
  items: [
    { id: "0", title: "ant", categories: ["x"] },
    { id: "1", title: "bee", categories: ["x"] },
    { id: "2", title: "cat", categories: ["y"] },
    { id: "3", title: "dog", categories: ["y"] },
  ],
  users: [{ id: "u0", history: [3], held_out: 1, candidates: [0, 1, 2], ptask: [0.2, 0.3, 0.5] }],
};
const SETTINGS = { temperature: 1, runs: 2, seed: 1, permutations: 3, ks: [1, 3], prune: 1e-9 };

describe("recommendation on generated GGUF models: exact P_token over candidate labels", () => {
  it("position-biased model (letters: A .5, B .3, C .2 whatever the items): metrics by hand, and a permutation changes the ranking", async () => {
    const path = join(await tempDir(), "letters.gguf");
    const row = { "▁A": 0.5, "▁B": 0.3, "▁C": 0.2 };
    await writeBigramModel(path, { pieces: completePieces(["▁A", "▁B", "▁C", "\n"]), defaultRow: row, rows: { "▁A": { "\n": 1 }, "▁B": { "\n": 1 }, "▁C": { "\n": 1 } } });
    const r = await runRecommend(path, DATA, { ...SETTINGS, labels: "letters" }, { backend: { threads: 1 } });
    const q = r.users[0]!.ptoken!;
    [0.5, 0.3, 0.2].forEach((v, i) => close(q[i], v, 1e-6));
    close(r.metrics.leak, 0, 1e-6);
    // bee (position B, .3) ranks 2nd.
    assert.deepEqual([r.users[0]!.rank, r.metrics.hr["1"], r.metrics.hr["3"]], [2, 0, 1]);
    close(r.metrics.ndcg["3"], 1 / Math.log2(3));
    close(r.metrics.tv, 0.3, 1e-6); // ½(|.5−.2| + 0 + |.2−.5|)
    close(r.metrics.kl, 0.2 * Math.log(0.2 / (0.99 * 0.5 + 0.002)) + 0.3 * Math.log(0.3 / 0.3) + 0.5 * Math.log(0.5 / (0.99 * 0.2 + 0.005)), 1e-6);
    close(r.metrics.calibration_kl, Math.log(1 / 0.208), 1e-6);
    // The top item is ant (position A) in both runs: 1 of the 3 candidate items recommended, counts (2, 0, 0).
    close(r.metrics.coverage, 1 / 3);
    close(r.metrics.gini, 2 / 3);
    assert.equal(r.metrics.stability.seeds, 1); // deterministic engine: same P_token under every seed
    // Shown permuted, each item gets the probability of the position it lands on.
    const perms = permutationsFor(DATA.users[0]!, SETTINGS.seed, 3);
    const expected = perms.map((perm) => spearman([0.5, 0.3, 0.2], [0, 1, 2].map((i) => [0.5, 0.3, 0.2][perm.indexOf(i)]!)));
    close(r.metrics.stability.permutation, expected.reduce((a, b) => a + b, 0) / 3, 1e-9);
    assert.ok(r.metrics.stability.permutation! < 1, "a position-biased model changes its ranking when the order changes");
  });

  it("position-invariant model (titles: P depends on the item, not its place) = P_task: nothing changes under permutation", async () => {
    const path = join(await tempDir(), "titles.gguf");
    const row = { "▁ant": 0.2, "▁bee": 0.3, "▁cat": 0.5 };
    await writeBigramModel(path, { pieces: completePieces(["▁ant", "▁bee", "▁cat", "\n"]), defaultRow: row, rows: { "▁ant": { "\n": 1 }, "▁bee": { "\n": 1 }, "▁cat": { "\n": 1 } } });
    const r = await runRecommend(path, DATA, { ...SETTINGS, labels: "titles" }, { backend: { threads: 1 } });
    [0.2, 0.3, 0.5].forEach((v, i) => close(r.users[0]!.ptoken![i], v, 1e-6));
    close(r.metrics.tv, 0, 1e-6);
    close(r.metrics.kl, 0, 1e-6);
    assert.equal(r.metrics.stability.permutation, 1);
    assert.equal(r.metrics.stability.seeds, 1);
    assert.deepEqual([r.users[0]!.rank, r.metrics.hr["1"]], [2, 0]); // bee .3 behind cat .5
    close(r.metrics.coverage, 1 / 3); // cat, both runs
  });

  it("sim families: sim:e?noise=0 reproduces P_task; sim:d?peak=1 is one-hot", async () => {
    const world = generateWorld({ seed: 2, items: 20, categories: 4, users: 6, history: 3, candidates: 4, alpha: 0.5 });
    const e = await runRecommend("sim:e?noise=0&leak=0", world, { ...SETTINGS, labels: "letters" });
    close(e.metrics.tv, 0, 1e-12);
    assert.equal(e.metrics.stability.permutation, 1);
    const d = await runRecommend("sim:d?peak=1&leak=0", world, { ...SETTINGS, labels: "letters" });
    assert.ok(d.users.every((u) => Math.max(...u.ptoken!) === 1));
  });
});

describe("MovieLens loader", () => {
  it("ml-latest-small: leave-last-out by time, negatives never rated, quoted titles, genres as categories", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "ratings.csv"), "userId,movieId,rating,timestamp\n1,10,4.0,300\n1,20,3.0,100\n1,30,5.0,200\n1,40,2.0,50\n1,50,2.0,60\n2,10,1.0,5\n");
    await writeFile(join(dir, "movies.csv"), 'movieId,title,genres\n10,"American President, The (1995)",Comedy|Drama|Romance\n20,Heat (1995),Action|Crime\n30,Jumanji (1995),Adventure\n40,Nixon (1995),Drama\n50,Casino (1995),Crime\n60,Balto (1995),(no genres listed)\n70,Babe (1995),Children\n');
    const d = await loadMovieLens(dir, { seed: 1, users: 10, history: 3, candidates: 3, minRatings: 5 });
    assert.equal(d.users.length, 1); // user 2 has one rating
    const u = d.users[0]!;
    const id = (i: number) => d.items[i]!.id;
    assert.equal(id(u.held_out), "10"); // latest timestamp
    assert.deepEqual(u.history.map(id), ["50", "20", "30"]); // the 3 before it, oldest first (40 at t=50 dropped)
    assert.equal(u.candidates.length, 3);
    assert.ok(u.candidates.map(id).includes("10"));
    assert.ok(u.candidates.map(id).filter((m) => m !== "10").every((m) => m === "60" || m === "70"));
    assert.equal(d.items[0]!.title, "American President, The (1995)");
    assert.deepEqual(d.items[0]!.categories, ["Comedy", "Drama", "Romance"]);
    const r = await runRecommend("sim:e", d, { ...SETTINGS, labels: "letters" });
    assert.equal(r.metrics.tv, null);
  });
  it("ml-100k (u.data + u.item) loads; missing columns exit 2 with one line", async () => {
    const dir = await tempDir();
    const flags = (g: number) => Array.from({ length: 19 }, (_, i) => (i === g ? 1 : 0)).join("|");
    await writeFile(join(dir, "u.data"), "1\t1\t5\t10\n1\t2\t3\t20\n1\t3\t4\t30\n");
    await writeFile(join(dir, "u.item"), `1|Toy Story (1995)|01-Jan-1995||http://x|${flags(3)}\n2|GoldenEye (1995)|01-Jan-1995||http://x|${flags(1)}\n3|Four Rooms (1995)|01-Jan-1995||http://x|${flags(16)}\n4|Get Shorty (1995)|01-Jan-1995||http://x|${flags(1)}\n`);
    const d = await loadMovieLens(dir, { seed: 1, users: 5, history: 5, candidates: 2, minRatings: 3 });
    assert.deepEqual(d.items.map((i) => i.categories[0]), ["Animation", "Action", "Thriller", "Action"]);
    assert.equal(d.items[d.users[0]!.held_out]!.title, "Four Rooms (1995)");

    const bad = join(dir, "bad");
    await mkdir(bad);
    await writeFile(join(bad, "ratings.csv"), "userId,movieId,rating\n1,10,4.0\n");
    await writeFile(join(bad, "movies.csv"), "movieId,title,genres\n10,A,Drama\n");
    const res = await ptalign(["task", "recommend", "--model", "sim:e", "--data", bad, "--no-save"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^ptalign: .*ratings\.csv: missing column timestamp/);
    assert.equal(res.stderr.trim().split("\n").length, 1);
    const bad100k = join(dir, "bad100k");
    await mkdir(bad100k);
    await writeFile(join(bad100k, "u.data"), "1\t1\t5\n");
    await writeFile(join(bad100k, "u.item"), "1|Toy Story (1995)\n");
    const res2 = await ptalign(["task", "recommend", "--model", "sim:e", "--data", bad100k, "--no-save"]);
    assert.equal(res2.code, 2);
    assert.match(res2.stderr, /u\.data:1: missing columns/);
  });
});

describe("ptalign task recommend", () => {
  it("compares models on the controlled world", async () => {
    const res = await ptalign(["task", "recommend", "--model", "sim:e", "--model", "sim:d", "--users", "10", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split("\n");
    assert.match(lines[0]!, /^model\s+hr@1\s+hr@3\s+hr@5\s+ndcg@5\s+tv\s+kl\s+calib_kl\s+coverage\s+gini\s+stab_perm\s+stab_seed\s+leak$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), ["sim:e", "sim:d"]);
  });
});
