// HTTP client for OpenAI-compatible servers: concurrency limit, requests-per-minute limit, per-request timeout,
// retries with exponential backoff and jitter (429, 408, 5xx, timeouts, connection resets; Retry-After honoured;
// never a request the server says it does not support),
// an on-disk response cache with in-flight de-duplication, and an API key that never leaves the Authorization header.
import http from "node:http";
import https from "node:https";
import pLimit, { type LimitFunction } from "p-limit";
import pRetry, { AbortError } from "p-retry";
import { PendingRequest, RunError } from "../../errors.ts";
import { maxResponseBytes } from "../../limits.ts";
import { cacheKey, RequestCache } from "../../store/cache.ts";
import { displayUrl, redactor } from "./redact.ts";
import { ServerPool, type Replica } from "./pool.ts";

export interface ClientOptions {
  /** Base URL as the user gave it (e.g. http://127.0.0.1:8000/v1). */
  baseUrl: string;
  /**
   * Other servers serving the same model (--base-url given again): the requests are spread over all of them, with
   * failover (remote/pool.ts). The first server (baseUrl) still names the measurement and the cache's keys.
   */
  replicas?: readonly string[];
  /** Requests in flight on one server at most (--server-concurrency; default: concurrency). */
  serverConcurrency?: number;
  /** Where a dropped server's warning line goes (default stderr). */
  warn?: (line: string) => void;
  /** The API key (from the environment only); sent as a Bearer token, never logged, cached or printed. */
  apiKey?: string;
  /** Model name (part of every cache key). */
  model: string;
  concurrency?: number;
  /** Requests per minute; undefined = unlimited. */
  rpm?: number;
  /** Per-request timeout in ms (default 120 000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 6). */
  retries?: number;
  /** First backoff delay in ms (default 500; doubled each retry, with jitter ×1–2, capped at 30 s). */
  backoffMs?: number;
  /** null disables the cache (--no-cache). */
  cache?: RequestCache | null;
  /**
   * Batch mode: no network. A request whose answer is not in the cache is recorded here (cache key → endpoint and
   * body) and fails with PendingRequest; `ptalign batch export` writes them as Batch API JSONL.
   */
  collect?: Map<string, { url: string; body: unknown }>;
}

// A request that has no answer yet in batch mode (its answer comes with `ptalign batch import`): src/errors.ts.
export { PendingRequest } from "../../errors.ts";

/** How a POST's answer is read and explained (RemoteClient.post). */
export interface PostOptions<T> {
  /** What to do instead, appended when the server says it does not support the request. */
  hint?: string;
  /** Reads the raw answer without JSON.parse (large bodies); null = not its shape, `parse` reads it and explains. */
  fast?: (bytes: Buffer) => T | null;
}

export interface ClientStats {
  /** Requests sent over the network (attempts, retries included). */
  sent: number;
  /** Responses that came from the cache. */
  cached: number;
  retried: number;
}

/**
 * The server says it does not support the request (a parameter, a feature, the endpoint): repeating it cannot help,
 * whatever the status (llama-server answers `echo` with HTTP 500 "Unsupported param: echo"). Not retried.
 */
export class UnsupportedRequest extends RunError {
  override name = "UnsupportedRequest";
}

/** Error bodies that state the request is unsupported, as llama.cpp, vLLM, OpenAI and Ollama word it. */
const UNSUPPORTED = /\bunsupported\b|\bnot (?:yet )?supported\b|\bnot implemented\b|\bonly no \w+ is supported\b|\bdoes not support\b/i;

/** Whether a failed answer may succeed when repeated: 408, 429 and 5xx, unless the server says "unsupported" (or 501). */
export function isTransient(status: number, detail: string): boolean {
  if (status === 408 || status === 429) return true;
  if (status < 500 || status === 501) return false;
  return !UNSUPPORTED.test(detail);
}

/** An attempt that may succeed when repeated (rate limit, server error, timeout, reset). */
class Transient extends Error {
  /** `busy`: the server is up but overloaded (429, 408): not a sign that it is dying. */
  constructor(message: string, readonly retryAfterMs?: number, readonly busy = false) {
    super(message);
  }
}

/** The server was never reached (refused, unknown host): a wrong URL or a server that is not running. */
class Unreachable extends RunError {}

export { displayUrl } from "./redact.ts";

export class RemoteClient {
  readonly stats: ClientStats = { sent: 0, cached: 0, retried: 0 };
  /** The first server's base URL: backends write every request's URL under it; the pool routes it to a replica. */
  readonly base: string;
  private readonly limit: LimitFunction;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private nextSlot = 0;
  /** The servers (one without --base-url given again). */
  readonly pool: ServerPool;

