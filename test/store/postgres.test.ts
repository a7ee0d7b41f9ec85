// test-process: own — a PostgreSQL server (top-level hooks) (test/support/suite.ts)
// The PostgreSQL store against a private server (test/support/postgres.ts): the schema-1 fixture copied in with
// `store copy` prints what the fixture's expected/ holds; copied back out, the directory exports byte for byte what
// the database does and reports the same page; --store / PTALIGN_STORE / a study's store:; the password from
// PGPASSWORD or a password file and never printed; every bad input one line with exit 2, nothing stored lost.
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { tempDir } from "../support/tmp.ts";
import { PG_SCHEMA_VERSION } from "../../src/store/postgresSchema.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/results-v1/", import.meta.url));
const expected = (name: string) => readFileSync(join(FIXTURE, "expected", name), "utf8");
const env = { PTALIGN_DEBUG: "", PGPASSWORD: undefined, PGPASSFILE: undefined, PTALIGN_STORE: undefined };
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => ptalign(args, { env: { ...env, ...extra } });

async function ok(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const t0 = Date.now();
  const r = await cli(args, extra);
  if (process.env.PTALIGN_TEST_TIMES) process.stderr.write(`${Date.now() - t0} ms: ${args.slice(0, 2).join(" ")}\n`);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stderr, "", `${args.join(" ")} warns nothing`);
  return r.stdout;
}

/** A bad input: exit 2, one line on stderr, nothing on stdout, the password never shown. */
async function refused(args: string[], pattern: RegExp, extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await cli(args, extra);
  assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.ts:\d+/);
  assert.ok(!r.stderr.includes(server.user.password), "the password is never printed");
  return r.stderr;
}

/** A report with its generation time, the location it read and vega's per-process gradient numbers removed. */
const normalise = (html: string, where: string) => html.split(where).join("WHERE").replace(/generated [\d-]+ [\d:]+ UTC/, "generated T UTC").replace(/gradient_\d+/g, "gradient_N");

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

