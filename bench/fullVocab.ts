// Part of npm run bench:remote: the cost of llama-server's exact token path (--scoring tokens), whose every trie node
// is one /completion answer listing the whole vocabulary. Against a loopback stand-in (bench/fullVocabServer.ts, a
// child process serving pre-serialised bodies), per vocabulary size, side by side in one run: the transfer alone, the
// old reader (UTF-8 decode + JSON.parse + the checked Map), the byte scanner the backend uses, the same with the
// request cache on (gzip write), and --n-probs 100. Wall ms per request (median) and this process's CPU ms.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RemoteClient } from "../src/backends/remote/http.ts";
import { scanNativeProbs } from "../src/backends/remote/fullVocab.ts";
import { parseNativeProbs } from "../src/backends/remote/shapes.ts";
import { RequestCache } from "../src/store/cache.ts";

export interface FullVocabRow {
  vocab: number;
  body_mb: number;
  /** Median wall ms per request, and harness CPU ms per request, for each way of reading the answer. */
  transfer: Cost;
  json_parse: Cost;
  scan: Cost;
  scan_cached: Cost;
  n_probs_100: Cost;
  /** json_parse wall / scan wall, measured in this run. */
  speedup: number;
}
interface Cost {
  ms: number;
  cpu_ms: number;
}

const REQUESTS = Number(process.env.BENCH_FULLVOCAB_REQUESTS ?? 7);

/** Starts a bench server script of this folder in a child process (so its CPU is not the harness's); it prints its URL. */
export async function startBenchServer(script: string, arg: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL(script, import.meta.url)), arg], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("\n")) resolve(buf.trim());
    });
    child.on("exit", (code) => reject(new Error(`bench server exited (${code})`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

let serial = 0;
/** REQUESTS distinct requests one after another (a sequential run's trie nodes), after one warm-up request. */
async function cost(client: RemoteClient, url: string, nProbs: number, read: "none" | "json" | "scan", nVocab: number): Promise<Cost> {
  const root = url.replace(/\/v1$/, "");
  const once = () => {
    const body = { prompt: [1, 2, 3, serial++], n_predict: 1, n_probs: nProbs, post_sampling_probs: false, cache_prompt: true, temperature: 1 };
    const parse = (j: unknown) => parseNativeProbs(j, "bench");
    if (read === "none") return client.post(`${root}/completion`, body, parse, { fast: () => new Map<number, number>() });
    if (read === "json") return client.post(`${root}/completion`, body, parse);
    return client.post(`${root}/completion`, body, parse, { fast: (b) => scanNativeProbs(b, nVocab) });
  };
  await once();
  const walls: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const probs = await once();
    walls.push(performance.now() - t0);
    if (read !== "none" && probs.size !== Math.min(nProbs, nVocab)) throw new Error(`read ${probs.size} of ${nProbs} entries`);
  }
  const cpu = process.cpuUsage(cpu0);
  walls.sort((a, b) => a - b);
  return { ms: round(walls[Math.floor(walls.length / 2)]!), cpu_ms: round((cpu.user + cpu.system) / 1000 / REQUESTS) };
}

const round = (x: number) => Math.round(x * 10) / 10;

export async function benchFullVocab(vocabs = [32000, 128256, 151936]): Promise<FullVocabRow[]> {
  const rows: FullVocabRow[] = [];
  for (const nVocab of vocabs) {
    const server = await startBenchServer("./fullVocabServer.ts", String(nVocab));
    const dir = await mkdtemp(join(tmpdir(), "ptalign-bench-cache-"));
    try {
      const client = new RemoteClient({ baseUrl: server.url, model: "bench", cache: null, concurrency: 1 });
      const cached = new RemoteClient({ baseUrl: server.url, model: "bench", cache: new RequestCache(dir), concurrency: 1 });
      const sizeProbe = await fetch(`${server.url.replace(/\/v1$/, "")}/completion`, { method: "POST", body: JSON.stringify({ n_probs: nVocab }) });
      const bodyMb = round((await sizeProbe.arrayBuffer()).byteLength / 1e6);
      const transfer = await cost(client, server.url, nVocab, "none", nVocab);
      const jsonParse = await cost(client, server.url, nVocab, "json", nVocab);
      const scan = await cost(client, server.url, nVocab, "scan", nVocab);
      const scanCached = await cost(cached, server.url, nVocab, "scan", nVocab);
      const top100 = await cost(client, server.url, 100, "scan", nVocab);
      client.close();
      cached.close();
      rows.push({ vocab: nVocab, body_mb: bodyMb, transfer, json_parse: jsonParse, scan, scan_cached: scanCached, n_probs_100: top100, speedup: round(jsonParse.ms / scan.ms) });
    } finally {
      server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

export function printFullVocab(rows: readonly FullVocabRow[]): void {
  console.log("llama-server full-vocabulary answers (--scoring tokens), loopback, one request at a time; ms per request (harness CPU ms)");
  console.log("   vocab  body MB   transfer   JSON.parse path   byte scan   scan + cache   --n-probs 100   JSON.parse/scan");
  const c = (x: Cost, w: number) => `${x.ms.toFixed(0)} (${x.cpu_ms.toFixed(0)})`.padStart(w);
  for (const r of rows) {
    console.log(`${String(r.vocab).padStart(8)}  ${r.body_mb.toFixed(1).padStart(7)}  ${c(r.transfer, 9)}  ${c(r.json_parse, 16)}  ${c(r.scan, 10)}  ${c(r.scan_cached, 13)}  ${c(r.n_probs_100, 14)}  ${`${r.speedup.toFixed(1)}x`.padStart(16)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) printFullVocab(await benchFullVocab()); // alone: node --import tsx bench/fullVocab.ts
