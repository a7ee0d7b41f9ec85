// MovieLens data the user downloaded: ml-latest-small (ratings.csv + movies.csv) or ml-100k (u.data + u.item).
// Leave-last-out: each user's ratings in time order, the last one held out, the ones before it the history;
// candidates = the held-out movie + negatives drawn uniformly from movies the user never rated; genres = categories.

import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../errors.ts";
import { makeRng } from "../../rng.ts";
import { shuffled, type Item, type RecData, type RecUser } from "./data.ts";

export interface MovieLensOptions {
  seed: number;
  /** Users sampled (seeded) among those with at least minRatings ratings. */
  users: number;
  /** Most recent history items shown. */
  history: number;
  candidates: number;
  minRatings: number;
  /** Which rating is held out when several share a user's latest timestamp (see TieRule). */
  ties?: TieRule;
}

/**
 * The held-out item among ratings tied at a user's latest timestamp (415 of ml-100k's 943 users tie there):
 * "file" = the last of them in file order (ratings sorted by time, file order on ties); "item-id" = the one with the
 * largest movie id (numeric when the ids are), ties in the history ordered the same way; "drop" = users whose latest
 * timestamp is tied are not sampled.
 */
export type TieRule = "file" | "item-id" | "drop";
export const TIE_RULES: readonly TieRule[] = ["file", "item-id", "drop"];

export const DEFAULT_MOVIELENS: MovieLensOptions = { seed: 1, users: 50, history: 10, candidates: 10, minRatings: 5, ties: "file" };

const ML100K_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"];

interface Rating {
  user: string;
  item: string;
  time: number;
  order: number;
  /** Where the rating was read ("ratings.csv:12"), named in the notes about repaired rows. */
  where?: string;
}

/** An item as read, with where it was read ("movies.csv:7"), named in the notes about repaired rows. */
type ReadItem = Item & { where?: string };

const exists = (p: string) => access(p).then(() => true, () => false);

/** One CSV line into fields (RFC 4180 quotes; "" inside quotes is a quote). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

async function readText(path: string, encoding: BufferEncoding = "utf8"): Promise<string> {
  try {
    return await readFile(path, encoding);
  } catch (err) {
    throw new InputError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Reads a CSV with a header; every needed column must be present (one-line error naming the missing ones). */
function readCsv(text: string, file: string, needed: string[]): { rows: string[][]; col: Record<string, number>; lineOf: number[] } {
  const ls = lines(text);
  const header = csvFields(ls[0] ?? "").map((h) => h.trim());
  const missing = needed.filter((n) => !header.includes(n));
  if (missing.length) throw new InputError(`${file}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (header: ${header.join(",") || "empty"}); expected MovieLens columns ${needed.join(",")}`);
  const col = Object.fromEntries(needed.map((n) => [n, header.indexOf(n)]));
  const rows: string[][] = [];
  const lineOf: number[] = [];
  ls.slice(1).forEach((l, i) => {
    if (l.trim() === "") return;
    const f = csvFields(l);
    if (f.length < header.length) throw new InputError(`${file}:${i + 2}: ${f.length} fields, the header has ${header.length}`);
    rows.push(f);
    lineOf.push(i + 2);
  });
  return { rows, col, lineOf };
}

function num(value: string | undefined, file: string, line: number, what: string): number {
  const n = Number(value);
  if (value === undefined || value.trim() === "" || !Number.isFinite(n)) throw new InputError(`${file}:${line}: ${what} "${value ?? ""}" is not a number`);
  return n;
}

