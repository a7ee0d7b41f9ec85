// A PostgreSQL location (postgresql://user@host:port/db?sslmode=...) and where its password comes from: the URL,
// PGPASSWORD, or the password file (PGPASSFILE, else ~/.pgpass) — libpq's order. The password is never printed
// nor stored: `location` (what messages and results name) is the URL without its password.
// The pgpass file is read here rather than by `pg` itself: pg's own lookup is deprecated (it warns on stderr) and
// goes away in pg 9.

import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { InputError } from "../errors.ts";

export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

export interface PostgresTarget {
  /** The URL as given (with its password, if any): handed to the driver only. */
  url: string;
  /** The URL without a password: for messages and the store's `location`. */
  location: string;
  host: string;
  port: number;
  database: string;
  user: string;
  ssl: false | { rejectUnauthorized: boolean };
  applicationName: string;
  /** Server settings (`-c search_path=...`), libpq's `options` parameter. */
  options: string | undefined;
}

/** Parses and checks a postgresql:// URL (a malformed one is an InputError naming it without its password). */
export function parsePostgresUrl(url: string, env: NodeJS.ProcessEnv = process.env): PostgresTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`${hidePassword(url)} is not a valid PostgreSQL URL: write postgresql://USER@HOST:PORT/DATABASE (the password in PGPASSWORD or ~/.pgpass)`);
  }
  const port = u.port === "" ? Number(env.PGPORT ?? 5432) : Number(u.port);
  const database = decodeURIComponent(u.pathname.replace(/^\//, "")) || env.PGDATABASE || "";
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`${hidePassword(url)}: port must be 1–65535`);
  if (database.includes("/")) throw new InputError(`${hidePassword(url)}: the database name cannot contain "/" (postgresql://USER@HOST:PORT/DATABASE)`);
  const host = u.searchParams.get("host") ?? (decodeURIComponent(u.hostname).replace(/^\[|\]$/g, "") || env.PGHOST || "localhost");
  const user = decodeURIComponent(u.username) || env.PGUSER || env.USER || "postgres";
  const sslmode = u.searchParams.get("sslmode") ?? env.PGSSLMODE ?? "disable";
  const ssl = SSL_MODES[sslmode];
  if (ssl === undefined) throw new InputError(`${hidePassword(url)}: sslmode must be one of ${Object.keys(SSL_MODES).join(", ")} (got ${sslmode})`);
  return { url, location: hidePassword(url), host, port, database: database || user, user, ssl, applicationName: u.searchParams.get("application_name") ?? "ptalign", options: u.searchParams.get("options") ?? undefined };
}

/**
 * libpq's sslmode as the driver's `ssl` setting. `prefer` and `allow` (try TLS, fall back) have no equivalent in the
 * driver: they connect without TLS, as a server without TLS would be reached anyway; `require` encrypts without
 * checking the certificate (libpq's meaning); `verify-ca` / `verify-full` check it against the system's CAs.
 */
const SSL_MODES: Record<string, false | { rejectUnauthorized: boolean }> = {
  disable: false,
  allow: false,
  prefer: false,
  require: { rejectUnauthorized: false },
  "verify-ca": { rejectUnauthorized: true },
  "verify-full": { rejectUnauthorized: true },
};

/** The URL with the password of its userinfo replaced by *** (any text: also one that does not parse). */
export function hidePassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i, "$1:***@").replace(/([?&]password=)[^&#]*/gi, "$1***");
}

/** The password to send: the URL's, else PGPASSWORD, else the password file's matching line; undefined when none. */
export function passwordFor(target: PostgresTarget, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const u = new URL(target.url);
  if (u.password) return decodeURIComponent(u.password);
  const inQuery = u.searchParams.get("password");
  if (inQuery) return inQuery;
  if (env.PGPASSWORD) return env.PGPASSWORD;
  return fromPassFile(target, env.PGPASSFILE ?? join(homedir(), ".pgpass"));
}

/**
 * A line `host:port:database:user:password` of the password file that matches (`*` matches anything; `\:` and `\\`
 * escape). As libpq does, a file readable by group or others is ignored (it would leak the password).
 */
export function fromPassFile(target: Pick<PostgresTarget, "host" | "port" | "database" | "user">, file: string): string | undefined {
  let text: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const want = [target.host, String(target.port), target.database, target.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = splitEscaped(line);
    if (fields.length < 5) continue;
    const matches = want.every((w, i) => fields[i] === "*" || fields[i] === w);
    if (matches) return fields.slice(4).join(":");
  }
  return undefined;
}

function splitEscaped(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && i + 1 < line.length) cur += line[++i];
    else if (c === ":" && out.length < 4) (out.push(cur), (cur = ""));
    else cur += c;
  }
  out.push(cur);
  return out;
}
