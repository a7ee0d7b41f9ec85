// What the text-level server backends (echo.ts, topK.ts) share: the TextBackend surface around one RemoteClient.
// Each scoring method lives in its own file; this base only holds the prompt rendering, the settings recorded in the
// result and the shutdown, so the two stay identical in those respects.
import type { Capabilities, EngineStats, PromptParts, TextBackend, TextScored } from "../types.ts";
import type { RemoteClient } from "./http.ts";

export abstract class RemoteTextBackend implements TextBackend {
  readonly kind = "text" as const;
  readonly stats: EngineStats = { evaluated: 0, requests: 0 };
  readonly templated: boolean;
  abstract readonly scoring: "echo" | "top-k";
  /**
   * Text-level log-probabilities at temperature 1: no token ids (so no logit bias, no sampler truncation, no free
   * generation); every run at once (the HTTP client limits). Exact with echo, bounded with top-k.
   */
  get capabilities(): Capabilities {
    return { scoring: this.scoring === "echo" ? "exact" : "bounded", generation: false, protocols: ["sequential", "independent"], parallel: Infinity, logitBias: false, samplerTruncation: false, temperatures: "unit" };
  }

  constructor(
    readonly name: string,
    protected readonly model: string,
    protected readonly client: RemoteClient,
    /** Chat completions: the server applies the model's template. */
    protected readonly chat: boolean,
  ) {
    this.templated = chat;
  }

  describe(): Record<string, unknown> {
    return { server: this.client.server, scoring: this.scoring, endpoint: this.chat ? "chat/completions" : "completions" };
  }

  renderPrompt(prompt: PromptParts): string {
    if (this.chat) return `[user]\n${prompt.user}\n[assistant, continued]\n${prompt.prefill}`;
    return `${prompt.user}\n${prompt.prefill}`;
  }

  abstract score(prompt: PromptParts, written: string, texts: readonly string[], opts: { prune: number }): Promise<TextScored>;

  async close(): Promise<void> {
    await this.client.drain();
    this.client.close();
  }
}
