// A pool of inference servers that serve the same model (replicas of vLLM or llama-server behind one measurement):
// `--base-url` given several times. The first URL names the measurement (the study cell's hash, the request cache's
// keys and the recorded `server` are the first server's, so a pool's results and cache are those of the first server
// alone); the requests are spread over every live replica. Scoring is deterministic, so which replica answers a
// request does not change a number.
//
// Spreading: each request goes to the live replica with the fewest requests waiting or in flight (ties: the next in
// turn), and at most `perServer` requests are in flight on one replica (--server-concurrency).
// Failover: a request that fails on one replica in a way another could answer (no connection, a reset, a timeout,
// a 5xx) is sent again to another replica at once; only when every live replica has failed it does the request wait
// (the client's backoff). A replica that fails `maxFailures` requests in a row, or cannot be reached at all, is
// dropped for the rest of the process with one warning line; when none is left the request fails (RunError).

import http from "node:http";
import https from "node:https";
import pLimit, { type LimitFunction } from "p-limit";
import { displayUrl } from "./redact.ts";

export interface Replica {
  /** Position in the list as given (0 = the first server, which names the measurement). */
  index: number;
  /** Base URL as given, without trailing slashes (e.g. http://10.0.0.2:8000/v1). */
  base: string;
  /** The base without a trailing /v1: where llama-server's native endpoints live. */
  root: string;
  /** As it may be printed (no credentials). */
  server: string;
  /** Slots of this replica (perServer in flight). */
  readonly limit: LimitFunction;
  /** Requests waiting for or holding a slot here. */
  load: number;
  /** Failures in a row (reset by an answer). */
  failures: number;
  dropped: boolean;
  /** Whether any connection to this replica ever succeeded (a refused first connection means a wrong URL). */
  everConnected: boolean;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
}

export interface PoolOptions {
  /** Requests in flight on one replica at most. */
  perServer: number;
  /** Failures in a row after which a replica is dropped (default 3). */
  maxFailures?: number;
  /** Where the one-line warning about a dropped replica goes (default stderr). */
  warn?: (line: string) => void;
}

export class ServerPool {
  readonly replicas: Replica[];
  private turn = 0;
  private readonly maxFailures: number;
  private readonly warn: (line: string) => void;

  constructor(baseUrls: readonly string[], readonly o: PoolOptions) {
    if (baseUrls.length === 0) throw new Error("a server pool needs at least one URL");
    this.replicas = baseUrls.map((url, index) => {
      const base = url.replace(/\/+$/, "");
      return { index, base, root: base.replace(/\/v1$/, ""), server: displayUrl(base), limit: pLimit(o.perServer), load: 0, failures: 0, dropped: false, everConnected: false };
    });
    this.maxFailures = o.maxFailures ?? 3;
    this.warn = o.warn ?? ((line) => process.stderr.write(line));
  }

  /** The first server: its URL is the one requests are written against and the one recorded. */
  get primary(): Replica {
    return this.replicas[0]!;
  }

  get size(): number {
    return this.replicas.length;
  }

  live(): Replica[] {
    return this.replicas.filter((r) => !r.dropped);
  }

  /**
   * The live replica to send the next attempt to: the least loaded among those not in `tried` (ties: in turn).
   * Undefined when every live replica has been tried (or none is left).
   */
  pick(tried: ReadonlySet<Replica> = new Set()): Replica | undefined {
    const candidates = this.live().filter((r) => !tried.has(r));
    if (candidates.length === 0) return undefined;
    const n = this.replicas.length;
    let best: Replica | undefined;
    for (let k = 0; k < n; k++) {
      const r = this.replicas[(this.turn + k) % n]!;
      if (!candidates.includes(r)) continue;
      if (!best || r.load < best.load) best = r;
    }
    this.turn = (best!.index + 1) % n;
    return best;
  }

  /** The URL `url` (written under the first server) under replica `r`. */
  urlFor(url: string, r: Replica): string {
    const p = this.primary;
    if (r === p) return url;
    if (url.startsWith(p.root)) return r.root + url.slice(p.root.length);
    return url;
  }

  /** Runs `send` in one of r's slots, counting it in r's load while it waits and runs. */
  async run<T>(r: Replica, send: () => Promise<T>): Promise<T> {
    r.load++;
    try {
      return await r.limit(send);
    } finally {
      r.load--;
    }
  }

  answered(r: Replica): void {
    r.failures = 0;
  }

  /**
   * A failure of r that another replica might not have. `fatal`: r cannot serve at all (never reached). Returns
   * whether r was dropped now. The last live replica is never dropped here: its failures end in the client's error.
   */
  failed(r: Replica, why: string, fatal = false): boolean {
    r.failures++;
    if (r.dropped || (!fatal && r.failures < this.maxFailures)) return false;
    if (this.live().length <= 1) return false;
    r.dropped = true;
    r.httpAgent?.destroy();
    r.httpsAgent?.destroy();
    const left = this.live();
    this.warn(`ptalign: warning: server ${r.server} dropped from the pool after ${fatal ? "it could not be reached" : `${r.failures} failures in a row`} (${why}); going on with ${left.length} of ${this.size}: ${left.map((x) => x.server).join(", ")}\n`);
    return true;
  }

  close(): void {
    for (const r of this.replicas) {
      r.httpAgent?.destroy();
      r.httpsAgent?.destroy();
    }
  }
}
