// test-process: own — a restricted reader process, ~15 CPU-s (test/support/suite.ts)
// A results directory written by ptalign 0.1.0 (store schema 1 + runs/*.json, tasks, an off-format run, a batch run,
// a top-k remote run, a partial run: test/fixtures/results-v1) opens in this version with the same output, also
// read-only. The committed fixture is never touched: every case works on a temp copy.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { inOneChild, ptalign, type CliResult } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/results-v1/", import.meta.url));
const EXPECTED = join(FIXTURE, "expected");
const ROOT = process.getuid?.() === 0;
const expected = (name: string) => readFileSync(join(EXPECTED, name), "utf8");

/**
 * Read-only for real: root reads and writes anything, so as root the reader is a child process without the
 * capabilities that bypass file permissions (still uid 0, so it reads the clone wherever it lies — a mode-700 home,
 * a `mktemp -d` directory — where another user such as "nobody" could not read bin/ptalign.js).
 */
const cli = (args: string[], asNobody: boolean): Promise<CliResult> =>
  ptalign(args, { env: { PTALIGN_DEBUG: "" }, ...(asNobody && ROOT ? { child: "file permissions bind only a process without CAP_DAC_OVERRIDE", prefix: ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] } : {}) });

/** Every file under DIR with its hash (what "never written" means). */
function hashes(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) hashes(p, base, out);
    else out.set(p.slice(base.length), createHash("sha256").update(readFileSync(p)).digest("hex"));
  }
  return out;
}

/** The schema 1 store dropped these step fields; the JSON files kept them, and schema 2 does too. */
const V1_DROPPED = ["value", "outside", "entropy_full", "entropy_full_bounds"];
/** Metrics registered after the fixture was written (additive keys of the result JSON): present now, absent then. */
const METRICS_ADDED = ["hamming", "chi2_min_expected", "chi2_small_cells", "alignment_score"];

interface Json {
  id: string;
  runs: { steps: Record<string, unknown>[] }[];
  metrics: Record<string, number | null> | null;
}

