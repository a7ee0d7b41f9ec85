// On-disk request cache for remote backends: one gzip file per response, keyed by a hash of
// (endpoint, model, request body). Written atomically (temp file + rename) the moment a response arrives, so a run
// killed at any point and started again sends no request whose response was already received.
// The API key is never part of the key or of what is written (headers are not cached, only bodies).
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzip } from "node:zlib";

// Compression runs on libuv's thread pool: a 13 MB full-vocabulary answer takes ~100 ms to gzip, during which the
// main thread can read the other answers of a trie level.
const gzipAsync = promisify(gzip);

/** `$PTALIGN_CACHE_DIR`, else `$XDG_CACHE_HOME/ptalign/requests`, else `~/.cache/ptalign/requests`. */
export function defaultCacheDir(): string {
  if (process.env.PTALIGN_CACHE_DIR) return process.env.PTALIGN_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "ptalign", "requests");
}

/** The cache key: sha256 over a canonical JSON of endpoint, model and body (object keys sorted). */
export function cacheKey(endpoint: string, model: string, body: unknown): string {
  return createHash("sha256").update(canonicalJson({ endpoint, model, body })).digest("hex");
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export class RequestCache {
  hits = 0;
  writes = 0;
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json.gz`);
  }

  /** The cached response text, or undefined (a damaged entry counts as absent and is removed). */
  async get(key: string): Promise<string | undefined> {
    return (await this.getBytes(key))?.toString("utf8");
  }

  /** The cached response as bytes (UTF-8), for readers that scan large bodies without decoding them to a string. */
  async getBytes(key: string): Promise<Buffer | undefined> {
    let buf: Buffer;
    try {
      buf = await readFile(this.file(key));
    } catch {
      return undefined;
    }
    try {
      const bytes = gunzipSync(buf);
      this.hits++;
      return bytes;
    } catch {
      await rm(this.file(key), { force: true });
      return undefined;
    }
  }

  async put(key: string, text: string | Buffer): Promise<void> {
    const file = this.file(key);
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await writeFile(tmp, await gzipAsync(typeof text === "string" ? Buffer.from(text, "utf8") : text, { level: 1 }));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }); // a full disk leaves no half-written entry behind
      throw err;
    }
    this.writes++;
  }
}
