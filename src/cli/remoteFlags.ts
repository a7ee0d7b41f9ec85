// Flags of openai: models (docs/backends.md), shared by every command that opens a model.
import { Option, type Command } from "commander";
import type { OpenAIOptions, ScoringMode } from "../backends/openai.ts";
import { buildConfig, modelOptionsOf } from "../config/build.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { SCORING_MODES, type RemoteInput } from "../config/schema.ts";
import { realNumber, wholeNumber } from "./common.ts";

export interface RemoteFlags {
  /** --base-url, several times for a pool of servers (the first names the measurement). */
  baseUrl?: string[];
  serverConcurrency?: number;
  apiKeyEnv?: string;
  chat?: boolean;
  scoring: ScoringMode;
  topLogprobs?: number;
  nProbs?: number;
  concurrency: number;
  rpm?: number;
  timeout: number;
  retries: number;
  cache: boolean;
  cacheDir?: string;
}

const GROUP = "openai: models (docs/backends.md):";

/** Adds the remote flags under their own heading in --help. */
export function addRemoteOptions(cmd: Command): Command {
  const opts = [
    new Option("--base-url <url>", "the server's OpenAI-compatible URL, e.g. http://127.0.0.1:8000/v1 (default $OPENAI_BASE_URL); again for more servers of the same model: requests are spread over them, with failover (docs/scale.md)").argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    new Option("--api-key-env <name>", "environment variable holding the API key (default OPENAI_API_KEY; keys are never taken from flags)"),
    new Option("--chat", "use chat completions (the server applies the model's chat template)"),
    new Option("--scoring <mode>", "how P_token is read: tokens (llama-server), echo (vLLM), top-k (others); auto asks GET /models").choices(SCORING_MODES).default(DEFAULTS.remote.scoring),
    new Option("--top-logprobs <k>", "k for top-k scoring (default 20 with --chat, 5 otherwise)").argParser(wholeNumber("--top-logprobs", 1)),
    new Option("--n-probs <n>", "--scoring tokens: ask llama-server for the top n tokens only (fast; the rest is reported as unknown, the verdict turns uncertain when it could matter)").argParser(wholeNumber("--n-probs", 1)),
    new Option("--concurrency <n>", "requests in flight at once").argParser(wholeNumber("--concurrency", 1)).default(DEFAULTS.remote.concurrency),
    new Option("--server-concurrency <n>", "requests in flight on one server at most, with several --base-url (default: --concurrency; e.g. 3 servers × 8: --concurrency 24 --server-concurrency 8)").argParser(wholeNumber("--server-concurrency", 1)),
    new Option("--rpm <n>", "at most this many requests per minute").argParser(realNumber("--rpm", 1e-6)),
    new Option("--timeout <seconds>", "per-request timeout").argParser(realNumber("--timeout", 0.001)).default(DEFAULTS.remote.timeout),
    new Option("--retries <n>", "retries of a request on 429, 408, 5xx (not when the server says it is unsupported), timeouts and connection resets").argParser(wholeNumber("--retries", 0)).default(DEFAULTS.remote.retries),
    new Option("--no-cache", "do not read or write the request cache"),
    new Option("--cache-dir <dir>", "request cache directory (default $PTALIGN_CACHE_DIR or ~/.cache/ptalign/requests)"),
  ];
  for (const o of opts) cmd.addOption(o.helpGroup(GROUP));
  return cmd;
}

/** The remote part of a measurement's configuration (config/schema.ts), as the flags give it. */
export function remoteInput(flags: Partial<RemoteFlags>): RemoteInput {
  return {
    baseUrl: flags.baseUrl?.[0],
    ...(flags.baseUrl && flags.baseUrl.length > 1 ? { replicas: flags.baseUrl.slice(1) } : {}),
    serverConcurrency: flags.serverConcurrency,
    apiKeyEnv: flags.apiKeyEnv,
    chat: flags.chat,
    scoring: flags.scoring,
    topLogprobs: flags.topLogprobs,
    nProbs: flags.nProbs,
    concurrency: flags.concurrency,
    rpm: flags.rpm,
    timeout: flags.timeout,
    retries: flags.retries,
    cache: flags.cache,
    cacheDir: flags.cacheDir,
  };
}

/** The openai backend's options of the flags (commands that open a remote model without a measurement: batch). */
export function remoteOptions(flags: RemoteFlags): OpenAIOptions {
  return modelOptionsOf(buildConfig({ remote: remoteInput(flags) })).remote ?? {};
}
