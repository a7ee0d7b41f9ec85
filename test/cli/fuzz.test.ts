// test-process: own — a restricted reader in a child process, ~16 CPU-s (test/support/suite.ts)
// Broken inputs and faults through the CLI, as a user would meet them (issue 13): none may print "internal error" or
// a stack trace, each exits as documented (1 run failure, 2 bad input), and nothing already stored in the results
// directory is lost (test/support/stored.ts). The calls run in a small pool: the in-process ones one at a time, the
// read-only ones all in one restricted child process. Full disks and signals (issue 20.10, 20.11), with the same
// rules, are test/cli/fullDisk.test.ts and test/cli/signals.test.ts.
import assert from "node:assert/strict";
import { copyFileSync, cpSync, mkdirSync, writeFileSync, openSync, writeSync, closeSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseDist } from "../../src/distributions/index.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import { measure } from "../../src/run.ts";
import { newRunId, saveResult } from "../../src/store/results.ts";
import { inOneChild, ptalign, type CliResult } from "../support/cli.ts";
import { assertNothingLost, snapshot, type Stored } from "../support/stored.ts";
import { tempDir } from "../support/tmp.ts";

const ROOT = process.getuid?.() === 0;

/**
 * The CLI (in-process), or for the read-only cases a process that cannot write a mode-555 directory. Root writes
 * anywhere, so as root that is a child process without the capabilities that bypass file permissions
 * (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): still uid 0, so it reads the clone wherever it lies (a mode-700 home, a
 * `mktemp -d` directory), unlike another user such as "nobody", who could not read bin/ptalign.js there.
 */
const READ_ONLY_PREFIX = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"];
const cli = (args: string[], readOnly = false): Promise<CliResult> =>
  ptalign(args, { env: { PTALIGN_DEBUG: "" }, ...(readOnly && ROOT ? { child: "file permissions bind only a process without CAP_DAC_OVERRIDE", prefix: READ_ONLY_PREFIX } : {}) });

async function pool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

interface Case {
  name: string;
  args: string[];
  code: 0 | 1 | 2;
  stderr?: RegExp;
  stdout?: RegExp;
  /** Longest stdout line allowed (abbreviation). */
  maxLine?: number;
  /** Run by a process that cannot write a mode-555 directory. */
  readOnly?: boolean;
}

async function simResult(out: string, model: string, dist: string, steps: number): Promise<void> {
  const r = await measure({ model, target: parseDist(dist), protocol: "sequential", settings: { steps, runs: 2, temperature: 1, seed: 1, prune: 1e-7 }, template: DEFAULT_TEMPLATE });
  r.id = newRunId(model);
  await saveResult(out, r);
}

