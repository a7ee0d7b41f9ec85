// openai:MODEL — OpenAI-compatible HTTP servers (vLLM, llama.cpp's llama-server, Ollama, OpenAI): checks the options,
// asks the server what it is, and opens the backend of the scoring path chosen for it (docs/backends.md). One file
// per path, like inspect_ai's providers / lm-evaluation-harness's backends, behind the backend interface (types.ts):
//   tokens  llamaServer.ts  llama-server /completion with token ids and n_probs = vocabulary size (exact, by token id);
//   echo    echo.ts         completions with echo + logprobs, or vLLM's prompt_logprobs with --chat (exact for the
//                           server's tokenisation of each answer text);
//   top-k   topK.ts         top_logprobs on chat or legacy completions (OpenAI, Ollama, anything else; a bound).
// Transport (retries, cache, limits) and response shapes are shared: remote/http.ts, remote/shapes.ts, remote/text.ts.
import { InputError, RunError } from "../errors.ts";
import { RequestCache, defaultCacheDir } from "../store/cache.ts";
import { RemoteClient, displayUrl } from "./remote/http.ts";
import { parseModels } from "./remote/shapes.ts";
import type { TextBackend, TokenBackend } from "./types.ts";
import { LlamaServerBackend } from "./llamaServer.ts";
import { EchoBackend } from "./echo.ts";
import { TopKBackend } from "./topK.ts";

export type ScoringMode = "auto" | "tokens" | "echo" | "top-k";

export interface OpenAIOptions {
  /** --base-url, else OPENAI_BASE_URL. */
  baseUrl?: string;
  /** --base-url given again: replicas of the same model; requests are spread over all (remote/pool.ts). */
  replicas?: readonly string[];
  /** --server-concurrency: requests in flight on one server at most (default: concurrency). */
  serverConcurrency?: number;
  /** Name of the environment variable holding the key (default OPENAI_API_KEY). */
  apiKeyEnv?: string;
  /** Use chat completions (the server applies the model's template). */
  chat?: boolean;
  scoring?: ScoringMode;
  /** k for top_logprobs (default 20 with --chat, 5 on legacy completions). */
  topLogprobs?: number;
  /** --n-probs: llama-server lists only the top n tokens per request (default: the whole vocabulary, exact). */
  nProbs?: number;
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

function checkUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`--base-url ${displayUrl(url) === "(invalid URL)" ? "value" : displayUrl(url)} is not a valid URL; expected e.g. http://127.0.0.1:8000/v1`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new InputError(`--base-url must start with http:// or https:// (got ${parsed.protocol})`);
  return parsed;
}

export async function openOpenAIModel(spec: string, o: OpenAIOptions = {}): Promise<TokenBackend | TextBackend> {
  const env = o.env ?? process.env;
  const model = spec.slice("openai:".length);
  if (!model) throw new InputError(`openai: needs a model name, e.g. openai:Qwen/Qwen2.5-7B-Instruct`);
  const baseUrl = o.baseUrl || env.OPENAI_BASE_URL;
  if (!baseUrl) throw new InputError(`${spec} needs the server's URL: pass --base-url URL (e.g. http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL`);
  const parsedUrl = checkUrl(baseUrl);
  for (const replica of o.replicas ?? []) checkUrl(replica);
  if (o.replicas?.length && o.collect) throw new InputError(`batch mode contacts no server: give one --base-url (the Batch API's)`);
  const keyEnv = o.apiKeyEnv ?? "OPENAI_API_KEY";
  if (o.apiKeyEnv && !env[o.apiKeyEnv]) throw new InputError(`--api-key-env ${o.apiKeyEnv}: that environment variable is not set`);
  const apiKey = env[keyEnv] || undefined;
  if (o.nProbs !== undefined && !(Number.isInteger(o.nProbs) && o.nProbs >= 1)) throw new InputError(`--n-probs must be a whole number ≥ 1`);
  const scoring = o.scoring ?? "auto";
  if (!SCORINGS.includes(scoring)) throw new InputError(`--scoring must be one of ${SCORINGS.join(", ")}`);
  const client = new RemoteClient({
    baseUrl,
    replicas: o.replicas,
    serverConcurrency: o.serverConcurrency,
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
    return LlamaServerBackend.open(spec, client, nVocab, Boolean(o.chat), o.nProbs);
  }
  if (o.nProbs !== undefined) throw new InputError(`--n-probs applies to llama-server's token path (--scoring tokens), not to ${mode} scoring; for top-k scoring use --top-logprobs`);
  if (mode === "echo") return new EchoBackend(spec, model, client, Boolean(o.chat));
  return new TopKBackend(spec, model, client, Boolean(o.chat), o.topLogprobs ?? (o.chat ? 20 : 5), vllm);
}
