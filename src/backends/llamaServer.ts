// llama.cpp's llama-server, `--scoring tokens`: the native /completion endpoint with the prompt as token ids and
// n_probs = vocabulary size gives the full next-token distribution, so this is a TokenBackend and the exact trie
// scorer (scoring/score.ts) runs unchanged, as on the embedded engine (docs/backends.md, "tokens"). With --n-probs N
// only the top N come back (a far smaller answer); the scorer bounds what the unlisted tokens could hold.
import { RunError } from "../errors.ts";
import { scanNativeProbs } from "./remote/fullVocab.ts";
import type { RemoteClient } from "./remote/http.ts";
import { parseNative, parseNativeProbs, parseTemplate, parseTokenize } from "./remote/shapes.ts";
import type { Capabilities, EngineStats, PromptParts, TokenBackend, TokenDistribution, Vocabulary } from "./types.ts";
import { buildVocabulary } from "./vocab.ts";

/** llama-server's /completion with n_probs = vocabulary size: the whole next-token distribution, by token id. */
/** What to do when the server says it does not support a request of this path. */
const UNSUPPORTED_HINT = "--scoring tokens needs llama.cpp's llama-server (/completion with n_probs, /tokenize, and /apply-template with --chat): update it, or use --scoring top-k";

export class LlamaServerBackend implements TokenBackend {
  readonly kind = "tokens" as const;
  readonly parallel = true;
  /**
   * The embedded engine's exact token path, served remotely: every run at once (the HTTP client limits), no free
   * generation (so no batch protocol). With --n-probs the scorer checks temperature, bias and truncations per answer.
   */
  readonly capabilities: Capabilities = { scoring: "exact", generation: false, protocols: ["sequential", "independent"], parallel: Infinity, logitBias: true, samplerTruncation: true, temperatures: "any" };
  readonly stats: EngineStats = { evaluated: 0, requests: 0 };
  readonly contextSize = Number.MAX_SAFE_INTEGER; // the server says when a context is too long (HTTP 400)

  private constructor(
    readonly name: string,
    private readonly client: RemoteClient,
    private readonly nVocab: number,
    readonly templated: boolean,
    readonly vocab: Vocabulary,
    /** Tokens listed per answer: the vocabulary size (exact), or --n-probs (the rest is reported as unknown by the scorer). */
    private readonly nProbs: number,
  ) {}

  static async open(name: string, client: RemoteClient, nVocab: number, chat: boolean, nProbs?: number): Promise<LlamaServerBackend> {
    // The token bytes are learned from one full-vocabulary answer: every id comes back with its `bytes`.
    const probe = await client.post(`${client.root}/tokenize`, { content: "\n", add_special: true, parse_special: true }, (j) => parseTokenize(j, client.server), { hint: UNSUPPORTED_HINT });
    const alts = await client.post(`${client.root}/completion`, nativeBody(probe.length ? probe : [0], nVocab), (j) => parseNative(j, client.server), { hint: UNSUPPORTED_HINT });
    const bytes: string[] = new Array<string>(nVocab).fill("");
    let seen = 0;
    for (const a of alts) {
      if (a.id === undefined) throw new RunError(`${client.server}/completion gives no token ids (an old llama-server?); update llama.cpp or use --scoring top-k`);
      if (a.id >= 0 && a.id < nVocab) {
        bytes[a.id] = a.bytes;
        seen++;
      }
    }
    if (seen < nVocab) throw new RunError(`${client.server}/completion listed ${seen} of ${nVocab} tokens for n_probs = ${nVocab}; start llama-server without a cap on n_probs, or use --scoring top-k`);
    return new LlamaServerBackend(name, client, nVocab, chat, buildVocabulary(bytes), Math.min(nProbs ?? nVocab, nVocab));
  }

  private readonly prepared = new Map<string, { text: string; tokens: number[] }>();

  /** Renders (server-side template with --chat) and tokenises the prompt on the server; encodePrompt reads the result. */
  async prepare(prompt: PromptParts): Promise<void> {
    const key = JSON.stringify([prompt.user, prompt.prefill]);
    if (this.prepared.has(key)) return;
    let text = `${prompt.user}\n${prompt.prefill}`;
    if (this.templated) {
      const rendered = await this.client.post(`${this.client.root}/apply-template`, { messages: [{ role: "user", content: prompt.user }] }, (j) => parseTemplate(j, this.client.server), { hint: UNSUPPORTED_HINT });
      text = rendered + prompt.prefill;
    }
    // Raw prompts get the model's BOS (add_special); a rendered template already writes its own special tokens.
    const tokens = await this.client.post(`${this.client.root}/tokenize`, { content: text, add_special: !this.templated, parse_special: this.templated }, (j) => parseTokenize(j, this.client.server), { hint: UNSUPPORTED_HINT });
    this.prepared.set(key, { text, tokens });
  }

  private get(prompt: PromptParts) {
    const got = this.prepared.get(JSON.stringify([prompt.user, prompt.prefill]));
    if (!got) throw new Error("llama-server backend: prepare(prompt) must be awaited before encodePrompt/renderPrompt");
    return got;
  }

  encodePrompt(prompt: PromptParts): number[] {
    return this.get(prompt).tokens;
  }

  renderPrompt(prompt: PromptParts): string {
    return this.get(prompt).text;
  }

  isEndOfGeneration(): boolean {
    return false; // not used: the batch protocol is refused for remote models
  }

  async next(context: readonly number[]): Promise<TokenDistribution> {
    this.stats.requests++;
    this.stats.evaluated += context.length;
    const probs = await this.client.post(`${this.client.root}/completion`, nativeBody([...context], this.nProbs), (j) => parseNativeProbs(j, this.client.server), { hint: UNSUPPORTED_HINT, fast: this.scan });
    return { probs, complete: probs.size >= this.nVocab };
  }

  /** The answer's bytes read directly (remote/fullVocab.ts): the Map parseNativeProbs would give, at a fraction of the cost. */
  private readonly scan = (bytes: Buffer) => scanNativeProbs(bytes, this.nVocab);

  describe(): Record<string, unknown> {
    return { server: this.client.server, scoring: "tokens", endpoint: "completion", n_probs: this.nProbs };
  }

  async reset(): Promise<void> {}
  async close(): Promise<void> {
    await this.client.drain();
    this.client.close();
  }
}

/** /completion request for the top `nProbs` of the next-token distribution after `tokens` (pre-sampling, temperature 1). */
function nativeBody(tokens: number[], nProbs: number) {
  return { prompt: tokens, n_predict: 1, n_probs: nProbs, post_sampling_probs: false, cache_prompt: true, temperature: 1 };
}

