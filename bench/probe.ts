// Part of npm run bench (section "probe"), or alone: node --import tsx bench/probe.ts [--json]. The cost of
// `ptalign probe` against `ptalign run` for the same measurement on the generated 151,936-token model (Qwen2.5
// tokenizer, width 1024, 4 blocks; answers 1..4, sequential, 1 run × 3 steps, 1 thread, CPU): wall time of each, the
// probe with attention only (the eval callback's cost) and with the lens too, and the output projections the lens made
// against the bound of one per block per evaluation.
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadLlamaBackend, type TokenBackend } from "../src/backends/index.ts";
import type { OutputHead } from "../src/backends/types.ts";
import { probeMeasure } from "../src/probe/measure.ts";
import { DEFAULT_TEMPLATE } from "../src/protocols/index.ts";
import type { RunSettings } from "../src/protocols/settings.ts";
import { measure } from "../src/run.ts";
import { bpeELikeSpec, writeBpeBigramModel } from "../src/synth/index.ts";
import type { Target } from "../src/types.ts";

export interface ProbeBenchRow {
  vocab: number;
  width: number;
  blocks: number;
  steps: number;
  evaluations: number;
  run_ms: number;
  probe_attention_ms: number;
  probe_ms: number;
  /** probe (lens + attention) wall / run wall. */
  ratio: number;
  attention_ratio: number;
  projections: number;
  /** blocks × evaluations: the lens makes at most this many projections. */
  projection_bound: number;
  ms_per_projection: number;
  /** Passes over the output matrix (one per evaluation: every block's stream at once). */
  matrix_passes: number;
  load: string;
}

const TARGET: Target = { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] };
const COMPUTE = { width: 1024, layers: 4, feedForward: 2048 };
const SETTINGS: RunSettings = { steps: 3, runs: 1, temperature: 1, seed: 1, prune: 1e-7 };
const round = (x: number, d = 2) => Number(x.toFixed(d));
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

/** Counts the lens's output projections and their time. */
function counted(backend: TokenBackend, tally: { n: number; passes: number; ms: number }): void {
  const open = backend.outputHead!.bind(backend);
  backend.outputHead = async (): Promise<OutputHead> => {
    const head = await open();
    return {
      nEmbd: head.nEmbd,
      nVocab: head.nVocab,
      logits: (h) => head.logits(h),
      logitsMany: (hs) => {
        const t0 = performance.now();
        try {
          return head.logitsMany(hs);
        } finally {
          tally.n += hs.length;
          tally.passes++;
          tally.ms += performance.now() - t0;
        }
      },
    };
  };
}

export async function benchProbe(): Promise<ProbeBenchRow> {
  const dir = await mkdtemp(join(tmpdir(), "ptalign-bench-probe-"));
  try {
    const path = join(dir, "v151936.gguf");
    await writeBpeBigramModel(path, bpeELikeSpec("qwen2.5", TARGET, { vocabSize: "real", compute: COMPUTE }));
    const req = { model: path, target: TARGET, protocol: "sequential" as const, settings: SETTINGS, template: DEFAULT_TEMPLATE };
    const options = { gpu: "off" as const, threads: 1, parallel: 1 };

    const plain = await loadLlamaBackend(path, options);
    await measure({ ...req, settings: { ...SETTINGS, steps: 1 } }, plain); // warm: first touch of the weights
    const before = plain.stats.requests;
    let t0 = performance.now();
    await measure(req, plain);
    const runMs = performance.now() - t0;
    const evaluations = plain.stats.requests - before;
    await plain.close();

    const inspect = await loadLlamaBackend(path, { ...options, inspect: true });
    await probeMeasure({ ...req, settings: { ...SETTINGS, steps: 1 } }, inspect, { id: "warm", out: undefined }, { lens: false, attention: true, heads: false });
    t0 = performance.now();
    await probeMeasure(req, inspect, { id: "attention", out: undefined }, { lens: false, attention: true, heads: false });
    const attentionMs = performance.now() - t0;
    const tally = { n: 0, passes: 0, ms: 0 };
    counted(inspect, tally);
    t0 = performance.now();
    await probeMeasure(req, inspect, { id: "probe", out: undefined }, { lens: true, attention: true, heads: false });
    const probeMs = performance.now() - t0;
    await inspect.close();

    return {
      vocab: 151936,
      width: COMPUTE.width,
      blocks: COMPUTE.layers,
      steps: SETTINGS.steps,
      evaluations,
      run_ms: round(runMs, 0),
      probe_attention_ms: round(attentionMs, 0),
      probe_ms: round(probeMs, 0),
      ratio: round(probeMs / runMs),
      attention_ratio: round(attentionMs / runMs),
      projections: tally.n,
      projection_bound: COMPUTE.layers * evaluations,
      ms_per_projection: round(tally.ms / Math.max(1, tally.n), 1),
      matrix_passes: tally.passes,
      load: load(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function printProbe(r: ProbeBenchRow): void {
  console.log(`probe vs run: generated model, vocab ${r.vocab}, width ${r.width}, ${r.blocks} blocks; answers 1..4, sequential, 1 run x ${r.steps} steps, 1 thread, CPU (load average ${r.load})`);
  console.log(`  run ${r.run_ms} ms (${r.evaluations} evaluations)   probe, attention only ${r.probe_attention_ms} ms (${r.attention_ratio}x)   probe, lens + attention ${r.probe_ms} ms (${r.ratio}x)`);
  console.log(`  lens output projections ${r.projections} (bound: ${r.blocks} blocks x ${r.evaluations} evaluations = ${r.projection_bound}), ${r.ms_per_projection} ms each (${r.vocab} x ${r.width} multiply-adds in JavaScript), in ${r.matrix_passes} passes over the matrix`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const row = await benchProbe();
  if (process.argv.includes("--json")) process.stdout.write(JSON.stringify(row) + "\n");
  else printProbe(row);
}
