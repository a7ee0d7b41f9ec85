// The response shapes OpenAI-compatible servers really return, validated with zod and reduced to two forms:
// the alternatives at the first generated position (top-k or the full vocabulary), and echoed prompt log-probabilities.
// Token text is kept as bytes (latin1 "binary strings") using the server's `bytes` arrays wherever it gives them.
import { z } from "zod";
import { RunError } from "../../errors.ts";
import { toBytes } from "../vocab.ts";
import { checkDistribution, TOLERANCE } from "./distributionCheck.ts";

/** One alternative for the next token: its bytes, its log-probability (temperature 1), its id when the server gives it. */
export interface Alternative {
  bytes: string;
  logprob: number;
  id?: number;
}

/** Echoed prompt tokens (vLLM `echo: true`): character offset into the prompt, log-probability (null for the first). */
export interface EchoTokens {
  tokens: string[];
  offsets: number[];
  logprobs: (number | null)[];
}

const finite = z.number().refine(Number.isFinite, "must be a finite number");
// Log-probabilities: finite, or -Infinity written as a very negative number or null by some servers.
const logprob = z.union([z.number(), z.null()]).transform((v) => (v === null || Number.isNaN(v) ? -Infinity : v));
const byteArray = z.array(z.number().int().min(0).max(255));

const ChatTop = z.object({ token: z.string(), logprob, bytes: byteArray.nullish(), id: z.number().int().optional() });
const ChatContent = z.object({ token: z.string().optional(), logprob: logprob.optional(), bytes: byteArray.nullish(), top_logprobs: z.array(ChatTop) });

/** chat completions (OpenAI, vLLM, Ollama, llama-server) and llama-server's /v1/completions: logprobs.content[]. */
const ContentLogprobs = z.object({ content: z.array(ChatContent).min(1, "logprobs.content is empty") });
/** OpenAI legacy completions (and vLLM): parallel arrays; top_logprobs is a list of {token: logprob} dicts. */
const LegacyLogprobs = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.union([z.number(), z.null()])),
  top_logprobs: z.array(z.union([z.record(z.string(), z.number()), z.null()])).nullish(),
  text_offset: z.array(z.number().int()).optional(),
});

const Choice = z.object({ logprobs: z.union([ContentLogprobs, LegacyLogprobs]).nullish() });
const ChoicesBody = z.object({ choices: z.array(Choice).min(1, "no choices") });

/** llama-server /completion: completion_probabilities[] in the current shape (top_logprobs / top_probs) or the old one (probs). */
const NativeTop = z.object({ id: z.number().int(), token: z.string().optional(), bytes: byteArray.nullish(), logprob });
const NativeTopProb = z.object({ id: z.number().int(), token: z.string().optional(), bytes: byteArray.nullish(), prob: finite });
const OldProb = z.object({ tok_str: z.string(), prob: finite });
const NativePosition = z.union([
  z.object({ top_logprobs: z.array(NativeTop) }),
  z.object({ top_probs: z.array(NativeTopProb) }),
  z.object({ probs: z.array(OldProb) }),
]);
const NativeBody = z.object({ completion_probabilities: z.array(NativePosition).min(1, "completion_probabilities is empty") });

function fail(server: string, what: string, error: z.ZodError): never {
  const issue = error.issues[0];
  const where = issue && issue.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new RunError(`${server} returned a ${what} response ptalign cannot read (${issue?.message ?? "invalid"}${where}); check that the server supports log-probabilities on this endpoint`);
}

/**
 * OpenAI writes tokens that are not valid UTF-8 on their own as "bytes:\xe2\x80"; servers that give `bytes` arrays
 * are exact, otherwise the token text is taken as UTF-8.
 */
export function tokenBytes(token: string, bytes?: readonly number[] | null): string {
  if (bytes && bytes.length > 0) return String.fromCharCode(...bytes);
  if (token.startsWith("bytes:")) {
    const hex = [...token.slice(6).matchAll(/\\x([0-9a-fA-F]{2})/g)];
    if (hex.length > 0) return hex.map((m) => String.fromCharCode(parseInt(m[1]!, 16))).join("");
  }
  return toBytes(token);
}

