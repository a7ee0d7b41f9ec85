// The cells of a study: one measurement (model × target × protocol × temperature × seed, with the study's steps,
// runs, prompt and engine settings) each, identified by a hash of everything that changes its numbers.

import { createHash } from "node:crypto";
import type { ProtocolName } from "../types.ts";
import type { SamplerSettings } from "../scoring/sampler.ts";
import type { Study, StudyTarget } from "./spec.ts";

export interface Cell {
  /** Position in the matrix (1-based), for messages. */
  index: number;
  /** sha256 of the cell's defining settings (hex, 16 characters): the same settings resume the same stored run. */
  hash: string;
  model: { spec: string; path: string };
  target: StudyTarget;
  protocol: ProtocolName;
  temperature: number;
  seed: number;
  steps: number;
  runs: number;
  prune: number;
  template: string;
  /** Name of the cell's prompt on the study's prompts axis ("default" for the built-in template). */
  prompt_name: string;
  /** The cell's sampler on the samplers axis (absent: no truncation). */
  sampler?: SamplerSettings;
  sampler_name: string;
}

/** The matrix in file order: models outermost, then targets, protocols, temperatures, prompts, samplers, seeds. */
export function cellsOf(study: Study): Cell[] {
  const cells: Cell[] = [];
  for (const model of study.models)
    for (const target of study.targets)
      for (const protocol of study.protocols)
        for (const temperature of study.temperatures)
          for (const prompt of study.prompts)
            for (const sm of study.samplers)
              for (const seed of study.seeds) {
                const c = { model, target, protocol, temperature, seed, steps: study.steps, runs: study.runs, prune: study.prune, template: prompt.template, prompt_name: prompt.name, sampler_name: sm.name, ...(sm.sampler ? { sampler: sm.sampler } : {}) };
                cells.push({ index: cells.length + 1, hash: cellHash(c, study.engine, study.remote), ...c });
              }
  return cells;
}

/**
 * Everything that can change the stored numbers: the model as written, P_task, protocol, temperature, seed, steps,
 * runs, pruning, the prompt template and the engine settings that change P_token (KV precision, chat template,
 * context size). Threads change only the speed, so they are left out.
 */
export function cellHash(c: Omit<Cell, "index" | "hash">, engine: Study["engine"], remote?: Study["remote"]): string {
  const identity = {
    v: 1,
    model: c.model.spec,
    support: c.target.dist.support,
    probs: c.target.dist.probs,
    protocol: c.protocol,
    temperature: c.temperature,
    seed: c.seed,
    steps: c.steps,
    runs: c.runs,
    prune: c.prune,
    template: c.template,
    // Only when set, so that cells stored before the samplers axis keep their identity (and resume).
    ...(c.sampler ? { sampler: c.sampler } : {}),
    kv: engine.kv ?? "f32",
    raw: engine.raw ?? false,
    context_size: engine.contextSize ?? null,
    // A remote model's numbers depend on the server and on how P_token is read from it (never on the API key).
    ...(c.model.spec.startsWith("openai:") ? { remote: { base_url: remote?.baseUrl ?? process.env.OPENAI_BASE_URL ?? null, chat: remote?.chat ?? false, scoring: remote?.scoring ?? "auto", top_logprobs: remote?.topLogprobs ?? null, ...(remote?.nProbs ? { n_probs: remote.nProbs } : {}) } } : {}),
  };
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 16);
}

/** Model calls of a cell: one P_token read per step (the batch protocol also generates the answers' tokens). */
export const callsOf = (c: Pick<Cell, "steps" | "runs">) => c.steps * c.runs;
