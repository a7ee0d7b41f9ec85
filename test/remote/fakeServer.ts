// A loopback OpenAI-compatible server for the tests: one small model with a known next-token table, answered in the
// shapes vLLM, llama-server, Ollama and OpenAI really use (docs/backends.md), with faults that tests switch on.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** id → text. 15 stands for the whole instruction before "Samples:" (the tests never score inside it). */
export const VOCAB: string[] = ["<s>", "Samples:", ",", " ", "1", "2", "3", "4", " 1", " 2", " 3", " é", "x", "0", "\n", "<prompt>"];
const START: Record<number, number> = { 8: 0.4, 9: 0.3, 3: 0.1, 12: 0.09, 10: 0.06, 11: 0.05 };
/** Next-token table by the last token id (start row after "Samples:" and ","). */
export const ROWS: Record<number, Record<number, number>> = {
  1: START,
  2: START,
  8: { 2: 0.8, 13: 0.2 },
  9: { 2: 1 },
  10: { 2: 1 },
  3: { 4: 0.5, 7: 0.5 },
  4: { 2: 1 },
  7: { 2: 1 },
  11: { 2: 1 },
  13: { 2: 1 },
  12: { 2: 1 },
};
const row = (last: number) => ROWS[last] ?? START;

/** Exact P over " 1,", " 2,", " 3,", " 4," after "Samples:" (chain rule over every tokenisation) and the leak. */
export const EXACT = { raw: [0.37, 0.3, 0.06, 0.05], leak: 0.22 };

export type Flavor = "vllm" | "llamacpp" | "ollama" | "openai";

export interface LoggedRequest {
  method: string;
  path: string;
  hash: string;
  body: string;
  answered: boolean;
}

/** Return true when the fault handled (or swallowed) the request. */
export type Fault = (n: number, req: IncomingMessage, res: ServerResponse, body: string) => boolean;

export interface FakeServer {
  url: string;
  log: LoggedRequest[];
  fault?: Fault;
  /** Delay before each answer, in ms. */
  delayMs: number;
  flavor: Flavor;
  close(): Promise<void>;
}

/** Greedy longest-match tokenisation of the text after the instruction; the instruction is one token, 15. */
export function tokenizeText(text: string): { id: number; text: string }[] {
  const at = text.indexOf("Samples:");
  const out: { id: number; text: string }[] = [];
  let rest = text;
  if (at >= 0) {
    if (at > 0) out.push({ id: 15, text: text.slice(0, at) });
    out.push({ id: 1, text: "Samples:" });
    rest = text.slice(at + "Samples:".length);
  }
  while (rest.length > 0) {
    let best = -1;
    for (let id = 1; id < VOCAB.length - 1; id++) if (rest.startsWith(VOCAB[id]!) && (best < 0 || VOCAB[id]!.length > VOCAB[best]!.length)) best = id;
    if (best < 0) {
      out.push({ id: 15, text: rest[0]! });
      rest = rest.slice(1);
    } else {
      out.push({ id: best, text: VOCAB[best]! });
      rest = rest.slice(VOCAB[best]!.length);
    }
  }
  return out;
}

const bytesOf = (s: string) => [...Buffer.from(s, "utf8")];
const sorted = (r: Record<number, number>) => Object.entries(r).map(([id, p]) => ({ id: Number(id), p })).sort((a, b) => b.p - a.p || a.id - b.id);

export async function startFakeServer(flavor: Flavor = "vllm", opts: { delayMs?: number; apiKey?: string } = {}): Promise<FakeServer> {
  const log: LoggedRequest[] = [];
  let n = 0;
  const state: FakeServer = { url: "", log, delayMs: opts.delayMs ?? 0, flavor, close: async () => {} };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const entry: LoggedRequest = { method: req.method ?? "", path: req.url ?? "", hash: createHash("sha256").update(`${req.method} ${req.url} ${body}`).digest("hex").slice(0, 16), body, answered: false };
      log.push(entry);
      const index = n++;
      if (state.fault?.(index, req, res, body)) return;
      const send = (status: number, json: unknown) => {
        const data = JSON.stringify(json);
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
          res.end(data, () => (entry.answered = true));
        }, state.delayMs);
      };
      if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        send(401, { error: { message: `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}` } });
        return;
      }
      try {
        send(200, answer(state.flavor, req.method ?? "GET", (req.url ?? "").replace(/^\/v1/, ""), body ? JSON.parse(body) : {}));
      } catch (err) {
        if (err instanceof Refusal) send(err.status, err.body);
        else send(400, { error: { message: String(err) } });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

/** An error answer in a server's own shape and status. */
class Refusal extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`HTTP ${status}`);
  }
}