export async function loadMovieLens(dir: string, opts: MovieLensOptions = DEFAULT_MOVIELENS): Promise<RecData> {
  let ratings: Rating[];
  let items: ReadItem[];
  if (await exists(join(dir, "ratings.csv"))) {
    const rf = join(dir, "ratings.csv");
    const mf = join(dir, "movies.csv");
    if (!(await exists(mf))) throw new InputError(`${dir} has ratings.csv but no movies.csv; download ml-latest-small and pass its directory`);
    const r = readCsv(await readText(rf), rf, ["userId", "movieId", "timestamp"]);
    ratings = r.rows.map((f, i) => ({ user: f[r.col.userId!]!, item: f[r.col.movieId!]!, time: num(f[r.col.timestamp!], rf, r.lineOf[i]!, "timestamp"), order: i, where: `ratings.csv:${r.lineOf[i]!}` }));
    const m = readCsv(await readText(mf), mf, ["movieId", "title", "genres"]);
    items = m.rows.map((f, i) => {
      const g = f[m.col.genres!]!;
      return { id: f[m.col.movieId!]!, title: f[m.col.title!]!.trim(), categories: g === "(no genres listed)" || g === "" ? ["(none)"] : g.split("|"), where: `movies.csv:${m.lineOf[i]!}` };
    });
  } else if (await exists(join(dir, "u.data"))) {
    const rf = join(dir, "u.data");
    const mf = join(dir, "u.item");
    if (!(await exists(mf))) throw new InputError(`${dir} has u.data but no u.item; download ml-100k and pass its directory`);
    ratings = [];
    lines(await readText(rf)).forEach((l, i) => {
      if (l.trim() === "") return;
      const f = l.split("\t");
      if (f.length < 4) throw new InputError(`${rf}:${i + 1}: missing columns (${f.length} of 4: user id, item id, rating, timestamp, tab-separated)`);
      ratings.push({ user: f[0]!.trim(), item: f[1]!.trim(), time: num(f[3], rf, i + 1, "timestamp"), order: i, where: `u.data:${i + 1}` });
    });
    items = [];
    lines(await readText(mf, "latin1")).forEach((l, i) => {
      if (l.trim() === "") return;
      const f = l.split("|");
      if (f.length < 5 + ML100K_GENRES.length) throw new InputError(`${mf}:${i + 1}: missing columns (${f.length} of ${5 + ML100K_GENRES.length}: id|title|release|video release|url|19 genre flags)`);
      const genres = ML100K_GENRES.filter((_, g) => f[5 + g]!.trim() === "1");
      items.push({ id: f[0]!.trim(), title: f[1]!.trim(), categories: genres.length ? genres : ["unknown"], where: `u.item:${i + 1}` });
    });
  } else {
    throw new InputError(`${dir} holds neither ratings.csv + movies.csv (ml-latest-small) nor u.data + u.item (ml-100k)`);
  }
  return leaveLastOut(ratings, items, opts);
}

/** "movies.csv:3, movies.csv:9 and 4 more": the rows a note names (a few, then a count). */
function rowList(rows: readonly string[], shown = 5): string {
  const head = rows.slice(0, shown).join(", ");
  return rows.length > shown ? `${head} and ${rows.length - shown} more` : head;
}

/**
 * Titles a label can be made of. A blank title would be the empty label, which with `--labels titles` is a prefix
 * of every answer (P_token 1 whenever it is a candidate); two movies with one title cannot be told apart by a title
 * label. Both are repaired here, whatever the label mode, so the prompt never shows two indistinguishable rows: a
 * blank title becomes "(untitled movie ID)", a shared one "TITLE [movie ID]". Titles are compared after Unicode NFC
 * normalisation (the same text in two encodings is one title). Returns the repaired items and the notes.
 */
export function repairTitles(items: readonly ReadItem[]): { items: Item[]; notes: string[] } {
  const notes: string[] = [];
  const where = (it: ReadItem) => it.where ?? `movie ${it.id}`;
  const blank = items.filter((it) => it.title.trim() === "");
  const byTitle = new Map<string, ReadItem[]>();
  for (const it of items) {
    if (it.title.trim() === "") continue;
    const key = it.title.normalize("NFC");
    byTitle.set(key, [...(byTitle.get(key) ?? []), it]);
  }
  const shared = [...byTitle.values()].filter((g) => g.length > 1);
  const sharedItems = new Set(shared.flat());
  const out = items.map(({ where: _w, ...it }, i) => {
    const src = items[i]!;
    if (src.title.trim() === "") return { ...it, title: `(untitled movie ${it.id})` };
    if (sharedItems.has(src)) return { ...it, title: `${it.title} [movie ${it.id}]` };
    return it;
  });
  if (blank.length) notes.push(`${blank.length} movie${blank.length > 1 ? "s have" : " has"} an empty title (${rowList(blank.map(where))}): titled "(untitled movie ID)" so that no empty label competes; fix the movie file to use the real titles`);
  if (shared.length) notes.push(`${shared.length} title${shared.length > 1 ? "s are" : " is"} shared by several movies (${rowList(shared.map((g) => `"${g[0]!.title}" at ${g.map(where).join(" and ")}`), 3)}): each is shown as "TITLE [movie ID]" so that the candidates can be told apart`);
  return { items: out, notes };
}

/**
 * One rating per user and movie: the latest (the last in time order, file order on ties). A movie rated twice would
 * otherwise be both the held-out answer and a history item (the answer leaks into the prompt and HR is inflated).
 */
function dedupeRatings(ratings: readonly Rating[]): { ratings: Rating[]; notes: string[] } {
  const last = new Map<string, Rating>();
  const dropped: Rating[] = [];
  const later = (a: Rating, b: Rating) => a.time > b.time || (a.time === b.time && a.order > b.order);
  for (const r of ratings) {
    const key = `${r.user}\u0000${r.item}`;
    const prev = last.get(key);
    if (!prev) last.set(key, r);
    else if (later(r, prev)) {
      dropped.push(prev);
      last.set(key, r);
    } else dropped.push(r);
  }
  if (dropped.length === 0) return { ratings: [...ratings], notes: [] };
  const keep = new Set(last.values());
  const users = new Set(dropped.map((r) => r.user)).size;
  const rows = dropped.sort((a, b) => a.order - b.order).map((r) => r.where ?? `user ${r.user}, movie ${r.item}`);
  return {
    ratings: ratings.filter((r) => keep.has(r)),
    notes: [`${users} user${users > 1 ? "s" : ""} rated the same movie more than once: only the latest rating of each movie is kept (${dropped.length} earlier rating${dropped.length > 1 ? "s" : ""} dropped: ${rowList(rows)}), so the held-out movie is never also in the history`],
  };
}