  constructor(private readonly o: ClientOptions) {
    const concurrency = o.concurrency ?? 8;
    this.pool = new ServerPool([o.baseUrl, ...(o.replicas ?? [])], { perServer: o.serverConcurrency ?? concurrency, warn: o.warn });
    this.base = this.pool.primary.base;
    const redactors = [o.baseUrl, ...(o.replicas ?? [])].map((baseUrl) => redactor({ apiKey: o.apiKey, baseUrl }));
    this.redact = (text) => redactors.reduce((t, r) => r(t), text);
    this.maxBytes = maxResponseBytes();
    this.limit = pLimit(concurrency);
  }

  /** The server as it may be printed (no credentials): the first of a pool, which names the measurement. */
  get server(): string {
    return this.pool.primary.server;
  }

  /** Root of the server (base URL without a trailing /v1): where llama-server's native endpoints live. */
  get root(): string {
    return this.pool.primary.root;
  }

  /**
   * Removes every credential (the API key, the URL's userinfo, as raw, percent-encoded, base64, Bearer or Basic) from
   * any text that might be shown: server error bodies echo what they received.
   */
  readonly redact: (text: string) => string;
  /** Largest answer body accepted (PTALIGN_MAX_RESPONSE_MB, src/limits.ts). */
  private readonly maxBytes: number;

  /**
   * POST `body` as JSON to `url` (absolute, under this server) and parse the answer with `parse`. A response that
   * parses is cached before it is returned; the same request issued while one is in flight shares its answer.
   * `how.hint` (what to do instead) ends the message when the server says it does not support the request.
   */
  async post<T>(url: string, body: unknown, parse: (json: unknown) => T, how: PostOptions<T> = {}): Promise<T> {
    const endpoint = displayUrl(url);
    const key = cacheKey(endpoint, this.o.model, body);
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const work = this.fetchParsed(url, endpoint, key, body, parse, how.fast).catch((err: unknown) => {
      // What to do instead is known to the backend that chose the request, not to the transport.
      if (err instanceof UnsupportedRequest && how.hint) throw this.redacted(new UnsupportedRequest(`${err.message}; ${how.hint}`));
      throw this.redacted(err);
    });
    this.inflight.set(key, work);
    try {
      return await work;
    } finally {
      this.inflight.delete(key);
    }
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.pool.close();
  }

  /** Settles once every request started so far has settled (batch mode collects every pending request this way). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
  }

  /** GET without cache (server probing). */
  async get(url: string): Promise<unknown> {
    if (this.o.collect) throw new RunError(`batch mode contacts no server: pass --scoring echo or --scoring top-k`);
    try {
      const bytes = await this.limit(() => this.send(url, "GET"));
      return this.json(bytes.toString("utf8"), displayUrl(url));
    } catch (err) {
      throw this.redacted(err);
    }
  }

  /** The last gate before a message leaves the client: whatever built it, no credential is in it. */
  private redacted(err: unknown): unknown {
    if (err instanceof Error) err.message = this.redact(err.message);
    return err;
  }

  private async fetchParsed<T>(url: string, endpoint: string, key: string, body: unknown, parse: (json: unknown) => T, fast?: (bytes: Buffer) => T | null): Promise<T> {
    const cache = this.o.cache;
    const read = (bytes: Buffer): T => fast?.(bytes) ?? parse(this.json(bytes.toString("utf8"), endpoint));
    const hit = cache ? await cache.getBytes(key) : undefined;
    if (hit !== undefined) {
      this.stats.cached++;
      return read(hit);
    }
    if (this.o.collect) {
      this.o.collect.set(key, { url, body });
      throw new PendingRequest(`the answer to a request to ${endpoint} is not imported yet; run ptalign batch export, submit the file, then ptalign batch import`);
    }
    const payload = JSON.stringify(body);
    const bytes = await this.limit(() => this.send(url, "POST", payload));
    const value = read(bytes);
    if (cache) await cache.put(key, bytes);
    return value;
  }