describe("fuzz: broken inputs and faults through the CLI", () => {
  let dir: string;
  let base: string;
  let cases: Case[];
  let redirect: { server: Server; url: string };
  let before0: Stored;

  before(async () => {
    dir = await tempDir();
    base = join(dir, "results");
    await simResult(base, "sim:d", "extreme", 5);
    await simResult(base, "sim:e", "uniform(1,10000)", 2);
    before0 = await snapshot(base);
    const f = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    const file = f("a-file", "not a directory\n");
    const ok = f("ok.json", "[[[0.5,0.5],[0.4,0.6]]]");
    f("bad.json", "[[[0.5,");
    f("shape.json", '{"runs": 1}');
    f("bias.json", '{"7": 1}');
    f("bomb.yaml", `name: bomb\na: &a ["x","x","x","x","x","x","x","x","x"]\n${"bcdefg".split("").map((c, i) => `${c}: &${c} [${Array(9).fill(`*${"abcdef"[i]}`).join(",")}]`).join("\n")}\nmodels: [sim:d]\ntargets: [extreme]\n`);
    f("tab.yaml", "models:\n\t- sim:d\n");
    f("unknown.yaml", "models: [sim:d]\ntargets: [extreme]\nstepz: 3\n");
    f("badtarget.yaml", "models: [sim:d]\ntargets: [\"{1:0.5,2:0.6}\"]\n");
    f("bigname.yaml", `name: ${"n".repeat(5_000_000)}\nmodels: [sim:d]\ntargets: [extreme]\nsteps: 2\nruns: 1\n`);
    // 2 models × 3 targets × 3 protocols × 200 temperatures × 100 seeds = 360,000 cells
    f("big.yaml", `models: [sim:d, sim:e]\ntargets: [extreme, flat, "uniform(1,6)"]\nprotocols: [sequential, independent, batch]\ntemperatures: [${Array.from({ length: 200 }, (_, i) => ((i + 1) / 100).toFixed(2)).join(",")}]\nseeds: [${Array.from({ length: 100 }, (_, i) => i).join(",")}]\nsteps: 1\nruns: 1\n`);
    mkdirSync(join(dir, "empty"));
    // Damaged copies of the results directory: a junk header, and damaged pages past the first.
    for (const [name, at, bytes] of [["junk", 0, Buffer.from("JUNK".repeat(8))], ["pages", 4096, Buffer.alloc(60_000, 0x0d)]] as const) {
      cpSync(base, join(dir, name), { recursive: true });
      const fd = openSync(join(dir, name, "ptalign.db"), "r+");
      writeSync(fd, bytes, 0, bytes.length, at);
      closeSync(fd);
    }
    // A read-only copy (mode 555: another user's results, as seen by a process that cannot write there).
    cpSync(base, join(dir, "readonly"), { recursive: true });
    chmodSync(join(dir, "readonly", "runs"), 0o555);
    chmodSync(join(dir, "readonly"), 0o555);
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "public"));
    chmodSync(join(dir, "public"), 0o777);
    copyFileSync(ok, join(dir, "public", "ok.json"));
    const D = (name: string) => join(dir, name);
    // Issue 20, items 7, 8, 12, 13 (helper rough): data repairs, statistics caveats, rough edges, large reports.
    await roughFiles(dir);
    redirect = await redirectServer();
    cases = [
      { name: "target that does not sum to 1", args: ["run", "--model", "sim:d", "--target", "{1:0.5,2:0.6}", "--out", base], code: 2, stderr: /sum/ },
      { name: "unknown sim model", args: ["run", "--model", "sim:nope", "--target", "extreme", "--out", base], code: 2 },
      { name: "missing model file", args: ["run", "--model", D("missing.gguf"), "--target", "extreme", "--out", base], code: 2 },
      { name: "--steps 0", args: ["run", "--model", "sim:d", "--target", "extreme", "--steps", "0"], code: 2 },
      { name: "negative temperature", args: ["run", "--model", "sim:d", "--target", "extreme", "--temperature", "-1"], code: 2 },
      { name: "empty family", args: ["run", "--model", "sim:d", "--target", "uniform(5,1)", "--out", base], code: 2 },
      { name: "garbage target", args: ["run", "--model", "sim:d", "--target", "}{::", "--out", base], code: 2 },
      { name: "--out is a file", args: ["run", "--model", "sim:d", "--target", "extreme", "--out", file], code: 2, stderr: /is a file, not a directory/ },
      { name: "--out under a file", args: ["run", "--model", "sim:d", "--target", "extreme", "--out", join(file, "sub")], code: 2, stderr: /lies under the file/ },
      { name: "study --out is a file", args: ["run", D("badtarget.yaml"), "--out", file], code: 2 },
      { name: "report --out into a missing directory", args: ["report", base, "--out", join(dir, "missing", "r.html")], code: 2, stderr: /does not exist/ },
      { name: "report --out is a directory", args: ["report", base, "--out", D("empty")], code: 2, stderr: /is a directory/ },
      { name: "export --out under a file", args: ["export", base, "--out", join(file, "x.csv")], code: 2 },
      { name: "ls of a missing directory", args: ["ls", D("nothing-here")], code: 2 },
      { name: "ls of a file", args: ["ls", file], code: 2 },
      { name: "report of a directory that holds no results", args: ["report", D("empty"), "--out", D("r0.html")], code: 2 },
      { name: "YAML alias bomb", args: ["run", D("bomb.yaml"), "--dry-run"], code: 2, stderr: /bomb\.yaml:\d+: YAML aliases expand too much/ },
      { name: "YAML with a tab", args: ["run", D("tab.yaml"), "--dry-run"], code: 2, stderr: /tab\.yaml:\d+/ },
      { name: "study with an unknown key", args: ["run", D("unknown.yaml"), "--dry-run"], code: 2, stderr: /stepz/ },
      { name: "study with a bad target", args: ["run", D("badtarget.yaml"), "--out", base], code: 2 },
      { name: "missing study file", args: ["run", D("missing.yaml")], code: 2 },
      { name: "metrics: missing --ptoken file", args: ["metrics", "--target", "extreme", "--ptoken", D("missing.json")], code: 2 },
      { name: "metrics: --ptoken not JSON", args: ["metrics", "--target", "extreme", "--ptoken", D("bad.json")], code: 2 },
      { name: "metrics: --ptoken of the wrong shape", args: ["metrics", "--target", "extreme", "--ptoken", D("shape.json")], code: 2 },
      { name: "metrics: rows that do not match the target", args: ["metrics", "--target", "extreme", "--ptoken", D("ok.json")], code: 2 },
      { name: "metrics without --samples: no invented fit", args: ["metrics", "--target", "{1:0.5,2:0.5}", "--ptoken", D("ok.json")], code: 0, stdout: /sample_tvd\s+—[\s\S]*chi2_p\s+—/ },
      { name: "logit-bias file naming a non-answer", args: ["run", "--model", "sim:e", "--target", "extreme", "--logit-bias", D("bias.json"), "--no-save"], code: 2 },
      { name: "missing prompt file", args: ["run", "--model", "sim:e", "--target", "extreme", "--prompt-file", D("missing.txt"), "--no-save"], code: 2 },
      { name: "view on a port out of range", args: ["view", base, "--port", "99999"], code: 2 },
      { name: "unknown command", args: ["frobnicate"], code: 2 },
      { name: "unknown flag", args: ["ls", base, "--frob"], code: 2 },
      { name: "unreachable server (closed loopback port)", args: ["run", "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1", "--retries", "0", "--target", "extreme", "--steps", "2", "--runs", "1", "--out", base], code: 1 },
      { name: "damaged store (junk header): ls reads runs/*.json", args: ["ls", D("junk")], code: 0, stderr: /junk[/\\]ptalign\.db is damaged \(file is not a database\): move it aside/, stdout: /sim:d/ },
      { name: "damaged store (junk header): report", args: ["report", D("junk"), "--out", D("junk.html")], code: 0, stderr: /is damaged/ },
      { name: "damaged store (junk header): run refuses", args: ["run", "--model", "sim:d", "--target", "extreme", "--out", D("junk")], code: 2, stderr: /is damaged .*mv / },
      { name: "damaged store (pages): ls", args: ["ls", D("pages")], code: 0 },
      { name: "damaged store (pages): report", args: ["report", D("pages"), "--out", D("pages.html")], code: 0 },
      { name: "damaged store (pages): run refuses", args: ["run", "--model", "sim:d", "--target", "extreme", "--out", D("pages")], code: 2, stderr: /is damaged/ },
      { name: "damaged store (pages): study dry run", args: ["run", D("unknown.yaml").replace("unknown", "badtarget"), "--dry-run", "--out", D("pages")], code: 2 },
      { name: "read-only results: ls", args: ["ls", D("readonly")], code: 0, stdout: /sim:d/, readOnly: true },
      { name: "read-only results: report", args: ["report", D("readonly"), "--out", join(dir, "public", "ro.html")], code: 0, readOnly: true },
      { name: "read-only results: export", args: ["export", D("readonly"), "--level", "runs"], code: 0, readOnly: true },
      { name: "read-only results: run says not writable", args: ["run", "--model", "sim:d", "--target", "extreme", "--out", D("readonly")], code: 2, stderr: /results directory .*readonly is not writable/, readOnly: true },
      { name: "dry run of a 360,000-cell study", args: ["run", D("big.yaml"), "--dry-run", "--json", "--out", D("bigout")], code: 0, stdout: /"calls":360000\}/ },
      { name: "a 5 MB study name is abbreviated", args: ["run", D("bigname.yaml"), "--dry-run", "--out", D("bigout")], code: 0, stdout: /study n+… \(5000000 chars\)/, maxLine: 400 },
      { name: "ls abbreviates a 10,000-answer target", args: ["ls", base], code: 0, stdout: /\(\d{5,} chars\)/, maxLine: 600 },
      ...roughCases(D, redirect.url),
      { name: "a good run still adds to the directory", args: ["run", "--model", "sim:e", "--target", "extreme", "--steps", "3", "--runs", "1", "--out", base], code: 0 },
    ];
  });

  after(() => redirect?.server.close());

  it("no case prints an internal error or a stack trace; each exits as documented; nothing stored is lost", async () => {
    // The read-only cases run in one restricted process (its privileges are their subject, not its start-up).
    const restricted = cases.filter((c) => c.readOnly && ROOT);
    const inRestricted = restricted.length ? inOneChild(restricted.map((c) => c.args), { env: { PTALIGN_DEBUG: "" }, prefix: READ_ONLY_PREFIX }) : Promise.resolve([]);
    const results = await pool(cases.filter((c) => !restricted.includes(c)), 3, async (c) => ({ c, r: await cli(c.args) }));
    results.push(...(await inRestricted).map((r, i) => ({ c: restricted[i]!, r })));
    const problems: string[] = [];
    for (const { c, r } of results) {
      const say = (why: string) => problems.push(`${c.name}: ${why} (exit ${r.code}; stderr ${JSON.stringify(r.stderr.slice(0, 300))})`);
      if (/internal error/i.test(r.stderr + r.stdout)) say("internal error");
      if (/^\s+at .+[:(]\d+:\d+\)?$/m.test(r.stderr)) say("stack trace");
      if (r.code !== c.code) say(`expected exit ${c.code}`);
      if (c.code !== 0 && !/^ptalign: /m.test(r.stderr) && !/error:/.test(r.stderr)) say("no error line");
      if (c.code === 2 && c.name !== "unknown command" && c.name !== "unknown flag" && r.stderr.trim().split("\n").filter((l) => l.startsWith("ptalign:")).length > 2) say("more than one line");
      if (c.stderr && !c.stderr.test(r.stderr)) say(`stderr does not match ${c.stderr}`);
      if (c.stdout && !c.stdout.test(r.stdout)) say(`stdout does not match ${c.stdout}`);
      if (c.maxLine && Math.max(0, ...r.stdout.split("\n").map((l) => l.length)) > c.maxLine) say(`a stdout line is longer than ${c.maxLine}`);
    }
    assert.deepEqual(problems, []);
    // Nothing already stored is lost: every result file unchanged, every stored run still there with all its steps.
    const after = await assertNothingLost(base, before0);
    assert.equal(after.runs.size, before0.runs.size + 1, "the good run was added");
    // The damaged and read-only copies were not written to (their stores are as the fault left them).
    assert.equal((await snapshot(join(dir, "readonly"))).runs.size, before0.runs.size);
  });
});

