// npm run bench:remote — throughput of openai: models against a loopback server that answers after a fixed delay.
// The sequential protocol (echo scoring: one request per answer per step) for R runs × T steps, at concurrency
// 1, 8 and 32 (after a warm-up pass), with the request cache off; prints steps/s, the ratio to concurrency 1, and the harness's own CPU
// time per step (process.cpuUsage of this process; the server runs in a child process). Then the full-vocabulary
// answers of llama-server's token path by vocabulary size (bench/fullVocab.ts).
import { closeModel, openModel } from "../src/backends/index.ts";
import { parseDist } from "../src/distributions/index.ts";
import { DEFAULT_TEMPLATE } from "../src/protocols/index.ts";
import { measure } from "../src/run.ts";
import { benchFullVocab, printFullVocab, startBenchServer } from "./fullVocab.ts";

const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 20);
const RUNS = 16;
const STEPS = 5;
const target = parseDist("{1:0.25,2:0.25,3:0.25,4:0.25}");

const server = await startBenchServer("./remoteServer.ts", String(DELAY_MS));
const url = server.url;

try {
  console.log(`loopback server answering after ${DELAY_MS} ms; sequential protocol, ${RUNS} runs × ${STEPS} steps, 4 answers (echo scoring: 4 requests per step), cache off\n`);
  console.log("concurrency  steps/s  ratio to 1  harness CPU per step");
  let base = 0;
  let reference: string | undefined;
  for (const concurrency of [8, 1, 8, 32]) {
    const warmup = reference === undefined; // the first pass only warms up the JIT and the connection pool
    const model = await openModel("openai:bench", { remote: { baseUrl: url, scoring: "echo", concurrency, cache: false } });
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const res = await measure({ model: "openai:bench", target, protocol: "sequential", settings: { steps: STEPS, runs: RUNS, temperature: 1, seed: 1, prune: 1e-7 }, template: DEFAULT_TEMPLATE }, model);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    await closeModel(model);
    const runs = JSON.stringify(res.runs);
    if (!warmup && runs !== reference) throw new Error(`concurrency ${concurrency} changed the result`);
    reference = runs;
    const steps = RUNS * STEPS;
    const rate = steps / seconds;
    if (warmup) continue;
    if (concurrency === 1) base = rate;
    const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
    console.log(`${String(concurrency).padStart(11)}  ${rate.toFixed(1).padStart(7)}  ${`${(rate / base).toFixed(1)}x`.padStart(10)}  ${`${cpuMs.toFixed(2)} ms`.padStart(20)}`);
  }
} finally {
  server.stop();
}

// llama-server's exact token path: the cost of full-vocabulary answers per vocabulary size (bench/fullVocab.ts).
console.log("");
printFullVocab(await benchFullVocab());
