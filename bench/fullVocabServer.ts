// A loopback stand-in for llama-server's full-vocabulary answers, in its own process (bench/remote.ts): /v1/models
// with n_vocab, /tokenize, and /completion answering the top n_probs of a fixed realistic distribution over a
// vocabulary of the given size, in llama-server's shape (id, token, bytes, logprob; ~84 bytes a token). Bodies are
// serialised once per n_probs, so the time measured is transfer and client, not this server's JSON generation.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const nVocab = Number(process.argv[2] ?? 151936);

/** A deterministic LCG, so that every run serves the same bodies. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function entries(): { id: number; token: string; bytes: number[]; logprob: number }[] {
  const r = lcg(nVocab);
  const letters = "abcdefghijklmnopqrstuvwxyz";
  // Gumbel-distributed logits (a long tail, like a language model's), log-softmax in float32 as llama-server does.
  const logits = Array.from({ length: nVocab }, () => -Math.log(-Math.log(r() || 1e-12)) * 3);
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  let z = 0;
  for (const l of logits) z += Math.exp(l - max);
  const out = logits.map((l, id) => {
    // BPE-like pieces: mostly 1–8 letters, 60% with a leading space, some multi-byte.
    let t = r() < 0.6 ? " " : "";
    const len = 1 + Math.floor(r() * r() * 12);
    for (let i = 0; i < len; i++) t += letters[Math.floor(r() * 26)];
    if (r() < 0.05) t = `é${t}`;
    return { id, token: t, bytes: [...Buffer.from(t, "utf8")], logprob: Math.fround(l - max - Math.log(z)) };
  });
  return out.sort((a, b) => b.logprob - a.logprob || a.id - b.id);
}

const all = entries();
const bodies = new Map<number, Buffer>();
const completion = (nProbs: number) => {
  let b = bodies.get(nProbs);
  if (!b) {
    const top = all.slice(0, Math.max(1, Math.min(nProbs, nVocab)));
    const first = top[0]!;
    b = Buffer.from(JSON.stringify({ index: 0, content: first.token, tokens: [], id_slot: 0, stop: true, model: "bench", tokens_predicted: 1, tokens_evaluated: 12, prompt: "", completion_probabilities: [{ ...first, top_logprobs: top }] }));
    bodies.set(nProbs, b);
  }
  return b;
};

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    const send = (data: Buffer | string) => res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(data) }).end(data);
    const path = (req.url ?? "").replace(/^\/v1/, "");
    if (path === "/models") return send(JSON.stringify({ object: "list", data: [{ id: "bench", object: "model", owned_by: "llamacpp", meta: { n_vocab: nVocab } }] }));
    if (path === "/tokenize") return send(JSON.stringify({ tokens: [1, 2, 3] }));
    if (path === "/completion") return send(completion(Number((JSON.parse(body) as { n_probs?: number }).n_probs ?? 0)));
    res.writeHead(404).end("{}");
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