/** Files of the rough cases (issue 20, items 7, 8, 12): MovieLens with repairs, odd encodings, study prompts, stats. */
async function roughFiles(dir: string): Promise<void> {
  const f = (name: string, data: string | Buffer) => writeFileSync(join(dir, name), data);
  mkdirSync(join(dir, "ml"));
  // User 1 rated movie 30 twice (the held-out one); movie 20 has no title; 40 and 50 share one.
  f("ml/ratings.csv", "userId,movieId,rating,timestamp\n1,30,4,1\n1,10,3,2\n1,50,3,3\n1,60,3,4\n1,30,5,9\n2,10,3,1\n2,20,3,2\n2,40,3,3\n2,70,3,4\n2,60,3,5\n");
  f("ml/movies.csv", "movieId,title,genres\n10,Heat (1995),Action\n20,,Drama\n30,Emma (1996),Romance\n40,Casino (1995),Crime\n50,Casino (1995),Drama\n60,Balto (1995),Children\n70,Nixon (1995),Drama\n80,Jumanji (1995),Adventure\n");
  f("latin1.txt", Buffer.from("Répondez: {{support}}.", "latin1"));
  f("p-terse.txt", "Answer with one of {{support}}.");
  mkdirSync(join(dir, "other"));
  f("other/p-terse.txt", "Pick one of {{support}}.");
  f("prompts-bare.yaml", "models: [sim:e]\ntargets: [extreme]\nprompts: [default, p-terse.txt]\nsteps: 2\nruns: 1\n");
  f("prompts-noname.yaml", "models: [sim:e]\ntargets: [extreme]\nprompts: [{name: x}]\n");
  f("prompts-twice.yaml", "models: [sim:e]\ntargets: [extreme]\nprompts: [p-terse.txt, other/p-terse.txt]\n");
  f("prompts-latin1.yaml", "models: [sim:e]\ntargets: [extreme]\nprompts: [latin1.txt]\n");
  f("bom.jsonl", "\uFEFF" + JSON.stringify({ task_id: "JavaScript/0", prompt: "function f(x) {\n", entry_point: "f", canonical_solution: "  return x;\n}\n", test: "console.assert(f(1) === 1);" }) + "\n");
  f("t50k.csv", "answer,value\n" + Array.from({ length: 50_000 }, (_, i) => `a${i},1`).join("\n"));
  f("s40.json", JSON.stringify([Array.from({ length: 40 }, (_, i) => `a${i}`)]));
  f("s-impossible.json", JSON.stringify([["a", "b", "c", "a", "b", "c"]]));
  await simResult(join(dir, "tiny"), "sim:e", "{a:0.00001,b:0.99999}", 3);
  f("tiny/runs/20990101-000000-broken.json", "{ not json");
}

