// The cells of a study: one measurement (model × target × protocol × temperature × prompt × sampler × seed, with the
// study's steps, runs and engine settings) each, its configuration the study's with the cell's axes set, and
// identified by a hash of everything in it that changes its numbers.

import { createHash } from "node:crypto";
import { recordSettings, type MeasurementRecord } from "../config/build.ts";
import type { MeasurementConfig } from "../config/schema.ts";
import type { ProtocolName, RecordedSettings } from "../types.ts";
import type { SamplerSettings } from "../scoring/sampler.ts";
import type { Study, StudyTarget } from "./spec.ts";

export interface Cell {
  /** Position in the matrix (1-based), for messages. */
  index: number;
  /** sha256 of the cell's defining settings (hex, 16 characters): the same settings resume the same stored run. */
  hash: string;
  model: { spec: string; path: string };
  target: StudyTarget;
  /** The cell's whole configuration; the fields below are read from it. */
  config: MeasurementConfig;
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
                // The study's own configuration has no sampler: the samplers axis gives it.
                const config: MeasurementConfig = { ...study.config, protocol, temperature, seed, template: prompt.template, ...(sm.sampler ? { sampler: sm.sampler } : {}) };
                const c = { model, target, config, protocol, temperature, seed, steps: config.steps, runs: config.runs, prune: config.prune, template: config.template, prompt_name: prompt.name, sampler_name: sm.name, ...(sm.sampler ? { sampler: sm.sampler } : {}) };
                cells.push({ index: cells.length + 1, hash: cellHash(c), ...c });
              }
  return cells;
}

/**
 * Everything that can change the stored numbers: the model as written, P_task, protocol, temperature, seed, steps,
 * runs, pruning, the prompt template and the engine settings that change P_token (KV precision, chat template,
 * context size). Threads change only the speed, so they are left out. The layout (key order, which keys appear when)
 * is frozen: stored studies resume by this hash (test/config/cellHash.test.ts pins it).
 */
export function cellHash(c: Pick<Cell, "model" | "target" | "config">): string {
  const { config: k } = c;
  const remote = k.remote;
  const identity = {
    v: 1,
    model: c.model.spec,
    support: c.target.dist.support,
    probs: c.target.dist.probs,
    protocol: k.protocol,
    temperature: k.temperature,
    seed: k.seed,
    steps: k.steps,
    runs: k.runs,
    prune: k.prune,
    template: k.template,
    // Only when set, so that cells stored before the samplers axis keep their identity (and resume).
    ...(k.sampler ? { sampler: k.sampler } : {}),
    kv: k.engine.kv,
    raw: k.engine.raw,
    context_size: k.engine.contextSize ?? null,
    // A remote model's numbers depend on the server (OPENAI_BASE_URL was read into the configuration when it was
    // built) and on how P_token is read from it (never on the API key).
    ...(c.model.spec.startsWith("openai:") ? { remote: { base_url: remote.baseUrl ?? null, chat: remote.chat, scoring: remote.scoring, top_logprobs: remote.topLogprobs ?? null, ...(remote.nProbs ? { n_probs: remote.nProbs } : {}) } } : {}),
  };
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 16);
}

/**
 * A cell's recorded settings: the measurement's (config/build.ts recordSettings) and the cell's own keys — study,
 * cell hash, target label, template, prompt name and the engine options that change P_token.
 */
export function cellSettings(study: Pick<Study, "name">, cell: Pick<Cell, "hash" | "config" | "target" | "prompt_name">): MeasurementRecord & RecordedSettings {
  const e = cell.config.engine;
  return {
    ...recordSettings(cell.config),
    study: study.name,
    cell: cell.hash,
    target_label: cell.target.label,
    template: cell.config.template,
    prompt_name: cell.prompt_name,
    engine_options: { kv: e.kv, raw: e.raw, context_size: e.contextSize ?? null },
  };
}

/** Model calls of a cell: one P_token read per step (the batch protocol also generates the answers' tokens). */
export const callsOf = (c: Pick<Cell, "steps" | "runs">) => c.steps * c.runs;
