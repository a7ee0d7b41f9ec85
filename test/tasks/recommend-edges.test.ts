// task recommend at its edges: users that cannot be scored, --prune, out-of-range flags, MovieLens ties (with the
// files' own quirks: Latin-1 u.item, CRLF CSVs), off-format warnings. Fixtures are built here.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { completePieces, writeBigramModel } from "../../src/synth/index.ts";
import { loadMovieLens, runRecommend, type RecData, type RecommendResult } from "../../src/tasks/index.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

// u0 as in recommend.test.ts (ant, bee, cat; next bee); u1 is shown eel and fox, which the model never writes.
const DATA: RecData = {
  source: "world",
  categories: ["x", "y"],
  items: ["ant", "bee", "cat", "dog", "eel", "fox"].map((title, i) => ({ id: String(i), title, categories: [i % 2 ? "y" : "x"] })),
  users: [
    { id: "u0", history: [3], held_out: 1, candidates: [0, 1, 2], ptask: [0.2, 0.3, 0.5] },
    { id: "u1", history: [3], held_out: 4, candidates: [4, 5], ptask: [0.5, 0.5] },
  ],
};

describe("a user that cannot be scored is recorded and the run goes on", () => {
  it("titles the model never writes: leak, worst rank and the reason (naming --prune) are recorded; the metrics use the worst rank for hits only", async () => {
    const path = join(await tempDir(), "titles.gguf");
    await writeBigramModel(path, { pieces: completePieces(["▁ant", "▁bee", "▁cat", "▁eel", "▁fox", "\n"]), defaultRow: { "▁ant": 0.2, "▁bee": 0.3, "▁cat": 0.5 }, rows: { "▁ant": { "\n": 1 }, "▁bee": { "\n": 1 }, "▁cat": { "\n": 1 }, "▁eel": { "\n": 1 }, "▁fox": { "\n": 1 } } });
    const r = await runRecommend(path, DATA, { temperature: 1, runs: 2, seed: 1, permutations: 2, ks: [1, 2], labels: "titles", prune: 1e-7 }, { backend: { threads: 1 } });
    const [u0, u1] = r.users;
    assert.equal(u0!.unscored, undefined);
    assert.equal(u0!.rank, 2);
    assert.equal(u1!.ptoken, null);
    assert.equal(u1!.rank, 2); // the worst rank of a list of two
    assert.ok(u1!.leak > 0.999, String(u1!.leak));
    assert.match(u1!.unscored!, /the model puts no probability on any candidate label \(leak 1\.0+\); paths below --prune 1e-7 were cut/);
    assert.equal(r.metrics.unscored, 2); // both runs
    // hr@2: u0 hits (rank 2), u1 does not count as a hit: 1/2; hr@1: 0.
    assert.deepEqual([r.metrics.hr["1"], r.metrics.hr["2"]], [0, 0.5]);
    // TV over the scored user only: q = P_task there.
    assert.ok(Math.abs(r.metrics.tv!) < 1e-6);
    assert.equal(r.metrics.stability.permutation, 1);
    assert.match(r.warnings!.join("\n"), /2 of 4 user evaluations could not be scored .*first: user u1: the model puts no probability/);
  });
});