describe("PostgreSQL store", () => {
  it("the schema-1 fixture copied in prints the fixture's expected output; copied out, export and report are identical", async () => {
    const tmp = await tempDir();
    const dir = join(tmp, "v1");
    cpSync(join(FIXTURE, "dir"), dir, { recursive: true });
    const { url } = await server.newDatabase();
    assert.match(await ok(["store", "copy", dir, url]), /^copied 20 measurements \(\d+ steps\) and 8 task results from .* to postgresql:\/\/ptalign_test:\*\*\*@/);
    assert.equal(await ok(["ls", url]), expected("ls.txt"));
    assert.equal(await ok(["ls", url, "--json"]), expected("ls.json"));
    assert.equal(await ok(["analyze", url]), expected("analyze.txt"));
    assert.equal(await ok(["analyze", url, "--json"]), expected("analyze.json"));
    assert.equal(await ok(["advise", url]), expected("advise.txt"));
    assert.equal(await ok(["export", url]), expected("export-steps.csv"));
    assert.equal(await ok(["export", url, "--format", "jsonl"]), expected("export-steps.jsonl"));

    // Database → a new directory: every export byte for byte, and the same report page.
    const back = join(tmp, "back");
    await ok(["store", "copy", url, back]);
    for (const args of [[], ["--format", "jsonl"], ["--format", "jsonl", "--level", "runs"]]) {
      assert.equal(await ok(["export", back, ...args]), await ok(["export", url, ...args]), `export ${args.join(" ")}`);
    }
    assert.equal(await ok(["ls", back, "--json"]), await ok(["ls", url, "--json"]));
    const pgPage = join(tmp, "pg.html");
    const dirPage = join(tmp, "dir.html");
    await ok(["report", url, "--out", pgPage]);
    await ok(["report", back, "--out", dirPage]);
    const pgHtml = normalise(readFileSync(pgPage, "utf8"), url.replace(server.user.password, "***"));
    const dirHtml = normalise(readFileSync(dirPage, "utf8"), back);
    const at = [...pgHtml].findIndex((c, i) => c !== dirHtml[i]);
    assert.ok(pgHtml === dirHtml, `the reports differ at ${at}: ${pgHtml.slice(at - 80, at + 80)} | ${dirHtml.slice(at - 80, at + 80)}`);
    assert.ok(!readFileSync(pgPage, "utf8").includes(server.user.password), "the report never shows the password");
    // And directory → database → directory again changes nothing (a copy over an earlier copy replaces it).
    await ok(["store", "copy", back, url]);
    assert.equal(await ok(["export", url, "--format", "jsonl", "--level", "runs"]), await ok(["export", back, "--format", "jsonl", "--level", "runs"]));
  });

  it("--store, PTALIGN_STORE and a study's store: record into the database; the password comes from PGPASSWORD or a password file", async () => {
    const tmp = await tempDir();
    const db = await server.newDatabase();
    const bare = `postgresql://${server.user.name}@127.0.0.1:${server.port}/${db.name}`; // no password in the URL
    // PGPASSWORD.
    const run = JSON.parse(await ok(["run", "--model", "sim:d", "--target", "extreme", "--steps", "4", "--runs", "2", "--store", bare, "--json"], { PGPASSWORD: server.user.password })) as { id: string };
    // A password file (mode 0600), through PGPASSFILE; and PTALIGN_STORE for a reader given no DIR.
    const passfile = join(tmp, "pgpass");
    writeFileSync(passfile, `# host:port:db:user:password\n127.0.0.1:${server.port}:${db.name}:${server.user.name}:${server.user.password.replace(/:/g, "\\:")}\n`);
    chmodSync(passfile, 0o600);
    const listed = JSON.parse(await ok(["ls", "--json"], { PGPASSFILE: passfile, PTALIGN_STORE: bare })) as { id: string; progress: { steps: number } }[];
    assert.deepEqual(listed.map((r) => [r.id, r.progress.steps]), [[run.id, 8]]);
    // A study's store: key (a URL without a password), used when the command line names no store.
    const study = join(tmp, "s.yaml");
    writeFileSync(study, `models: [sim:e]\ntargets: [extreme, flat]\nsteps: 3\nstore: ${bare}\n`);
    const out = JSON.parse(await ok(["run", study, "--json"], { PGPASSFILE: passfile })) as { out: string; cells: { status: string }[] };
    assert.equal(out.out, bare);
    assert.deepEqual(out.cells.map((c) => c.status), ["done", "done"]);
    assert.equal((JSON.parse(await ok(["ls", bare, "--json"], { PGPASSFILE: passfile })) as unknown[]).length, 3);
    // Nothing of the password is recorded: not in any row of the database.
    const rows = await server.sql<{ t: string }>(db.name, "SELECT (SELECT string_agg(r::text, '') FROM ptalign_runs r) || (SELECT string_agg(s::text, '') FROM ptalign_steps s) AS t");
    assert.ok(!rows[0]!.t.includes(server.user.password));
    // A study file that carries a password is refused.
    writeFileSync(study, `models: [sim:e]\ntargets: [extreme]\nstore: ${db.url}\n`);
    await refused(["run", study], /password does not belong in a study file/);
  });

  it("bad inputs: one line, exit 2, nothing stored lost", async () => {
    const db = await server.newDatabase();
    await ok(["run", "--model", "sim:e", "--target", "extreme", "--steps", "3", "--store", db.url]);
    const before = await ok(["export", db.url]);
    const closedPort = await (async () => {
      const { createServer } = await import("node:net");
      return new Promise<number>((resolve) => {
        const s = createServer().listen(0, "127.0.0.1", () => {
          const port = (s.address() as { port: number }).port;
          s.close(() => resolve(port));
        });
      });
    })();
    const wrong = db.url.replace(server.user.password, "not-the-password");
    await refused(["ls", `postgresql://u@127.0.0.1:${closedPort}/x`], /cannot reach PostgreSQL at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): start the server/);
    await refused(["run", "--model", "sim:e", "--target", "extreme", "--store", `postgresql://u@127.0.0.1:${closedPort}/x`], /cannot reach PostgreSQL/);
    await refused(["ls", wrong], /refused user ptalign_test .*PGPASSWORD or ~\/\.pgpass/);
    assert.ok(!(await cli(["ls", wrong])).stderr.includes("not-the-password"));
    await refused(["ls", `postgresql://${server.user.name}@127.0.0.1:${server.port}/${db.name}`], /asks user ptalign_test for a password and none was given/, { PGPASSFILE: "/nonexistent" });
    await refused(["ls", "postgresql://u:pw@[::1/x"], /is not a valid PostgreSQL URL/);
    await refused(["ls", `postgresql://u@127.0.0.1:${server.port}/db?sslmode=sometimes`], /sslmode must be one of/);
    await refused(["ls", db.url.replace(db.name, "no_such_db")], /has no database no_such_db/);
    await refused(["ls", "mysql://u@127.0.0.1/x"], /no store understands mysql:/);
    const study = join(await tempDir(), "s.yaml");
    writeFileSync(study, "models: [sim:e]\ntargets: [extreme]\nsteps: 2\n");
    await refused(["run", study, "--store", db.url], /PTALIGN_LEASE_SECONDS must be a number of seconds/, { PTALIGN_LEASE_SECONDS: "abc" });
    // A database written by a newer ptalign: refused by readers and writers alike, and left as it was.
    await server.sql(db.name, "UPDATE ptalign_meta SET value = $1 WHERE key = 'schema_version'", [String(PG_SCHEMA_VERSION + 1)]);
    await refused(["ls", db.url], new RegExp(`newer ptalign \\(PostgreSQL store schema ${PG_SCHEMA_VERSION + 1}, this one reads up to ${PG_SCHEMA_VERSION}\\): upgrade`));
    await refused(["run", "--model", "sim:e", "--target", "extreme", "--store", db.url], /newer ptalign/);
    await refused(["store", "copy", await tempDir(), db.url], /holds no ptalign results|not a ptalign results directory/);
    await server.sql(db.name, "UPDATE ptalign_meta SET value = $1 WHERE key = 'schema_version'", [String(PG_SCHEMA_VERSION)]);
    assert.equal(await ok(["export", db.url]), before, "nothing stored was lost");
  });
});