function answer(flavor: Flavor, method: string, path: string, body: Record<string, unknown>): unknown {
  if (method === "GET" && path === "/models") {
    const owned = { vllm: "vllm", llamacpp: "llamacpp", ollama: "library", openai: "system" }[flavor];
    return { object: "list", data: [{ id: "m", object: "model", owned_by: owned, ...(flavor === "llamacpp" ? { meta: { n_vocab: VOCAB.length, n_ctx_train: 4096 } } : {}) }] };
  }
  if (path === "/tokenize") {
    const content = String(body.content);
    const toks = tokenizeText(content).map((t) => t.id);
    return { tokens: body.add_special ? [0, ...toks] : toks };
  }
  if (path === "/apply-template") {
    const messages = body.messages as { content: string }[];
    return { prompt: `<|user|>${messages[0]!.content}<|assistant|>` };
  }
  if (path === "/completion") {
    // llama-server native: prompt as token ids, n_probs alternatives with id, token, bytes, logprob.
    const ids = body.prompt as number[];
    const r = row(ids[ids.length - 1]!);
    const k = Number(body.n_probs);
    const all = Array.from({ length: VOCAB.length }, (_, id) => ({ id, p: r[id] ?? 0 })).sort((a, b) => b.p - a.p || a.id - b.id).slice(0, k);
    const top = all.map(({ id, p }) => ({ id, token: VOCAB[id], bytes: bytesOf(VOCAB[id]!), logprob: p > 0 ? Math.log(p) : -1e30 }));
    return { content: VOCAB[all[0]!.id], completion_probabilities: [{ id: all[0]!.id, token: VOCAB[all[0]!.id], bytes: bytesOf(VOCAB[all[0]!.id]!), logprob: top[0]!.logprob, top_logprobs: top }] };
  }
  if (path === "/chat/completions") {
    const messages = body.messages as { role: string; content: string }[];
    const assistant = messages.find((m) => m.role === "assistant")?.content ?? "";
    const toks = tokenizeText(assistant);
    const r = row(toks.length ? toks[toks.length - 1]!.id : 1);
    if (body.prompt_logprobs !== undefined) {
      // vLLM: the rendered prompt's tokens, each {id: {logprob, rank, decoded_token}}, the first null.
      if (flavor !== "vllm") throw new Error("prompt_logprobs is not supported");
      const all = tokenizeText(`<|user|>${messages[0]!.content}<|assistant|>${assistant}`);
      const prompt_logprobs = all.map((t, i) => (i === 0 ? null : { [String(t.id)]: { logprob: t.id === 1 || t.id === 15 ? -1 : Math.log(row(all[i - 1]!.id)[t.id] ?? 1e-30), rank: 1, decoded_token: t.text } }));
      return { id: "c", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "," }, finish_reason: "length" }], prompt_logprobs };
    }
    const top = sorted(r).slice(0, Number(body.top_logprobs ?? 0)).map(({ id, p }) => ({ token: VOCAB[id], logprob: Math.log(p), bytes: bytesOf(VOCAB[id]!) }));
    return { id: "c", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: top[0]?.token ?? "" }, logprobs: { content: [{ token: top[0]?.token, logprob: top[0]?.logprob, bytes: top[0]?.bytes, top_logprobs: top }] }, finish_reason: "length" }] };
  }
  if (path === "/completions") {
    const prompt = String(body.prompt);
    const toks = tokenizeText(prompt);
    const r = row(toks[toks.length - 1]!.id);
    const k = Number(body.logprobs ?? 0);
    const best = sorted(r)[0]!;
    if (body.echo) {
      // llama-server: its OpenAI-compat layer throws, and the server answers 500 in its own error shape.
      if (flavor === "llamacpp") throw new Refusal(500, { error: { code: 500, message: "Unsupported param: echo", type: "server_error" } });
      if (flavor !== "vllm") throw new Error("echo is not supported");
      // vLLM: the prompt's tokens, then the generated one; offsets in characters; the first logprob null.
      const tokens = [...toks.map((t) => t.text), VOCAB[best.id]!];
      const logps: (number | null)[] = toks.map((t, i) => (i === 0 ? null : t.id === 1 || t.id === 15 ? -1 : Math.log(row(toks[i - 1]!.id)[t.id] ?? 1e-30)));
      logps.push(Math.log(best.p));
      const offsets: number[] = [];
      let at = 0;
      for (const t of tokens) {
        offsets.push(at);
        at += [...t].length;
      }
      const tops = tokens.map((t, i) => (i === 0 ? null : { [t]: logps[i]! }));
      return { id: "x", object: "text_completion", choices: [{ index: 0, text: prompt + VOCAB[best.id], logprobs: { tokens, token_logprobs: logps, top_logprobs: tops, text_offset: offsets }, finish_reason: "length" }] };
    }
    const top = sorted(r).slice(0, k);
    if (flavor === "llamacpp") {
      // llama-server's /v1/completions: logprobs.content[] with id, token, bytes, logprob (chat-like).
      const entries = top.map(({ id, p }) => ({ id, token: VOCAB[id], bytes: bytesOf(VOCAB[id]!), logprob: Math.log(p) }));
      return { choices: [{ index: 0, text: VOCAB[best.id], logprobs: { content: [{ ...entries[0], top_logprobs: entries }] }, finish_reason: "length" }] };
    }
    // OpenAI legacy: parallel arrays, top_logprobs a list of {token: logprob} dicts.
    const dict = Object.fromEntries(top.map(({ id, p }) => [VOCAB[id], Math.log(p)]));
    return { id: "x", object: "text_completion", choices: [{ index: 0, text: VOCAB[best.id], logprobs: { tokens: [VOCAB[best.id]], token_logprobs: [Math.log(best.p)], top_logprobs: [dict], text_offset: [prompt.length] }, finish_reason: "length" }] };
  }
  throw new Error(`unknown endpoint ${method} ${path}`);
}
