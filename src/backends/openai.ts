// openai:MODEL — OpenAI-compatible HTTP servers (vLLM, llama.cpp's llama-server, Ollama, OpenAI).
// Three ways to read P_token, chosen per server (docs/backends.md):
//   tokens  llama-server /completion with the prompt as token ids and n_probs = vocabulary size: the full next-token
//           distribution, so this is a TokenBackend and the exact trie scorer (scoring/score.ts) runs unchanged;
//   echo    completions with echo + logprobs (vLLM): each option text is scored as a continuation, exactly for the
//           server's tokenisation of it (lm-evaluation-harness style);
//   top-k   top_logprobs on chat or legacy completions (OpenAI, Ollama, anything else): options outside the top-k
//           are unknown and the unaccounted mass is reported per step as `unknown`.
import { InputError, RunError } from "../errors.ts";
import { RequestCache, defaultCacheDir } from "../store/cache.ts";
import { RemoteClient, displayUrl } from "./remote/http.ts";
import { parseEcho, parseFirstAlternatives, parseModels, parseNative, parseNativeProbs, parsePromptLogprobs, parseTemplate, parseTokenize, type Alternative } from "./remote/shapes.ts";
import type { EngineStats, PromptParts, TextBackend, TextScored, TokenBackend, TokenDistribution, Vocabulary } from "./types.ts";
import { buildVocabulary, fromBytes } from "./vocab.ts";
import { entropyBoundsTopK } from "../metrics/basic.ts";

export type ScoringMode = "auto" | "tokens" | "echo" | "top-k";

export interface OpenAIOptions {
  /** --base-url, else OPENAI_BASE_URL. */
  baseUrl?: string;
  /** Name of the environment variable holding the key (default OPENAI_API_KEY). */
  apiKeyEnv?: string;
  /** Use chat completions (the server applies the model's template). */
  chat?: boolean;
  scoring?: ScoringMode;
  /** k for top_logprobs (default 20 with --chat, 5 on legacy completions). */
  topLogprobs?: number;
  concurrency?: number;
  rpm?: number;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  /** false = --no-cache. */
  cache?: boolean;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Batch mode (see RemoteClient.collect): requests not in the cache are recorded here instead of sent. */
  collect?: Map<string, { url: string; body: unknown }>;
}

const SCORINGS: readonly ScoringMode[] = ["auto", "tokens", "echo", "top-k"];

export async function openOpenAIModel(spec: string, o: OpenAIOptions = {}): Promise<TokenBackend | TextBackend> {
  const env = o.env ?? process.env;
  const model = spec.slice("openai:".length);
  if (!model) throw new InputError(`openai: needs a model name, e.g. openai:Qwen/Qwen2.5-7B-Instruct`);
  const baseUrl = o.baseUrl || env.OPENAI_BASE_URL;
  if (!baseUrl) throw new InputError(`${spec} needs the server's URL: pass --base-url URL (e.g. http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL`);
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(baseUrl);
  } catch {
    throw new InputError(`--base-url ${displayUrl(baseUrl) === "(invalid URL)" ? "value" : displayUrl(baseUrl)} is not a valid URL; expected e.g. http://127.0.0.1:8000/v1`);
  }
  if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:") throw new InputError(`--base-url must start with http:// or https:// (got ${parsedUrl.protocol})`);
  const keyEnv = o.apiKeyEnv ?? "OPENAI_API_KEY";
  if (o.apiKeyEnv && !env[o.apiKeyEnv]) throw new InputError(`--api-key-env ${o.apiKeyEnv}: that environment variable is not set`);
  const apiKey = env[keyEnv] || undefined;
  const scoring = o.scoring ?? "auto";
  if (!SCORINGS.includes(scoring)) throw new InputError(`--scoring must be one of ${SCORINGS.join(", ")}`);
  const client = new RemoteClient({
    baseUrl,
    apiKey,
    model,
    concurrency: o.concurrency,
    rpm: o.rpm,
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    backoffMs: o.backoffMs,
    cache: o.cache === false ? null : new RequestCache(o.cacheDir ?? defaultCacheDir()),
    collect: o.collect,
  });
  if (o.collect && (scoring === "auto" || scoring === "tokens")) {
    throw new InputError(`batch mode needs --scoring echo (vLLM completions) or --scoring top-k: the Batch API has no endpoint for llama-server's /completion, and no server is contacted to choose`);
  }

  let mode = scoring;
  let nVocab: number | undefined;
  // vLLM continues a final assistant message only when asked (continue_final_message); OpenAI rejects that field.
  // In batch mode nothing is probed: the field is sent unless the batch is for api.openai.com (vllm run-batch takes it).
  let vllm = Boolean(o.collect) && parsedUrl.hostname !== "api.openai.com";
  if (mode === "auto" || mode === "tokens" || (mode === "top-k" && o.chat && !o.collect)) {
    // One uncached GET: it tells the server apart, gives llama-server's vocabulary size and checks the server is up.
    const models = parseModels(await client.get(`${client.base}/models`), client.server);
    nVocab = models.nVocab;
    vllm = models.owners.some((x) => x.toLowerCase() === "vllm");
    if (mode === "auto") {
      const owners = models.owners.map((x) => x.toLowerCase());
      if (nVocab || owners.includes("llamacpp")) mode = "tokens";
      else if (vllm) mode = "echo";
      else mode = "top-k";
    }
  }
  if (mode === "tokens") {
    if (!nVocab) throw new RunError(`${client.server}/models gives no vocabulary size (data[].meta.n_vocab); --scoring tokens needs llama.cpp's llama-server`);
    return LlamaServerBackend.open(spec, client, nVocab, Boolean(o.chat));
  }
  const k = o.topLogprobs ?? (o.chat ? 20 : 5);
  return new OpenAITextBackend(spec, model, client, mode, Boolean(o.chat), k, vllm);
}

