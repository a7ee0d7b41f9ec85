import type { TokenBackend } from "../backends/types.ts";
import { InputError } from "../errors.ts";
import { shortestSpelling } from "./options.ts";
import { biased, fullEntropy, tempered } from "./temperature.ts";
import { checkPartial, unlistedMass } from "./truncated.ts";
import { sampledProb, truncates, type SamplerSettings } from "./sampler.ts";

export interface ScoreOptions {
  /** Evaluate a trie level at a time (its nodes requested together) instead of depth first. Default: when the backend serves several requests at once (capabilities.parallel > 1). */
  levels?: boolean;
  /** Per-token sampling temperature (> 0). */
  temperature: number;
  /** Deployed sampler truncations (top-k, top-p, min-p) and their engine's order; absent = none. */
  sampler?: SamplerSettings;
  /** A path whose probability falls below this is not expanded; its mass is reported in `unknown`. */
  prune: number;
  /** Bytes the context already holds beyond its last answer (a token that overran the previous delimiter). */
  consumed?: string;
  /** Logit bias per token id (context-free, like OpenAI/vLLM/llama.cpp `logit_bias`): p_v × exp(b_v), renormalised over the vocabulary, before temperature. */
  bias?: ReadonlyMap<number, number>;
}

export interface Scored {
  /** Chain-rule probability that the model writes each option's text next, summed over all its tokenisations. */
  raw: number[];
  /** Mass the model puts on text that is none of the options. */
  leak: number;
  /** Mass on paths pruned before they could be told apart (upper bound on the error of raw and leak). */
  unknown: number;
  /** Per option, the most probable token path that ends exactly at the end of its text (what gets appended). */
  paths: (number[] | null)[];
  /** Entropy (nats) of the full next-token distribution after `context` at `temperature`; null when the engine gave only part of the vocabulary. */
  entropyFull: number | null;
}

interface Node {
  tokens: number[];
  consumed: string;
  mass: number;
  /** What expanding the node found, in candidate order: accepted options, pruned mass, children (summed in canonical order). */
  found: Found[];
}

type Found = { accepted: number; mass: number; exact: boolean; path: number[] } | { pruned: number } | { child: Node };

/**
 * Exact probability of each option text after `context`. The tokenisations of all options form a trie over token
 * paths; each trie node costs one engine evaluation, shared by every option that passes through it, and nodes are
 * visited depth first so that the engine's cached prefix is reused between parent and child (an engine that serves
 * requests in parallel — a remote server, or an embedded context with several sequences — gets a level of the trie
 * at a time instead). Either way the masses are summed afterwards in one canonical order (depth first, a node's own
 * findings before its children's), so both visiting orders give bit-identical results.
 * A path accepts option i once its bytes start with option i's text (the last token may write past the delimiter).
 */
