// Issue 20, item 7: MovieLens data that made wrong numbers. An empty title was the empty label (a prefix of every
// answer: P_token 1 whenever a candidate); a movie rated twice put the held-out answer into the history; shared
// titles left users unscored with a warning that blamed the model. Repaired with a warning naming the rows, or refused.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadMovieLens, runRecommend, type RecData } from "../../src/tasks/index.ts";
import { InputError } from "../../src/errors.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

async function mlSmall(ratings: string, movies: string): Promise<string> {
  const dir = join(await tempDir(), "ml-latest-small");
  await mkdir(dir);
  await writeFile(join(dir, "ratings.csv"), `userId,movieId,rating,timestamp\n${ratings}`);
  await writeFile(join(dir, "movies.csv"), `movieId,title,genres\n${movies}`);
  return dir;
}
const MOVIES = "10,Heat (1995),Action\n20,,Drama\n30,Emma (1996),Romance\n40,Emma (1996),Drama\n50,Casino (1995),Crime\n60,  ,Comedy\n70,Balto (1995),Children\n";
const opts = { seed: 1, users: 5, history: 10, candidates: 3, minRatings: 3 };

describe("MovieLens repairs, each with a warning naming the rows", () => {
  it("a user who rated the held-out movie twice: only the latest rating is kept, the answer is not in the history", async () => {
    // User 1 rated 30 at t=1 and again at t=9 (latest): held out = 30; before, 30 was also in the history.
    const dir = await mlSmall("1,30,4,1\n1,10,3,2\n1,50,3,3\n1,30,5,9\n", MOVIES);
    const d = await loadMovieLens(dir, opts);
    const u = d.users[0]!;
    assert.equal(d.items[u.held_out]!.id, "30");
    assert.deepEqual(u.history.map((i) => d.items[i]!.id), ["10", "50"]);
    assert.ok(!u.history.includes(u.held_out));
    assert.match(d.notes!.join("\n"), /1 user rated the same movie more than once: only the latest rating of each movie is kept \(1 earlier rating dropped: ratings\.csv:2\)/);
  });

  it("empty and blank titles get a placeholder title; shared titles (also after NFC normalisation) are told apart by id", async () => {
    const dir = await mlSmall("1,10,4,1\n1,50,3,2\n1,70,3,3\n", MOVIES + "80,Cafe\u0301,Drama\n90,Caf\u00e9,Drama\n");
    const d = await loadMovieLens(dir, opts);
    const title = (id: string) => d.items.find((i) => i.id === id)!.title;
    assert.equal(title("20"), "(untitled movie 20)");
    assert.equal(title("60"), "(untitled movie 60)");
    assert.equal(title("30"), "Emma (1996) [movie 30]");
    assert.equal(title("40"), "Emma (1996) [movie 40]");
    assert.equal(title("90"), "Caf\u00e9 [movie 90]");
    assert.equal(title("10"), "Heat (1995)");
    const notes = d.notes!.join("\n");
    assert.match(notes, /2 movies have an empty title \(movies\.csv:3, movies\.csv:7\): titled "\(untitled movie ID\)" so that no empty label competes/);
    assert.match(notes, /2 titles are shared by several movies \("Emma \(1996\)" at movies\.csv:4 and movies\.csv:5, "Cafe\u0301" at movies\.csv:9 and movies\.csv:10\)/);
    assert.ok(d.items.every((i) => i.title.trim() !== ""));
  });
});

describe("--labels titles refuses what the data cannot label (the data's fault, not the model's)", () => {
  const data = (titles: string[]): RecData => ({
    source: "world",
    categories: ["x"],
    items: titles.map((title, i) => ({ id: String(i), title, categories: ["x"] })),
    users: [{ id: "u0", history: [3], held_out: 1, candidates: [0, 1, 2], ptask: [0.2, 0.3, 0.5] }],
  });
  const settings = { temperature: 1, runs: 1, seed: 1, permutations: 0, ks: [1], labels: "titles" as const, prune: 1e-7 };
  it("an empty title never competes: refused before any scoring, naming the item", async () => {
    await assert.rejects(runRecommend("sim:e", data(["ant", "", "cat", "dog"]), settings), (e: unknown) => e instanceof InputError && /--labels titles: 1 candidate item has an empty title \(item 1\); an empty label would match every answer/.test(e.message));
  });
  it("two candidates with one title (NFC é = NFD é): refused naming the user and the items", async () => {
    await assert.rejects(runRecommend("sim:e", data(["caf\u00e9", "cafe\u0301", "cat", "dog"]), settings), (e: unknown) => e instanceof InputError && /user u0's candidates 0 and 1 share the title/.test(e.message));
  });
});

describe("CLI: --labels title (the help says 'by title') is accepted as titles", () => {
  it("runs and records labels: titles", async () => {
    const r = await ptalign(["task", "recommend", "--model", "sim:e", "--labels", "title", "--users", "3", "--runs", "1", "--permutations", "0", "--json", "--no-save"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout)[0].settings.labels, "titles");
    const bad = await ptalign(["task", "recommend", "--model", "sim:e", "--labels", "words", "--no-save"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--labels must be letters or titles \(got words\)/);
  });
});