/** llama-server's /completion with n_probs = vocabulary size: the whole next-token distribution, by token id. */
class LlamaServerBackend implements TokenBackend {
  readonly kind = "tokens" as const;
  readonly parallel = true;
  readonly stats: EngineStats = { evaluated: 0, requests: 0 };
  readonly contextSize = Number.MAX_SAFE_INTEGER; // the server says when a context is too long (HTTP 400)

  private constructor(
    readonly name: string,
    private readonly client: RemoteClient,
    private readonly nVocab: number,
    readonly templated: boolean,
    readonly vocab: Vocabulary,
  ) {}

  static async open(name: string, client: RemoteClient, nVocab: number, chat: boolean): Promise<LlamaServerBackend> {
    // The token bytes are learned from one full-vocabulary answer: every id comes back with its `bytes`.
    const probe = await client.post(`${client.root}/tokenize`, { content: "\n", add_special: true, parse_special: true }, (j) => parseTokenize(j, client.server));
    const alts = await client.post(`${client.root}/completion`, nativeBody(probe.length ? probe : [0], nVocab), (j) => parseNative(j, client.server));
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
    return new LlamaServerBackend(name, client, nVocab, chat, buildVocabulary(bytes));
  }

  private readonly prepared = new Map<string, { text: string; tokens: number[] }>();

  /** Renders (server-side template with --chat) and tokenises the prompt on the server; encodePrompt reads the result. */
  async prepare(prompt: PromptParts): Promise<void> {
    const key = JSON.stringify([prompt.user, prompt.prefill]);
    if (this.prepared.has(key)) return;
    let text = `${prompt.user}\n${prompt.prefill}`;
    if (this.templated) {
      const rendered = await this.client.post(`${this.client.root}/apply-template`, { messages: [{ role: "user", content: prompt.user }] }, (j) => parseTemplate(j, this.client.server));
      text = rendered + prompt.prefill;
    }
    // Raw prompts get the model's BOS (add_special); a rendered template already writes its own special tokens.
    const tokens = await this.client.post(`${this.client.root}/tokenize`, { content: text, add_special: !this.templated, parse_special: this.templated }, (j) => parseTokenize(j, this.client.server));
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
    const probs = await this.client.post(`${this.client.root}/completion`, nativeBody([...context], this.nVocab), (j) => parseNativeProbs(j, this.client.server));
    return { probs, complete: probs.size >= this.nVocab };
  }

  describe(): Record<string, unknown> {
    return { server: this.client.server, scoring: "tokens", endpoint: "completion", n_probs: this.nVocab };
  }

  async reset(): Promise<void> {}
  async close(): Promise<void> {
    await this.client.drain();
    this.client.close();
  }
}

/** /completion request for the full next-token distribution after `tokens` (pre-sampling probabilities, temperature 1). */
function nativeBody(tokens: number[], nVocab: number) {
  return { prompt: tokens, n_predict: 1, n_probs: nVocab, post_sampling_probs: false, cache_prompt: true, temperature: 1 };
}

/** Code points, the unit of vLLM's text_offset (Python string indices). */
const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

class OpenAITextBackend implements TextBackend {
  readonly kind = "text" as const;
  readonly stats: EngineStats = { evaluated: 0, requests: 0 };
  readonly templated: boolean;

  constructor(
    readonly name: string,
    private readonly model: string,
    private readonly client: RemoteClient,
    readonly scoring: "echo" | "top-k",
    private readonly chat: boolean,
    private readonly k: number,
    /** vLLM continues a final assistant message only when asked to (continue_final_message). */
    private readonly vllm = false,
  ) {
    this.templated = chat;
  }

  describe(): Record<string, unknown> {
    return {
      server: this.client.server,
      scoring: this.scoring,
      endpoint: this.chat ? "chat/completions" : "completions",
      ...(this.scoring === "top-k" ? { top_logprobs: this.k } : {}),
    };
  }