/** The comparison table of a report: one array of data-v values per row, and the column heads. */
function comparison(html: string): { head: string[]; rows: string[][] } {
  const section = /<section id="compare">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? "";
  const head = [...section.matchAll(/<th data-col="\d+" tabindex="0">([^<]*)<\/th>/g)].map((m) => m[1]!);
  const rows = [...section.matchAll(/<tr>(<td[\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*data-v="([^"]*)"/g)].map((d) => d[1]!));
  return { head, rows };
}

async function checkOutputs(dir: string, asNobody: boolean, tmp: string): Promise<string> {
  const html = join(tmp, "public", `report-${asNobody ? "ro" : "rw"}.html`);
  // The restricted reader runs every command in one process (its privileges are the subject, not its start-up).
  const calls = [["ls", dir], ["ls", dir, "--json"], ["analyze", dir], ["analyze", dir, "--json"], ["advise", dir], ...["calibration", "stability", "diversity"].map((p) => ["advise", dir, "--prefer", p]), ["export", dir], ["export", dir, "--format", "jsonl"], ["export", dir, "--format", "jsonl", "--level", "runs"], ["report", dir, "--out", html]];
  const writer = ["run", "--model", "sim:d", "--target", "extreme", "--steps", "1", "--runs", "1", "--out", dir];
  const restricted = asNobody && ROOT ? await inOneChild([...calls, writer], { env: { PTALIGN_DEBUG: "" }, prefix: ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] }) : undefined;
  if (restricted) {
    // The restriction holds: the same process could not write a measurement there.
    const denied = restricted[calls.length]!;
    assert.equal(denied.code, 2, denied.stderr);
    assert.match(denied.stderr, /is not writable/);
  }
  const run = async (args: string[]) => {
    const at = calls.findIndex((c) => c.join("\0") === args.join("\0"));
    assert.ok(at >= 0, `${args.join(" ")} is in the list of calls`);
    const r = restricted ? restricted[at]! : await cli(args, false);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, "", `${args.join(" ")} warns nothing`);
    return r.stdout;
  };
  assert.equal(await run(["ls", dir]), expected("ls.txt"));
  assert.equal(await run(["ls", dir, "--json"]), expected("ls.json"));
  assert.equal(await run(["analyze", dir]), expected("analyze.txt"));
  assert.equal(await run(["analyze", dir, "--json"]), expected("analyze.json"));
  assert.equal(await run(["advise", dir]), expected("advise.txt"));
  for (const p of ["calibration", "stability", "diversity"]) assert.equal(await run(["advise", dir, "--prefer", p]), expected(`advise-${p}.txt`), p);
  assert.equal(await run(["export", dir]), expected("export-steps.csv"));
  assert.equal(await run(["export", dir, "--format", "jsonl"]), expected("export-steps.jsonl"));

  // export --level runs: identical, except that a run's steps now carry every field its runs/<id>.json has. Fixed
  // defect: schema 1 dropped entropy_full / outside / entropy_full_bounds, so this export lost them.
  const runsNow = (await run(["export", dir, "--format", "jsonl", "--level", "runs"])).trim().split("\n").map((l) => JSON.parse(l) as Json);
  const runsThen = expected("export-runs.jsonl").trim().split("\n").map((l) => JSON.parse(l) as Json);
  assert.equal(runsNow.length, runsThen.length);
  let gained = 0;
  runsNow.forEach((now, i) => {
    const then = runsThen[i]!;
    const fileName = readdirSync(join(dir, "runs")).find((f) => f.startsWith(now.id))!;
    const file = JSON.parse(readFileSync(join(dir, "runs", fileName), "utf8")) as Json;
    now.runs.forEach((r, k) => r.steps.forEach((s, t) => {
      const old = { ...s };
      for (const f of V1_DROPPED) if (f in old && !(f in then.runs[k]!.steps[t]!)) (delete old[f], gained++);
      assert.deepEqual(s, file.runs[k]!.steps[t], `${now.id} run ${k} step ${t} equals its JSON file`);
    }));
    const metrics = now.metrics ? Object.fromEntries(Object.entries(now.metrics).filter(([k]) => !METRICS_ADDED.includes(k))) : now.metrics;
    const stripped = { ...now, metrics, runs: now.runs.map((r, k) => ({ ...r, steps: r.steps.map((s, t) => Object.fromEntries(Object.entries(s).filter(([f]) => !V1_DROPPED.includes(f) || f in then.runs[k]!.steps[t]!))) })) };
    assert.deepEqual(stripped, then, now.id);
  });
  assert.ok(gained > 0, "the top-k and synth runs regain their dropped step fields");

  // report: the same numbers as ls (atvd, volatility, leak, verdict ... per measurement) and as analyze.
  await run(["report", dir, "--out", html]);
  const page = readFileSync(html, "utf8");
  const ls = JSON.parse(expected("ls.json")) as (Json & { status: string; verdict: { type: string } | null })[];
  const { head, rows } = comparison(page);
  assert.equal(rows.length, ls.length);
  const col = (name: string) => head.findIndex((h) => h.startsWith(name));
  rows.forEach((row, i) => {
    const r = ls[i]!;
    if (!r.metrics) return; // the partial run: ls --json lists no metrics (the report computes them from its steps)
    for (const m of ["atvd", "volatility", "concentration", "marginal_tvd", "e_score", "sample_tvd", "chi2_p", "leak"]) {
      assert.equal(row[col(m)], r.metrics[m] === null ? "" : String(r.metrics[m]), `${r.id} ${m}`);
    }
    assert.equal(row[col("verdict")], r.verdict!.type, `${r.id} verdict`);
  });
  // Fixed defect: report and analyze read the same steps, so the report's analysis line now shows the full-vocabulary
  // entropy (and the top-k run's bounds) that analyze showed and the report lost.
  const analyze = JSON.parse(expected("analyze.json")) as { id: string; entropy_full: number | null; entropy_full_bounds: [number, number | null] | null }[];
  for (const a of analyze) {
    const section = new RegExp(`<section class="run" id="run-${a.id}">[\\s\\S]*?</section>`).exec(page)?.[0] ?? "";
    assert.ok(section, a.id);
    if (a.entropy_full !== null) assert.ok(section.includes(`full-vocabulary entropy ${a.entropy_full.toFixed(3)} nats`), `${a.id} shows H_full`);
    else if (a.entropy_full_bounds) assert.ok(section.includes(`full-vocabulary entropy ≥ ${a.entropy_full_bounds[0].toFixed(3)}`), `${a.id} shows the H_full bound`);
    else assert.ok(!section.includes("full-vocabulary entropy"), a.id);
  }
  return page;
}

