// Top-k scoring, `--scoring top-k` (OpenAI, Ollama, any server with top_logprobs): a trie over the text the model
// writes, read through the top k alternatives per node; what the server does not show is reported per step as
// `unknown`, the bound the verdict is checked against (docs/backends.md, "top-k").
import { RemoteTextBackend } from "./remote/text.ts";
import type { RemoteClient } from "./remote/http.ts";
import { parseFirstAlternatives, type Alternative } from "./remote/shapes.ts";
import type { PromptParts, TextScored } from "./types.ts";
import { fromBytes } from "./vocab.ts";
import { entropyBoundsTopK } from "../metrics/basic.ts";

/** What to do when the server says it does not support log-probabilities on the endpoint used. */
const UNSUPPORTED_HINT = "top-k scoring needs top log-probabilities on this endpoint: try with or without --chat, a smaller --top-logprobs, or another server";

export class TopKBackend extends RemoteTextBackend {
  readonly scoring = "top-k" as const;

  constructor(
    name: string,
    model: string,
    client: RemoteClient,
    chat: boolean,
    /** k of top_logprobs. */
    private readonly k: number,
    /** vLLM continues a final assistant message only when asked to (continue_final_message). */
    private readonly vllm = false,
  ) {
    super(name, model, client, chat);
  }

  override describe(): Record<string, unknown> {
    return { ...super.describe(), top_logprobs: this.k };
  }

  async score(prompt: PromptParts, written: string, texts: readonly string[], opts: { prune: number }): Promise<TextScored> {
    return this.scoreTopK(prompt, written, texts, opts.prune);
  }

  /**
   * A trie over the text the model writes, read through top-k log-probabilities: each node asks for the next
   * token's top k after context + what the node wrote. Mass the server does not show at a node (1 − Σ top k) is
   * unknown; an option no visible path reaches is reported as outside the top-k.
   */
  private async scoreTopK(prompt: PromptParts, written: string, texts: readonly string[], prune: number): Promise<TextScored> {
    const raw = texts.map(() => 0);
    let unknown = 0;
    let level: { bytes: string; mass: number }[] = [{ bytes: "", mass: 1 }];
    let entropyBounds: [number, number | null] | undefined;
    while (level.length > 0) {
      const answers = await Promise.all(level.map((node) => this.topK(prompt, written + node.bytes)));
      // The root's top k are the visible part of the next-token distribution at the answer position.
      if (level[0]!.bytes === "" && answers[0]) entropyBounds ??= entropyBoundsTopK(answers[0].map((a) => Math.exp(a.logprob)));
      const next: { bytes: string; mass: number }[] = [];
      level.forEach((node, n) => {
        const alts = answers[n];
        if (!alts) {
          unknown += node.mass; // the text so far ends inside a UTF-8 character: it cannot be sent as a prompt
          return;
        }
        let shown = 0;
        for (const a of alts) {
          const p = Math.exp(a.logprob);
          if (!(p > 0)) continue;
          shown += p;
          const mass = node.mass * p;
          const w = node.bytes + a.bytes;
          const accepted = texts.findIndex((t) => w.startsWith(t));
          if (accepted >= 0) raw[accepted]! += mass;
          else if (a.bytes.length > 0 && texts.some((t) => t.length > w.length && t.startsWith(w))) {
            if (mass >= prune) next.push({ bytes: w, mass });
            else unknown += mass;
          }
        }
        unknown += node.mass * Math.max(0, 1 - shown);
      });
      level = next;
    }
    const total = raw.reduce((a, b) => a + b, 0);
    const outside = raw.flatMap((r, i) => (r === 0 ? [i] : []));
    return { raw, leak: Math.max(0, 1 - total - unknown), unknown: Math.min(1, unknown), outside, ...(entropyBounds ? { entropyBounds } : {}) };
  }

  private async topK(prompt: PromptParts, writtenBytes: string): Promise<Alternative[] | null> {
    const text = fromBytes(writtenBytes);
    if (Buffer.from(text, "utf8").toString("latin1") !== writtenBytes) return null;
    this.stats.requests++;
    if (this.chat) {
      const assistant = prompt.prefill + text;
      const messages = [{ role: "user", content: prompt.user }, ...(assistant ? [{ role: "assistant", content: assistant }] : [])];
      const body = {
        model: this.model,
        messages,
        max_tokens: 1,
        logprobs: true,
        top_logprobs: this.k,
        ...(this.vllm && assistant ? { continue_final_message: true, add_generation_prompt: false } : {}),
      };
      return this.client.post(`${this.client.base}/chat/completions`, body, (j) => parseFirstAlternatives(j, this.client.server), { hint: UNSUPPORTED_HINT });
    }
    const body = { model: this.model, prompt: `${prompt.user}\n${prompt.prefill}${text}`, max_tokens: 1, logprobs: this.k, temperature: 0 };
    return this.client.post(`${this.client.base}/completions`, body, (j) => parseFirstAlternatives(j, this.client.server), { hint: UNSUPPORTED_HINT });
  }
}
