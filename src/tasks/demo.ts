// The downstream tasks on built-in models, for `ptalign demo`: code generation (sim families on the first problems
// of the built-in set; generated code writers on sumArray) and recommendation (sim families and a generated
// position-biased model on a controlled world).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { completePieces, writeBigramModel } from "../synth/index.ts";
import { loadProblems } from "./codegen/problems.ts";
import { runCodegen, type CodegenResult } from "./codegen/run.ts";
import { codeWriterSpec } from "./codegen/synth.ts";
import { generateWorld } from "./recommend/data.ts";
import { runRecommend, type RecommendResult } from "./recommend/run.ts";

export interface TaskDemo {
  codegen: { name: string; problems: number; result: CodegenResult }[];
  recommend: { name: string; result: RecommendResult }[];
}

/** Runs both tasks; generated models live in a temp dir removed afterwards. */
export async function runTaskDemo(seed = 1): Promise<TaskDemo> {
  const dir = await mkdtemp(join(tmpdir(), "ptalign-task-demo-"));
  try {
    return await taskDemoIn(dir, seed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function taskDemoIn(dir: string, seed: number): Promise<TaskDemo> {
  const limits = { timeoutMs: 1000, memoryMb: 16, maxOutputChars: 4096 };
  const all = await loadProblems();
  const few = all.slice(0, 8);
  const sumArray = all.filter((p) => p.entry_point === "sumArray");
  const p = sumArray[0]!;
  const writerE = join(dir, "code-e.gguf");
  const writerD = join(dir, "code-d.gguf");
  await writeBigramModel(writerE, codeWriterSpec([{ text: p.canonical_solution!, prob: 1 }]));
  await writeBigramModel(writerD, codeWriterSpec([{ text: p.canonical_solution!, prob: 0.5 }, ...p.wrong_solutions!.map((w) => ({ text: w, prob: 0.5 / p.wrong_solutions!.length }))]));
  const cg = { n: 5, temperatures: [0.2, 1], runs: 3, seed, ks: [1, 5], maxTokens: 32, limits };
  const codegen: TaskDemo["codegen"] = [];
  for (const [name, model, problems] of [["sim:e", "sim:e", few], ["sim:d", "sim:d", few], ["synth:code-e", writerE, sumArray], ["synth:code-d", writerD, sumArray]] as const) {
    codegen.push({ name, problems: problems.length, result: await runCodegen(model, problems, cg, { backend: { threads: 1 } }) });
  }

  const world = generateWorld({ seed, items: 40, categories: 5, users: 20, history: 8, candidates: 5, alpha: 0.5 });
  const biased = join(dir, "rec-position.gguf");
  const letters = ["▁A", "▁B", "▁C", "▁D", "▁E"];
  const bias = [0.4, 0.25, 0.15, 0.12, 0.08];
  await writeBigramModel(biased, {
    pieces: completePieces([...letters, "\n"]),
    defaultRow: Object.fromEntries(letters.map((l, i) => [l, bias[i]!])),
    rows: Object.fromEntries(letters.map((l) => [l, { "\n": 1 }])),
  });
  const rec = { temperature: 1, runs: 2, seed, permutations: 3, ks: [1, 3], labels: "letters" as const, prune: 1e-7 };
  const recommend: TaskDemo["recommend"] = [];
  for (const [name, model] of [["sim:e", "sim:e"], ["sim:d", "sim:d"], ["sim:collapsed", "sim:collapsed"], ["synth:position", biased]] as const) {
    recommend.push({ name, result: await runRecommend(model, world, rec, { backend: { threads: 1 } }) });
  }
  return { codegen, recommend };
}
