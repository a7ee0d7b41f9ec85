// The settings a text-level backend (echo, top-k scoring) can honour: its declared capabilities, checked by the loop.
import type { Capabilities } from "../backends/types.ts";
import type { ProtocolName } from "../types.ts";
import { checkCapabilities } from "./capabilities.ts";
import type { RunSettings } from "./settings.ts";

/** What echo and top-k scoring declare (backends/remote/text.ts), less the scoring exactness that differs between them. */
const TEXT: Capabilities = { scoring: "bounded", generation: false, protocols: ["sequential", "independent"], parallel: Infinity, logitBias: false, samplerTruncation: false, temperatures: "unit" };

/** Throws the user-facing error for a setting a text-level backend cannot honour. */
export function checkTextSettings(protocol: ProtocolName, settings: Pick<RunSettings, "temperature" | "sampler">): void {
  checkCapabilities(TEXT, protocol, settings);
}