  renderPrompt(prompt: PromptParts): string {
    if (this.chat) return `[user]\n${prompt.user}\n[assistant, continued]\n${prompt.prefill}`;
    return `${prompt.user}\n${prompt.prefill}`;
  }

  async score(prompt: PromptParts, written: string, texts: readonly string[], opts: { prune: number }): Promise<TextScored> {
    return this.scoring === "echo" ? this.scoreEcho(prompt, written, texts) : this.scoreTopK(prompt, written, texts, opts.prune);
  }

  /**
   * --chat on vLLM: the option ends a final assistant message that the server continues (template applied by the
   * server); `prompt_logprobs: 0` gives each prompt token's log-probability and text, and the option's tokens are the
   * trailing ones whose texts add up to the option exactly.
   */
  private async scoreChatEcho(prompt: PromptParts, written: string, texts: readonly string[]): Promise<TextScored> {
    const context = `${prompt.prefill}${fromBytes(written)}`;
    const raw = await Promise.all(
      texts.map(async (bytes) => {
        const option = fromBytes(bytes);
        this.stats.requests++;
        const body = {
          model: this.model,
          messages: [{ role: "user", content: prompt.user }, { role: "assistant", content: context + option }],
          max_tokens: 1,
          temperature: 0,
          prompt_logprobs: 0,
          continue_final_message: true,
          add_generation_prompt: false,
        };
        const tokens = await this.client.post(`${this.client.base}/chat/completions`, body, (j) => parsePromptLogprobs(j, this.client.server));
        const want = codePoints(option);
        let have = 0;
        let sum = 0;
        for (let i = tokens.length - 1; i >= 0 && have < want; i--) {
          const t = tokens[i]!;
          if (t.logprob === null) break;
          sum += t.logprob;
          have += codePoints(t.text);
        }
        if (have !== want) {
          throw new RunError(`${this.client.server}'s last prompt tokens do not end exactly at the start of the answer ${JSON.stringify(option.trim())} (the template or tokenisation merges it with the context); use --scoring top-k`);
        }
        return Math.exp(sum);
      }),
    );
    const total = raw.reduce((a, b) => a + b, 0);
    return { raw, leak: Math.max(0, 1 - total), unknown: 0, outside: [] };
  }

  /** Each option as a continuation: prompt = context + option, echo: true; sum the log-probs of the option's tokens. */
  private async scoreEcho(prompt: PromptParts, written: string, texts: readonly string[]): Promise<TextScored> {
    if (this.chat) return this.scoreChatEcho(prompt, written, texts);
    const context = `${prompt.user}\n${prompt.prefill}${fromBytes(written)}`;
    const start = codePoints(context);
    const url = `${this.client.base}/completions`;
    const raw = await Promise.all(
      texts.map(async (bytes) => {
        const option = fromBytes(bytes);
        const end = start + codePoints(option);
        this.stats.requests++;
        const echo = await this.client.post(url, { model: this.model, prompt: context + option, max_tokens: 1, echo: true, logprobs: 1, temperature: 0 }, (j) => parseEcho(j, this.client.server));
        let sum = 0;
        let counted = 0;
        for (let i = 0; i < echo.offsets.length; i++) {
          const from = echo.offsets[i]!;
          const to = echo.offsets[i + 1] ?? Infinity;
          if (from >= end) break; // the generated token (and anything after the option)
          if (to <= start) continue; // context
          if (from < start) {
            throw new RunError(`${this.client.server} tokenises the context and the answer ${JSON.stringify(option.trim())} together across their boundary (token ${JSON.stringify(echo.tokens[i])}); echo scoring needs a token boundary there: use --scoring top-k or a prompt that ends with a space-free prefill`);
          }
          const lp = echo.logprobs[i];
          if (lp === null || lp === undefined) throw new RunError(`${this.client.server} gave no log-probability for a token of the answer ${JSON.stringify(option.trim())}`);
          sum += lp;
          counted++;
        }
        if (counted === 0) throw new RunError(`${this.client.server} echoed no token for the answer ${JSON.stringify(option.trim())}; the server does not echo the prompt as expected`);
        return Math.exp(sum);
      }),
    );
    const total = raw.reduce((a, b) => a + b, 0);
    return { raw, leak: Math.max(0, 1 - total), unknown: 0, outside: [] };
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
      return this.client.post(`${this.client.base}/chat/completions`, body, (j) => parseFirstAlternatives(j, this.client.server));
    }
    const body = { model: this.model, prompt: `${prompt.user}\n${prompt.prefill}${text}`, max_tokens: 1, logprobs: this.k, temperature: 0 };
    return this.client.post(`${this.client.base}/completions`, body, (j) => parseFirstAlternatives(j, this.client.server));
  }

  async close(): Promise<void> {
    await this.client.drain();
    this.client.close();
  }
}
