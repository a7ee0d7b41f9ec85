// Flags of the embedded engine's hardware (docs/backends.md "GPU"), shared by `run` and `task`.
import { InvalidArgumentError, Option, type Command } from "commander";
import { GPU_CHOICES, type GpuChoice, type LlamaOptions } from "../backends/llama.ts";
import { DEFAULTS } from "../config/defaults.ts";
import type { EngineInput } from "../config/schema.ts";
import { wholeNumber } from "./common.ts";

export interface EngineFlags {
  gpu: GpuChoice;
  gpuLayers: "auto" | number;
  parallel?: number;
}

/** `--gpu-layers auto|N`. */
export function gpuLayers(value: string): "auto" | number {
  if (value.trim() === "auto") return "auto";
  if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError(`--gpu-layers must be auto or a whole number ≥ 0 (got ${value})`);
  return Number(value);
}

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--gpu <backend>", "GPU backend of the embedded engine: auto (node-llama-cpp's detection; the CPU when none is usable), or off").choices(GPU_CHOICES).default(DEFAULTS.engine.gpu))
    .addOption(new Option("--gpu-layers <n>", "layers offloaded to the GPU: auto (as many as fit) or a count").argParser(gpuLayers).default(DEFAULTS.engine.gpuLayers))
    .addOption(new Option("--parallel <n>", "runs measured at once on sequences of one context, decodes batched (run: default min(runs, 4), as memory allows; task: 1)").argParser(wholeNumber("--parallel", 1)));
}

/** The backend options of the flags; `runs` caps the default number of sequences (no more than there are runs). */
export function engineOptions(f: EngineFlags, runs?: number): Pick<LlamaOptions, "gpu" | "gpuLayers" | "parallel" | "runs"> {
  return { gpu: f.gpu, gpuLayers: f.gpuLayers, parallel: f.parallel, runs };
}

/** The hardware part of a measurement's engine configuration (config/schema.ts), as the flags give it. */
export function engineInput(f: EngineFlags): Pick<EngineInput, "gpu" | "gpuLayers" | "parallel"> {
  return { gpu: f.gpu, gpuLayers: f.gpuLayers, parallel: f.parallel };
}
