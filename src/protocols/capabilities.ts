// Which run settings a model can honour, from its declared capabilities alone. The messages are the CLI's contract
// (tests check them word for word); the order of the checks is the order users met them before the loop was one.
import type { Capabilities } from "../backends/types.ts";
import { InputError } from "../errors.ts";
import { truncates } from "../scoring/sampler.ts";
import type { ProtocolName } from "../types.ts";
import type { RunSettings } from "./settings.ts";

/** Throws the user-facing InputError for the first setting the capabilities rule out. */
export function checkCapabilities(caps: Capabilities, protocol: ProtocolName, settings: Pick<RunSettings, "temperature" | "sampler" | "logitBias">): void {
  if (settings.logitBias && !caps.logitBias) throw new InputError("--logit-bias needs per-token scoring (embedded engine, sim, or an openai: server with token log-probabilities); this server scores text");
  if (truncates(settings.sampler) && !caps.samplerTruncation) throw new InputError("--top-k, --top-p and --min-p need the full next-token distribution, which echo and top-k scoring do not give; use llama-server's exact token path (--scoring tokens) or the embedded engine");
  if (!caps.protocols.includes(protocol)) {
    if (protocol === "batch") throw new InputError(`the batch protocol needs free generation token by token; with openai: models use --protocol sequential or independent`);
    throw new InputError(`this model cannot run the ${protocol} protocol; use --protocol ${caps.protocols.join(" or ")}`);
  }
  if (caps.temperatures === "unit" && settings.temperature !== 1 && settings.temperature !== 0) {
    throw new InputError(`echo and top-k scoring read the server's log-probabilities at temperature 1, so --temperature must be 1 (or 0, greedy) with this server; llama-server's exact token path (--scoring tokens) takes any temperature`);
  }
  if (settings.logitBias && protocol === "batch" && caps.generation) throw new InputError("--logit-bias applies to the scored protocols (sequential, independent), not to batch free generation");
}