/** The alternatives for the first generated token, from any completions or chat response (top-k, possibly truncated). */
export function parseFirstAlternatives(json: unknown, server: string): Alternative[] {
  return checked(server, firstAlternatives(json, server));
}

/** Alternatives that are checked to be part of a distribution (distributionCheck.ts). */
function checked(server: string, alts: Alternative[]): Alternative[] {
  checkDistribution(server, alts.map((a) => ({ key: a.id ?? a.bytes, logprob: a.logprob, shown: Buffer.from(a.bytes, "latin1").toString("utf8") })));
  return alts;
}

function firstAlternatives(json: unknown, server: string): Alternative[] {
  const parsed = ChoicesBody.safeParse(json);
  if (!parsed.success) fail(server, "completions", parsed.error);
  const lp = parsed.data.choices[0]!.logprobs;
  if (!lp) throw new RunError(`${server} returned no logprobs; the server or model does not support log-probabilities on this endpoint (try another --scoring mode or endpoint)`);
  if ("content" in lp) return lp.content[0]!.top_logprobs.map((t) => ({ bytes: tokenBytes(t.token, t.bytes), logprob: t.logprob, ...(t.id !== undefined ? { id: t.id } : {}) }));
  // Legacy arrays: the first generated position (requests for top-k never echo the prompt).
  const tops = lp.top_logprobs ?? [];
  const first = tops[0] ?? null;
  if (!first) throw new RunError(`${server} returned no top_logprobs; pass logprobs > 0 (the server may cap it)`);
  return Object.entries(first).map(([token, l]) => ({ bytes: tokenBytes(token), logprob: l }));
}

/** llama-server /completion: alternatives for the first generated token (ids and bytes in the current shape). */
export function parseNative(json: unknown, server: string): Alternative[] {
  return checked(server, nativeAlternatives(json, server));
}

function nativeAlternatives(json: unknown, server: string): Alternative[] {
  const parsed = NativeBody.safeParse(json);
  if (!parsed.success) fail(server, "/completion", parsed.error);
  const pos = parsed.data.completion_probabilities[0]!;
  if ("top_logprobs" in pos) return pos.top_logprobs.map((t) => ({ id: t.id, bytes: tokenBytes(t.token ?? "", t.bytes), logprob: t.logprob }));
  if ("top_probs" in pos) return pos.top_probs.map((t) => ({ id: t.id, bytes: tokenBytes(t.token ?? "", t.bytes), logprob: Math.log(t.prob) }));
  return pos.probs.map((t) => ({ bytes: toBytes(t.tok_str), logprob: Math.log(t.prob) }));
}

/**
 * llama-server /completion, fast path for the full-vocabulary answers of the token path (150k entries: the zod
 * schema and the bytes cost ~4x JSON.parse there): next-token probabilities by id, checked by hand. Anything not
 * in the current shape goes through parseNative, which validates it properly or says what is wrong.
 */
export function parseNativeProbs(json: unknown, server: string): Map<number, number> {
  const positions = (json as { completion_probabilities?: unknown } | null)?.completion_probabilities;
  const first = Array.isArray(positions) ? (positions[0] as { top_logprobs?: unknown } | undefined) : undefined;
  const list = first?.top_logprobs;
  if (Array.isArray(list)) {
    const probs = new Map<number, number>();
    let ok = true;
    for (const e of list as { id?: unknown; logprob?: unknown }[]) {
      const id = e?.id;
      const lp = e?.logprob;
      if (typeof id !== "number" || !Number.isInteger(id) || (typeof lp !== "number" && lp !== null)) {
        ok = false;
        break;
      }
      probs.set(id, lp === null ? 0 : Math.exp(lp));
    }
    // Anything impossible (a duplicate id, a probability above 1) goes through parseNative, which names it.
    if (ok && probs.size === list.length && plausible(probs.values())) return probs;
  }
  const alts = parseNative(json, server);
  if (alts.some((a) => a.id === undefined)) throw new RunError(`${server}/completion gives no token ids (an old llama-server?); update llama.cpp or use --scoring top-k`);
  return new Map(alts.map((a) => [a.id!, Math.exp(a.logprob)]));
}