/** A server on 127.0.0.1 that redirects every request, with credentials in the Location. */
async function redirectServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(302, { location: "http://bob:S3cretPass@127.0.0.1:1/elsewhere/v1" });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

function roughCases(D: (name: string) => string, redirectUrl: string): Case[] {
  return [
    { name: "MovieLens: a movie rated twice, an empty and a shared title: repaired, rows named", args: ["task", "recommend", "--model", "sim:e", "--data", D("ml"), "--labels", "titles", "--users", "2", "--history", "3", "--candidates", "3", "--k", "1", "--runs", "1", "--permutations", "0", "--no-save"], code: 0, stderr: /^(?=[\s\S]*rated the same movie more than once[^\n]*ratings\.csv:2\b)(?=[\s\S]*empty title \(movies\.csv:3\))(?=[\s\S]*"Casino \(1995\)" at movies\.csv:5 and movies\.csv:6)/ },
    { name: "--labels title (the help says 'by title')", args: ["task", "recommend", "--model", "sim:e", "--labels", "title", "--users", "2", "--runs", "1", "--permutations", "0", "--no-save"], code: 0 },
    { name: "chi2_p from 0.0008 expected per cell: caveat", args: ["metrics", "--target-file", D("t50k.csv"), "--samples", D("s40.json")], code: 0, stdout: /p unreliable: expected counts too small \(smallest 8\.0e-4/ },
    { name: "chi2 of an impossible answer prints as ∞", args: ["metrics", "--target", "{a:0.5,b:0.5,c:0}", "--samples", D("s-impossible.json")], code: 0, stdout: /Pearson chi2 = ∞/ },
    { name: "ls shows {a:0.00001,b:0.99999} and warns once about an unreadable runs/*.json", args: ["ls", D("tiny")], code: 0, stdout: /\{a:0\.00001,b:0\.99999\}/, stderr: /^ptalign: warning: 1 file in .*runs is not a readable result and is not shown: 20990101-000000-broken\.json/ },
    { name: "study prompts: a bare path (named after the file)", args: ["run", D("prompts-bare.yaml"), "--dry-run", "--out", D("bigout")], code: 0, stdout: /p-terse/ },
    { name: "study prompts: {name} without a file is worded for prompts", args: ["run", D("prompts-noname.yaml"), "--dry-run"], code: 2, stderr: /prompts\[0\]: expected "default", a prompt file's path/ },
    { name: "study prompts: two prompts with one name", args: ["run", D("prompts-twice.yaml"), "--dry-run"], code: 2, stderr: /the prompt name "p-terse" is also prompts\[0\]'s/ },
    { name: "study prompts: a Latin-1 prompt file", args: ["run", D("prompts-latin1.yaml"), "--dry-run"], code: 2, stderr: /is not UTF-8 \(byte 0xe9 at offset 1\)/ },
    { name: "run --prompt-file in Latin-1", args: ["run", "--model", "sim:e", "--target", "extreme", "--prompt-file", D("latin1.txt"), "--no-save"], code: 2, stderr: /prompt file .*latin1\.txt is not UTF-8 \(byte 0xe9 at offset 1\)/ },
    { name: "a problems file with a UTF-8 BOM", args: ["task", "codegen", "--model", "sim:e", "--problems", D("bom.jsonl"), "--dry-run"], code: 0 },
    { name: "answers equal after NFC (é and e + U+0301)", args: ["run", "--model", "sim:e", "--target", "{caf\u00e9:0.5,cafe\u0301:0.5}", "--no-save"], code: 2, stderr: /same text after Unicode normalisation \(NFC\)/ },
    { name: "a bad % escape in --base-url", args: ["run", "--model", "openai:m", "--base-url", "http://al%zzice:pw@127.0.0.1:9/v1", "--target", "extreme", "--no-save"], code: 2, stderr: /user name in it has a bad % escape/ },
    { name: "a redirect shows where it pointed, without credentials", args: ["run", "--model", "openai:m", "--base-url", redirectUrl, "--retries", "0", "--target", "extreme", "--steps", "1", "--runs", "1", "--no-save"], code: 1, stderr: /a redirect to http:\/\/127\.0\.0\.1:1\/elsewhere\/v1; ptalign does not follow redirects/ },
    { name: "report --charts with a bad value", args: ["report", D("tiny"), "--out", D("tiny.html"), "--charts", "lots"], code: 2, stderr: /--charts must be a whole number ≥ 0 or all/ },
  ];
}