const byItemId = (a: Rating, b: Rating) => {
  const x = Number(a.item);
  const y = Number(b.item);
  return Number.isFinite(x) && Number.isFinite(y) ? x - y : a.item.localeCompare(b.item);
};

/** Leave-last-out split, seeded user sample and seeded negatives; RecData.ties and RecData.notes say what was decided. */
export function leaveLastOut(rawRatings: readonly Rating[], rawItems: readonly ReadItem[], opts: MovieLensOptions): RecData {
  const rule = opts.ties ?? "file";
  const titled = repairTitles(rawItems);
  const items = titled.items;
  const deduped = dedupeRatings(rawRatings);
  const ratings = deduped.ratings;
  if (items.length < opts.candidates) throw new InputError(`--candidates ${opts.candidates} is more than the ${items.length} movies in the movie file; use at most ${items.length}`);
  const index = new Map(items.map((it, i) => [it.id, i]));
  const byUser = new Map<string, Rating[]>();
  for (const r of ratings) {
    if (!index.has(r.item)) continue;
    const list = byUser.get(r.user) ?? [];
    list.push(r);
    byUser.set(r.user, list);
  }
  const order = rule === "item-id" ? (a: Rating, b: Rating) => a.time - b.time || byItemId(a, b) || a.order - b.order : (a: Rating, b: Rating) => a.time - b.time || a.order - b.order;
  const sorted = new Map([...byUser].map(([u, rs]) => [u, [...rs].sort(order)]));
  const tiedAtLast = (u: string) => {
    const rs = sorted.get(u)!;
    return rs.length > 1 && rs.at(-1)!.time === rs.at(-2)!.time;
  };
  const rng = makeRng(`movielens/${opts.seed}`);
  let eligible = [...byUser.keys()].filter((u) => byUser.get(u)!.length >= opts.minRatings).sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  if (eligible.length === 0) throw new InputError(`no user has ${opts.minRatings} or more ratings of movies listed in the movie file`);
  const tiedEligible = eligible.filter(tiedAtLast).length;
  const eligibleCount = eligible.length;
  if (rule === "drop") eligible = eligible.filter((u) => !tiedAtLast(u));
  // A user who rated every other movie has no negatives: a list of one candidate is always a hit.
  const unrated = (u: string) => items.length - new Set(byUser.get(u)!.map((r) => r.item)).size;
  const full = eligible.filter((u) => unrated(u) === 0);
  eligible = eligible.filter((u) => unrated(u) > 0);
  if (eligible.length === 0) throw new InputError(`no user left to sample: every user with ${opts.minRatings} or more ratings ${rule === "drop" ? "ties at the latest timestamp (--ties drop); use --ties file or item-id" : "has rated every movie"}`);
  const notes: string[] = [...titled.notes, ...deduped.notes];
  if (full.length) notes.push(`${full.length} users rated every movie (no negative candidate to draw) and are left out`);
  if (opts.users > eligible.length) notes.push(`--users ${opts.users}: only ${eligible.length} users have ${opts.minRatings} or more ratings${rule === "drop" ? " and no tie at their latest timestamp" : ""}; using ${eligible.length}`);
  const chosen = shuffled(eligible, rng).slice(0, opts.users);
  let shortest = opts.candidates;
  const users: RecUser[] = chosen.map((u) => {
    const rs = sorted.get(u)!;
    const seq = rs.map((r) => index.get(r.item)!);
    const held = seq.at(-1)!;
    const seen = new Set(seq);
    const history = seq.slice(0, -1).slice(-opts.history);
    const pool = items.map((_, j) => j).filter((j) => !seen.has(j));
    const negatives = shuffled(pool, rng).slice(0, opts.candidates - 1);
    shortest = Math.min(shortest, negatives.length + 1);
    return { id: u, history, held_out: held, candidates: shuffled([held, ...negatives], rng) };
  });
  if (shortest < opts.candidates) notes.push(`--candidates ${opts.candidates}: some users have fewer unrated movies; their lists have ${shortest} or more candidates`);
  const categories = [...new Set(items.flatMap((it) => it.categories))];
  const ties = { rule, tied_users: chosen.filter(tiedAtLast).length, tied_eligible: tiedEligible, eligible: eligibleCount };
  return { source: "movielens", categories, items: [...items], users, ties, notes };
}
