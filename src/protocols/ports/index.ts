// The scoring port of any model, chosen by its declared kind.
import type { Model } from "../../backends/index.ts";
import type { PromptParts } from "../../backends/types.ts";
import type { ProtocolName, Target } from "../../types.ts";
import type { ScoringPort } from "../port.ts";
import type { RunSettings } from "../settings.ts";
import { simPort } from "./sim.ts";
import { textPort } from "./text.ts";
import { tokenPort } from "./tokens.ts";

export async function portFor(model: Model, protocol: ProtocolName, target: Target, prompt: PromptParts, settings: RunSettings): Promise<ScoringPort> {
  switch (model.kind) {
    case "sim":
      return simPort(model, target, settings, model.spec);
    case "tokens":
      return tokenPort(model, protocol, target, prompt, settings);
    case "text":
      return textPort(model, protocol, target, prompt, settings);
  }
}

export { simPort, simScore } from "./sim.ts";
export { tokenPort } from "./tokens.ts";
export { textPort } from "./text.ts";
