// npm run bench:continuous — what a continuous target costs per step: trie nodes (engine evaluations) and time per
// step for bins at precision 0, 1, 2, side by side with a 10-answer discrete target, on a generated model whose
// tokenizer writes one character per token (as Llama and Qwen write digits). `--json` prints the rows as JSON.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLlamaBackend } from "../src/backends/index.ts";
import { parseDist } from "../src/distributions/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../src/protocols/index.ts";
import { completePieces, writeBigramModel } from "../src/synth/index.ts";

const json = process.argv.includes("--json");
const dir = await mkdtemp(join(tmpdir(), "ptalign-bench-"));
try {
  const chars = ["▁", "-", ".", ",", ..."0123456789"];
  // Every character may follow every character: the scorer has to walk the whole trie of the bins' texts.
  const row = Object.fromEntries(chars.map((c) => [c, 1 / chars.length]));
  const path = join(dir, "digits.gguf");
  await writeBigramModel(path, { name: "digits", pieces: completePieces(chars), defaultRow: row, rows: Object.fromEntries(chars.map((c) => [c, row])), compute: { width: 256, layers: 4, feedForward: 704 } });
  const backend = await loadLlamaBackend(path, { contextSize: 4096 });
  const steps = 5;
  const rows: { target: string; answers: number; nodes_per_step: number; ms_per_step: number; node_ratio: number; time_ratio: number }[] = [];
  let base: { nodes: number; ms: number } | undefined;
  for (const dist of ["uniform(0,9)", "normal(0,1,precision=0)", "normal(0,1)", "normal(0,1,precision=2)", "baddice:cauchy"]) {
    const target = parseDist(dist);
    const prompt = renderPrompt(DEFAULT_TEMPLATE, { distribution: "", support: ["0"], steps });
    await backend.reset();
    const before = backend.stats.requests;
    const start = process.hrtime.bigint();
    await runTokenProtocol(backend, "sequential", target, prompt, { steps, runs: 1, temperature: 1, seed: 1, prune: 0 });
    const nodes = (backend.stats.requests - before) / steps;
    const ms = Number(process.hrtime.bigint() - start) / 1e6 / steps;
    base ??= { nodes, ms };
    rows.push({ target: dist, answers: target.support.length, nodes_per_step: nodes, ms_per_step: ms, node_ratio: nodes / base.nodes, time_ratio: ms / base.ms });
  }
  await backend.close();
  if (json) console.log(JSON.stringify(rows));
  else {
    console.log(`model: generated GGUF (width 256, 4 blocks), one character per token, ${steps} sequential steps each, 1 thread\n`);
    console.log("target                    answers  trie nodes/step  ms/step  nodes vs uniform(0,9)  time vs uniform(0,9)");
    for (const r of rows) {
      console.log(`${r.target.padEnd(24)}  ${String(r.answers).padStart(7)}  ${r.nodes_per_step.toFixed(0).padStart(15)}  ${r.ms_per_step.toFixed(1).padStart(7)}  ${`${r.node_ratio.toFixed(1)}x`.padStart(21)}  ${`${r.time_ratio.toFixed(1)}x`.padStart(20)}`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
