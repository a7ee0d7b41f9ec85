// The protocol loop on a token backend, for callers that hold one (tests, benchmarks): the loop of loop.ts.
import type { PromptParts, TokenBackend } from "../backends/types.ts";
import type { ProtocolName, Run, Target } from "../types.ts";
import { runProtocol } from "./loop.ts";
import type { RunSettings, StepListener } from "./settings.ts";

export async function runTokenProtocol(backend: TokenBackend, protocol: ProtocolName, target: Target, prompt: PromptParts, settings: RunSettings, onStep?: StepListener, runs: Run[] = []): Promise<Run[]> {
  return (await runProtocol(backend, { protocol, target, prompt, settings, onStep, runs })).runs;
}