describe("MovieLens as downloaded: ties at the latest timestamp, Latin-1 u.item, CRLF CSVs", () => {
  const flags = (g: number) => Array.from({ length: 19 }, (_, i) => (i === g ? 1 : 0)).join("|");
  async function ml100k(): Promise<string> {
    const dir = join(await tempDir(), "ml-100k");
    await mkdir(dir);
    // User 1 rated items 3 and 2 at the same latest second (3 first in the file); user 2 has no tie.
    await writeFile(join(dir, "u.data"), "1\t3\t4\t30\n1\t1\t5\t10\n1\t2\t3\t30\n1\t4\t3\t20\n1\t5\t3\t5\n2\t1\t5\t5\n2\t2\t5\t6\n2\t3\t1\t7\n2\t4\t1\t8\n2\t6\t1\t9\n");
    const item = [`1|Toy Story (1995)|01-Jan-1995||http://x|${flags(3)}`, `2|GoldenEye (1995)|01-Jan-1995||http://x|${flags(1)}`, `3|Café au lait (1993)|01-Jan-1993||http://x|${flags(5)}`, `4|Get Shorty (1995)|01-Jan-1995||http://x|${flags(1)}`, `5|Misérables, Les (1995)|01-Jan-1995||http://x|${flags(8)}`, `6|Heat (1995)|01-Jan-1995||http://x|${flags(1)}`, `7|Nixon (1995)|01-Jan-1995||http://x|${flags(8)}`, `8|Balto (1995)|01-Jan-1995||http://x|${flags(3)}`].join("\n") + "\n";
    await writeFile(join(dir, "u.item"), Buffer.from(item, "latin1"));
    return dir;
  }
  const opts = { seed: 1, users: 10, history: 5, candidates: 2, minRatings: 5 };

  it("the tie rule decides the held-out item and is recorded: file order (default), largest item id, or drop the tied users", async () => {
    const dir = await ml100k();
    const title = (d: RecData, u: string) => d.items[d.users.find((x) => x.id === u)!.held_out]!.title;
    const file = await loadMovieLens(dir, opts);
    assert.equal(title(file, "1"), "GoldenEye (1995)"); // 3 then 2 at t = 30 in the file: 2 is the last
    assert.deepEqual(file.ties, { rule: "file", tied_users: 1, tied_eligible: 1, eligible: 2 });
    const byId = await loadMovieLens(dir, { ...opts, ties: "item-id" });
    assert.equal(title(byId, "1"), "Café au lait (1993)"); // Latin-1 decoded; item 3 > item 2
    assert.deepEqual(byId.users.find((u) => u.id === "1")!.history.map((i) => byId.items[i]!.id), ["5", "1", "4", "2"]);
    const drop = await loadMovieLens(dir, { ...opts, ties: "drop" });
    assert.deepEqual(drop.users.map((u) => u.id), ["2"]);
    assert.deepEqual(drop.ties, { rule: "drop", tied_users: 0, tied_eligible: 1, eligible: 2 });
    assert.equal(drop.items[4]!.title, "Misérables, Les (1995)");
  });

  it("ml-latest-small with CRLF line ends and quoted titles", async () => {
    const dir = join(await tempDir(), "ml-latest-small");
    await mkdir(dir);
    await writeFile(join(dir, "ratings.csv"), "userId,movieId,rating,timestamp\r\n1,10,4.0,300\r\n1,20,3.0,100\r\n1,30,5.0,300\r\n1,40,2.0,50\r\n1,50,2.0,60\r\n");
    await writeFile(join(dir, "movies.csv"), 'movieId,title,genres\r\n10,"American President, The (1995)",Comedy|Drama|Romance\r\n20,Heat (1995),Action|Crime\r\n30,Jumanji (1995),Adventure\r\n40,Nixon (1995),Drama\r\n50,Casino (1995),Crime\r\n60,Balto (1995),(no genres listed)\r\n');
    const d = await loadMovieLens(dir, { seed: 1, users: 5, history: 3, candidates: 2, minRatings: 5 });
    assert.deepEqual(d.items.map((i) => i.categories.at(-1)), ["Romance", "Crime", "Adventure", "Drama", "Crime", "(none)"]);
    assert.equal(d.items[d.users[0]!.held_out]!.id, "30"); // 10 and 30 tie at t = 300: the later line
    assert.deepEqual(d.ties, { rule: "file", tied_users: 1, tied_eligible: 1, eligible: 1 });
    const byId = await loadMovieLens(dir, { seed: 1, users: 5, history: 3, candidates: 2, minRatings: 5, ties: "item-id" });
    assert.equal(byId.items[byId.users[0]!.held_out]!.id, "30");
  });

  it("ptalign task recommend: data.ties in the result; --users and --candidates beyond the data warn with the value used; impossible values exit 2 with one line", async () => {
    const dir = await ml100k();
    let res = await ptalign(["task", "recommend", "--model", "sim:e", "--data", dir, "--users", "5000", "--candidates", "5", "--k", "1,2", "--ties", "item-id", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const [r] = JSON.parse(res.stdout) as RecommendResult[];
    assert.deepEqual(r!.data.ties, { rule: "item-id", tied_users: 1, tied_eligible: 1, eligible: 2 });
    assert.match(res.stderr, /^ptalign: warning: --users 5000: only 2 users have 5 or more ratings; using 2$/m);
    assert.match(res.stderr, /^ptalign: warning: --candidates 5: some users have fewer unrated movies; their lists have 4 or more candidates$/m);
    assert.ok(r!.warnings!.some((w) => w.startsWith("--users 5000")));
    const bad: [string[], RegExp][] = [
      [["--candidates", "50"], /--candidates 50 is more than the 8 movies in the movie file; use at most 8/],
      [["--candidates", "3", "--k", "20"], /--k 20 is more than the 3 candidates of a list: hr@20 would be 1 for any model; use k ≤ 3/],
      [["--prune", "1"], /--prune must be a number from 0 to 0\.999999 \(got 1\)/],
      [["--ties", "random"], /--ties must be file, item-id, drop \(got random\)/],
    ];
    for (const [flags, message] of bad) {
      res = await ptalign(["task", "recommend", "--model", "sim:e", "--data", dir, ...flags, "--no-save"]);
      assert.equal(res.code, 2, `${flags.join(" ")}: ${res.stderr}`);
      assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
      assert.match(res.stderr, message);
    }
  });
});

describe("off-format recommendation output is flagged", () => {
  it("sim:e?leak=0.9 warns that the model rarely writes a candidate label; the table shows the leak", async () => {
    const res = await ptalign(["task", "recommend", "--model", "sim:e?leak=0.9", "--model", "sim:d", "--users", "5", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
    assert.match(res.stderr, /^ptalign: warning: sim:e\?.*: off-format: mean leak 0\.9000 > 0\.5: the model puts only 10% of its probability on the candidate labels/);
    assert.match(res.stdout.split("\n")[0]!, /\sleak$/);
    assert.match(res.stdout, /^sim:e\s.*\s0\.900$/m);
  });
});
