// npm run bench — prefix reuse in the sequential protocol, measured side by side in one process.
// For T = 25, 100, 400 steps on a generated model: engine tokens evaluated and wall time with the engine's cached
// prefix reused between steps, versus the whole context evaluated again at every step; printed as ratios.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLlamaBackend } from "../src/backends/index.ts";
import { parseDist } from "../src/distributions/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../src/protocols/index.ts";
import { writeBigramModel } from "../src/synth/index.ts";
import { multiTokenSpec } from "../test/support/models.ts";

const dir = await mkdtemp(join(tmpdir(), "ptalign-bench-"));
try {
  // The multi-token test model, made to cost per token like a small transformer (width 256, 4 blocks, FFN 704):
  // its P_token is unchanged, so both modes must agree exactly, and the timing reflects real evaluation work.
  const path = join(dir, "bench.gguf");
  await writeBigramModel(path, { ...multiTokenSpec(), compute: { width: 256, layers: 4, feedForward: 704 } });
  const backend = await loadLlamaBackend(path, { contextSize: 8192 });
  const target = parseDist("uniform(1,12)");
  const prompt = renderPrompt(DEFAULT_TEMPLATE, { distribution: "", support: target.support, steps: 400 });
  console.log(`model: generated GGUF (width 256, 4 blocks), answers 1..12 (1-3 tokens each), prompt ${backend.encodePrompt(prompt).length} tokens, 1 thread\n`);
  console.log("steps  tokens(reuse)  tokens(no reuse)  token ratio  time(reuse)  time(no reuse)  time ratio");
  for (const steps of [25, 100, 400]) {
    const measure = async (reusePrefix: boolean) => {
      await backend.reset();
      const before = backend.stats.evaluated;
      const start = process.hrtime.bigint();
      const runs = await runTokenProtocol(backend, "sequential", target, prompt, { steps, runs: 1, temperature: 1, seed: 1, prune: 1e-7, reusePrefix });
      return { tokens: backend.stats.evaluated - before, ms: Number(process.hrtime.bigint() - start) / 1e6, runs };
    };
    // Alternate the two modes so that machine noise hits both alike.
    const reuse = await measure(true);
    const fresh = await measure(false);
    if (JSON.stringify(reuse.runs) !== JSON.stringify(fresh.runs)) throw new Error(`steps ${steps}: the two modes disagree`);
    console.log(
      [
        String(steps).padStart(5),
        String(reuse.tokens).padStart(13),
        String(fresh.tokens).padStart(16),
        `${(fresh.tokens / reuse.tokens).toFixed(1)}x`.padStart(11),
        `${reuse.ms.toFixed(0)} ms`.padStart(11),
        `${fresh.ms.toFixed(0)} ms`.padStart(14),
        `${(fresh.ms / reuse.ms).toFixed(1)}x`.padStart(10),
      ].join("  "),
    );
  }
  await backend.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