  private json(text: string, endpoint: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      const snippet = this.redact(text.slice(0, 60)).replace(/\s+/g, " ");
      throw new RunError(`${endpoint} answered with a body that is not JSON (${JSON.stringify(snippet)}${text.length > 60 ? "…" : ""}); is --base-url an OpenAI-compatible server?`);
    }
  }

  /** One request with its retries: to the server, or over the pool's replicas with failover (remote/pool.ts). */
  private send(url: string, method: "GET" | "POST", payload?: string): Promise<Buffer> {
    if (this.pool.size === 1) {
      const r = this.pool.primary;
      // In r's slots too: --server-concurrency below --concurrency caps one server as it caps each of a pool.
      return this.withRetry(url, () => this.pool.run(r, () => this.once(r, url, method, payload)));
    }
    return this.sendPooled(url, method, payload);
  }

  /**
   * The pool's retry loop. A round sends the request to each live replica not yet tried in it, at once after a
   * failure; only when a whole round failed does it wait (the backoff of a single server's retries, or Retry-After)
   * and start another. `retries` counts rounds, so failing over to another replica never uses up the retries.
   */
  private async sendPooled(url: string, method: "GET" | "POST", payload?: string): Promise<Buffer> {
    const pool = this.pool;
    const retries = this.o.retries ?? 6;
    const tried = new Set<Replica>();
    let last: Error | undefined;
    for (let round = 0; ; ) {
      const r = pool.pick(tried);
      if (!r) {
        if (pool.live().every((x) => x.dropped || (!x.everConnected && last instanceof Unreachable))) throw this.poolDown(last);
        if (++round > retries) throw this.poolDown(last);
        tried.clear();
        const wait = last instanceof Transient && last.retryAfterMs !== undefined ? Math.min(last.retryAfterMs, 120_000) : Math.min((this.o.backoffMs ?? 500) * 2 ** (round - 1), 30_000) * (1 + Math.random());
        await new Promise((res) => setTimeout(res, wait));
        continue;
      }
      try {
        const bytes = await pool.run(r, () => this.once(r, pool.urlFor(url, r), method, payload));
        pool.answered(r);
        return bytes;
      } catch (err) {
        // A refusal of the request itself (4xx, unsupported, too large) is the same on every replica: no failover.
        if (!(err instanceof Transient) && !(err instanceof Unreachable)) throw err;
        last = err;
        tried.add(r);
        this.stats.retried++;
        if (!(err instanceof Transient && err.busy)) pool.failed(r, this.redact(err.message), err instanceof Unreachable);
      }
    }
  }

  /** No server of the pool answers: one line, naming them (the first in the list is the one recorded). */
  private poolDown(last: Error | undefined): RunError {
    const live = this.pool.live();
    const why = last ? this.redact(last.message) : "no answer";
    return new RunError(`no server of the pool answers (${this.pool.replicas.map((r) => r.server).join(", ")}; ${this.pool.size - live.length} dropped; last: ${why}); check that the servers are up, then run the same command again${this.o.cache ? " (answers received so far are cached)" : ""}`);
  }

  private withRetry(url: string, attempt: () => Promise<Buffer>): Promise<Buffer> {
    const endpoint = displayUrl(url);
    const retries = this.o.retries ?? 6;
    return pRetry(
      async () => {
        try {
          return await attempt();
        } catch (err) {
          if (err instanceof Transient) throw err;
          if (err instanceof RunError) throw new AbortError(err);
          throw new AbortError(new RunError(this.redact(`request to ${endpoint} failed: ${err instanceof Error ? err.message : String(err)}`)));
        }
      },
      {
        retries,
        factor: 2,
        minTimeout: this.o.backoffMs ?? 500,
        maxTimeout: 30_000,
        randomize: true,
        onFailedAttempt: async ({ error, retriesLeft }) => {
          if (retriesLeft > 0) this.stats.retried++;
          const wait = error instanceof Transient ? error.retryAfterMs : undefined;
          if (wait && retriesLeft > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 120_000)));
        },
      },
    ).catch((err: unknown) => {
      if (err instanceof Transient) {
        throw new RunError(`${endpoint} still failing after ${retries + 1} attempts (last: ${err.message}); check that the server is up and not overloaded, then run the same command again${this.o.cache ? " (answers received so far are cached)" : ""}`);
      }
      throw err;
    });
  }

  private async once(r: Replica, url: string, method: "GET" | "POST", payload?: string): Promise<Buffer> {
    await this.rateSlot();
    const endpoint = displayUrl(url);
    const timeout = this.o.timeoutMs ?? 120_000;
    const headers: Record<string, string> = { accept: "application/json" };
    if (payload !== undefined) headers["content-type"] = "application/json";
    if (this.o.apiKey) headers.authorization = `Bearer ${this.o.apiKey}`;
    this.stats.sent++;
    return this.exchange(r, url, endpoint, timeout, method, headers, payload);
  }

  /**
   * One HTTP exchange over node:http(s) with a keep-alive agent (a third of fetch's CPU per request on Node 20,
   * measured in bench/remote.ts). Resolves with the body of a 2xx, as bytes (a full-vocabulary answer is scanned
   * without decoding it to a string); throws Transient or RunError otherwise.
   */
  private exchange(r: Replica, url: string, endpoint: string, timeout: number, method: string, headers: Record<string, string>, payload?: string): Promise<Buffer> {
    const target = new URL(url);
    const secure = target.protocol === "https:";
    const sockets = this.pool.o.perServer;
    const agent = secure ? (r.httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: sockets })) : (r.httpAgent ??= new http.Agent({ keepAlive: true, maxSockets: sockets }));
    if (target.username || target.password) headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString("base64")}`;
    if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
    return new Promise<Buffer>((resolve, reject) => {
      let settled = false;
      let connected = false;
      const done = (err: Error | null, bytes?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(bytes!);
      };
      const timer = setTimeout(() => done(new Transient(connected ? `no complete answer within ${timeout} ms` : `no answer within ${timeout} ms`)), timeout);
      const req = (secure ? https : http).request(target, { method, headers, agent }, (res) => {
        connected = true;
        r.everConnected = true;
        const chunks: Buffer[] = [];
        // Size cap (src/limits.ts): an answer larger than any real one is refused before it exhausts memory.
        const cap = this.maxBytes;
        const tooLarge = () => new RunError(`${endpoint} sent an answer larger than ${+(cap / 1024 / 1024).toFixed(1)} MB, the response limit; check --base-url and --n-probs, or raise the limit with PTALIGN_MAX_RESPONSE_MB (at most 511)`);
        if (Number(res.headers["content-length"] ?? 0) > cap) return done(tooLarge());
        let received = 0;
        res.on("data", (d: Buffer) => {
          received += d.length;
          if (received > cap) return done(tooLarge());
          chunks.push(d);
        });
        res.on("error", (err) => done(new Transient(`connection lost while reading the answer (${causeCode(err) ?? errText(err)})`)));
        res.on("aborted", () => done(new Transient("connection lost while reading the answer (ECONNRESET)")));
        res.on("end", () => {
          if (!res.complete) return done(new Transient("connection lost while reading the answer (ECONNRESET)"));
          const bytes = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return done(null, bytes);
          const detail = this.redact(errorDetail(bytes.toString("utf8")));
          if (isTransient(status, detail)) return done(new Transient(`HTTP ${status}${detail ? `: ${detail}` : ""}`, retryAfter(res.headers), status === 429 || status === 408));
          if (status === 501 || UNSUPPORTED.test(detail)) return done(new UnsupportedRequest(`${endpoint} does not support this request (HTTP ${status}${detail ? `: ${detail}` : ""})`));
          const hint = status === 401 || status === 403 ? "; check the key in OPENAI_API_KEY (or --api-key-env)" : status === 404 ? "; check --base-url and the model name" : "";
          done(new RunError(`${endpoint} refused the request: HTTP ${status}${detail ? ` ${detail}` : ""}${hint}`));
        });
      });
      req.on("error", (err) => {
        const code = causeCode(err);
        if (!r.everConnected && !connected && (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN")) {
          return done(new Unreachable(`cannot reach ${endpoint} (${code === "ECONNREFUSED" ? "connection refused" : "host not found"}); is the server running, and is --base-url right?`));
        }
        done(new Transient(code ? `connection error ${code}` : `network error (${errText(err)})`));
      });
      req.end(payload);
    });
  }

  /** Requests-per-minute limit: starts are spaced 60 000 / rpm ms apart. */
  private async rateSlot(): Promise<void> {
    if (!this.o.rpm) return;
    const gap = 60_000 / this.o.rpm;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + gap;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }
}

function retryAfter(headers: http.IncomingHttpHeaders): number | undefined {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const ms = header("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = header("retry-after");
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** A short, single-line description of an error body (OpenAI's {"error": {"message"}} or the text itself). */
function errorDetail(text: string): string {
  let msg = text;
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    msg = typeof j.error === "string" ? j.error : j.error?.message ?? j.message ?? text;
  } catch {
    /* not JSON */
  }
  msg = msg.replace(/\s+/g, " ").trim();
  return msg.length > 160 ? `${msg.slice(0, 160)}…` : msg;
}

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === "object"; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function errText(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return (e?.cause?.message ?? e?.message ?? String(err)).split("\n")[0]!;
}