/** A report with the time it was generated and the directory it read removed. */
const normalise = (html: string, dir: string) => html.split(dir).join("DIR").replace(/generated [\d-]+ [\d:]+ UTC/, "generated T UTC");

describe("results directory written by ptalign 0.1.0 (store schema 1)", () => {
  let tmp: string;
  before(async () => {
    tmp = await tempDir();
    chmodSync(tmp, 0o755); // "nobody" reaches the copies
    mkdirSync(join(tmp, "public"));
    chmodSync(join(tmp, "public"), 0o777); // and writes its report there
  });

  let rwPage = "";
  it("opens with the same ls, analyze, advise, export and report output; a writer migrates it to schema 2", async () => {
    const dir = join(tmp, "rw");
    cpSync(join(FIXTURE, "dir"), dir, { recursive: true });
    rwPage = normalise(await checkOutputs(dir, false, tmp), dir);
    // Readers never write: the store is still schema 1 (each reader migrated a private copy).
    const version = () => {
      const db = new Database(join(dir, "ptalign.db"), { readonly: true });
      try {
        return (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value;
      } finally {
        db.close();
      }
    };
    assert.equal(version(), "1");
    // A writer migrates it in place; the output stays the same.
    const r = await ptalign(["run", "--model", "sim:e", "--target", "extreme", "--steps", "3", "--runs", "2", "--out", dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(version(), "2");
    const added = (JSON.parse(r.stdout) as { id: string }).id;
    const ls = await ptalign(["ls", dir, "--json"]);
    const rows = (JSON.parse(ls.stdout) as { id: string }[]).filter((x) => x.id !== added);
    assert.deepEqual(rows, JSON.parse(expected("ls.json")));
    const an = await ptalign(["analyze", dir, "--json"]);
    assert.deepEqual((JSON.parse(an.stdout) as { id: string }[]).filter((x) => x.id !== added), JSON.parse(expected("analyze.json")));
  });

  it("read-only (chmod -R a-w, read by a process that file permissions bind, through a private copy): the same output, nothing written", async () => {
    const dir = join(tmp, "ro");
    cpSync(join(FIXTURE, "dir"), dir, { recursive: true });
    const before = hashes(dir);
    const chmodAll = (p: string, mode: (isDir: boolean) => number) => {
      const isDir = statSync(p).isDirectory();
      if (isDir) for (const n of readdirSync(p)) chmodAll(join(p, n), mode);
      chmodSync(p, mode(isDir));
    };
    chmodAll(dir, (isDir) => (isDir ? 0o555 : 0o444));
    try {
      const page = normalise(await checkOutputs(dir, true, tmp), dir);
      assert.equal(page, rwPage, "the read-only copy reports exactly what the writable one does");
      assert.deepEqual(hashes(dir), before, "nothing in the read-only directory changed");
      // Root reads it in place too (a v1 store is still migrated in a private copy, never in place).
      const ls = await ptalign(["ls", dir, "--json"]);
      assert.equal(ls.stdout, expected("ls.json"));
      assert.deepEqual([...hashes(dir).keys()].filter((k) => !before.has(k) && !k.endsWith("-shm")), []);
      for (const [k, h] of before) assert.equal(hashes(dir).get(k), h, k);
    } finally {
      chmodAll(dir, (isDir) => (isDir ? 0o755 : 0o644));
    }
  });

  it("runs/*.json without a store (older still) load with the same ls", async () => {
    const dir = join(tmp, "json-only");
    cpSync(join(FIXTURE, "dir"), dir, { recursive: true });
    const { rmSync } = await import("node:fs");
    for (const f of ["ptalign.db", "ptalign.db-wal", "ptalign.db-shm"]) rmSync(join(dir, f), { force: true });
    const r = await ptalign(["analyze", dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    // Without the store the order comes from the ids' second-resolution stamps (as before): compare by id.
    const byId = (text: string) => (JSON.parse(text) as { id: string }[]).sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(byId(r.stdout), byId(expected("analyze.json")));
  });
});