/** vLLM completions with `echo: true`: the prompt's tokens, their character offsets and log-probabilities. */
export function parseEcho(json: unknown, server: string): EchoTokens {
  const parsed = ChoicesBody.safeParse(json);
  if (!parsed.success) fail(server, "completions", parsed.error);
  const lp = parsed.data.choices[0]!.logprobs;
  if (!lp || !("tokens" in lp) || !lp.text_offset) {
    throw new RunError(`${server} did not echo the prompt's log-probabilities (no logprobs.text_offset); this server does not support echo scoring: use --scoring top-k`);
  }
  const n = lp.tokens.length;
  if (lp.token_logprobs.length !== n || lp.text_offset.length !== n) {
    throw new RunError(`${server} returned logprobs arrays of different lengths (tokens ${n}, token_logprobs ${lp.token_logprobs.length}, text_offset ${lp.text_offset.length})`);
  }
  return { tokens: lp.tokens, offsets: lp.text_offset, logprobs: lp.token_logprobs };
}

/** GET /models: ids, owners and (llama-server) the vocabulary size. */
const ModelsBody = z.object({
  data: z.array(z.object({ id: z.string(), owned_by: z.string().optional(), meta: z.object({ n_vocab: z.number().int().positive() }).passthrough().nullish() }).passthrough()),
});
export interface ServerModels {
  ids: string[];
  owners: string[];
  nVocab?: number;
}
export function parseModels(json: unknown, server: string): ServerModels {
  const parsed = ModelsBody.safeParse(json);
  if (!parsed.success) fail(server, "/models", parsed.error);
  const data = parsed.data.data;
  const nVocab = data.find((d) => d.meta?.n_vocab)?.meta?.n_vocab;
  return { ids: data.map((d) => d.id), owners: data.map((d) => d.owned_by ?? ""), ...(nVocab ? { nVocab } : {}) };
}

const TokenizeBody = z.object({ tokens: z.array(z.union([z.number().int(), z.object({ id: z.number().int() }).passthrough()])) });
export function parseTokenize(json: unknown, server: string): number[] {
  const parsed = TokenizeBody.safeParse(json);
  if (!parsed.success) fail(server, "/tokenize", parsed.error);
  return parsed.data.tokens.map((t) => (typeof t === "number" ? t : t.id));
}

const TemplateBody = z.object({ prompt: z.string() });
export function parseTemplate(json: unknown, server: string): string {
  const parsed = TemplateBody.safeParse(json);
  if (!parsed.success) fail(server, "/apply-template", parsed.error);
  return parsed.data.prompt;
}

/**
 * vLLM chat completions with `prompt_logprobs`: per prompt token a dict {token_id: {logprob, rank, decoded_token}}
 * (null for the first). With prompt_logprobs = 0 each dict holds the prompt token alone.
 */
const PromptLogprobsBody = z.object({
  prompt_logprobs: z.array(z.union([z.null(), z.record(z.string(), z.object({ logprob, rank: z.number().nullish(), decoded_token: z.string().nullish() }))])),
});
export interface PromptToken {
  text: string;
  logprob: number | null;
}
export function parsePromptLogprobs(json: unknown, server: string): PromptToken[] {
  const parsed = PromptLogprobsBody.safeParse(json);
  if (!parsed.success) {
    const top = json && typeof json === "object" && !("prompt_logprobs" in json);
    if (top) throw new RunError(`${server} returned no prompt_logprobs; exact --chat scoring needs vLLM (use --scoring top-k elsewhere)`);
    fail(server, "chat completions", parsed.error);
  }
  return parsed.data.prompt_logprobs.map((d, i) => {
    if (d === null) return { text: "", logprob: null };
    const entries = Object.values(d);
    if (entries.length !== 1) throw new RunError(`${server} returned ${entries.length} prompt_logprobs entries at prompt token ${i} (expected the prompt token alone, with prompt_logprobs: 0)`);
    return { text: entries[0]!.decoded_token ?? "", logprob: entries[0]!.logprob };
  });
}

/** Whether probabilities can be the visible part of a distribution (cheap check of the fast paths). */
export function plausible(probs: Iterable<number>): boolean {
  let mass = 0;
  for (const p of probs) {
    if (!(p <= 1 + TOLERANCE)) return false; // NaN too
    mass += p;
  }
  return mass <= 1 + TOLERANCE;
}