export async function scoreOptions(backend: TokenBackend, context: readonly number[], texts: readonly string[], opts: ScoreOptions): Promise<Scored> {
  const vocab = backend.vocab;
  let entropyFull: number | null = null;

  const expand = (node: Node, dist: Awaited<ReturnType<TokenBackend["next"]>>): Node[] => {
    const shown = opts.bias && opts.bias.size > 0 ? biased(dist, opts.bias) : dist;
    // With top-k / top-p / min-p the step reads the deployed sampler's distribution (sampler.ts), else the tempered softmax;
    // truncation needs the whole vocabulary (a top-n list cannot say which tokens top-p keeps).
    if (truncates(opts.sampler) && !dist.complete) throw new InputError("--top-k, --top-p and --min-p need the full next-token distribution; this server returned only its top-n (raise n_probs to the vocabulary size or drop the sampler flags)");
    const prob = truncates(opts.sampler) ? sampledProb(shown, vocab.size, opts.temperature, opts.sampler) : tempered(shown, opts.temperature);
    if (node === root) entropyFull = dist.complete ? fullEntropy(shown, opts.temperature) : null;
    checkPartial(dist, opts.temperature, Boolean(opts.bias && opts.bias.size > 0));
    const children: Node[] = [];
    let unlisted = 0; // candidates a partial (top-n) distribution does not list: their mass is unknown, bounded
    for (const token of candidates(vocab, texts, node.consumed)) {
      const p = prob(token);
      if (p === 0) {
        if (!dist.complete && !dist.probs.has(token)) unlisted++;
        continue;
      }
      const mass = node.mass * p;
      const written = node.consumed + vocab.bytes(token);
      const accepted = texts.findIndex((t) => written.startsWith(t));
      if (accepted >= 0) {
        node.found.push({ accepted, mass, exact: written.length === texts[accepted]!.length, path: [...node.tokens, token] });
      } else if (mass >= opts.prune) {
        const child: Node = { tokens: [...node.tokens, token], consumed: written, mass, found: [] };
        node.found.push({ child });
        children.push(child);
      } else {
        node.found.push({ pruned: mass });
      }
    }
    // The unlisted candidates' bounded mass counts like pruned mass: unknown (and not leak).
    if (unlisted > 0) node.found.push({ pruned: node.mass * unlistedMass(dist, unlisted) });
    // A child's mass is not counted here: it ends up accepted, pruned or leaked among its descendants.
    return children;
  };
  const evaluate = (node: Node) => backend.next(node.tokens.length ? [...context, ...node.tokens] : context);
  const root: Node = { tokens: [], consumed: opts.consumed ?? "", mass: 1, found: [] };

  if (opts.levels ?? backend.capabilities.parallel > 1) {
    // Many requests at once: evaluate the trie a level at a time, the nodes of a level together (a remote step costs
    // one round trip per trie level instead of one per node; an embedded context decodes a level in one batch).
    let level: Node[] = [root];
    while (level.length > 0) {
      const dists = await Promise.all(level.map(evaluate));
      level = level.flatMap((node, i) => expand(node, dists[i]!));
    }
  } else {
    const stack: Node[] = [root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const children = expand(node, await evaluate(node));
      // Children in reverse so that the stack pops them in vocabulary order (deterministic evaluation order).
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }

  const raw = texts.map(() => 0);
  const bestMass = texts.map(() => 0);
  const paths: (number[] | null)[] = texts.map(() => null);
  let unknown = 0;
  let covered = 0;
  const sum = (node: Node): void => {
    for (const f of node.found) {
      if ("accepted" in f) {
        raw[f.accepted] = raw[f.accepted]! + f.mass;
        covered += f.mass;
        if (f.exact && f.mass > bestMass[f.accepted]!) {
          bestMass[f.accepted] = f.mass;
          paths[f.accepted] = f.path;
        }
      } else if ("pruned" in f) {
        unknown += f.pruned;
        covered += f.pruned;
      }
    }
    for (const f of node.found) if ("child" in f) sum(f.child);
  };
  sum(root);
  // Every unit of mass either ends on an option, is pruned, or leaves the options' texts (leak).
  const leak = Math.max(0, 1 - covered);
  return { raw, leak, unknown, paths: paths.map((p, i) => p ?? shortestSpelling(vocab, texts[i]!.slice((opts.consumed ?? "").length))), entropyFull };
}

/** Tokens that keep the written bytes consistent with at least one option: a prefix of what remains, or running past its end. */
function candidates(vocab: TokenBackend["vocab"], texts: readonly string[], consumed: string): number[] {
  const out = new Set<number>();
  for (const text of texts) {
    if (!text.startsWith(consumed)) continue;
    const rest = text.slice(consumed.length);
    for (let k = 1; k <= rest.length; k++) for (const id of vocab.exact(rest.slice(0, k))) out.add(id);
    for (const id of vocab.extending(rest)) out.add(id);
  }
  return [...out].sort((a, b) => a - b);
}
