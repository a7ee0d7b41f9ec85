// One probed step: the logit lens at every block (the answers' distribution read from that block, by the same trie
// over every tokenisation that gives P_token, each evaluation's next-token distribution taken from the block's
// residual stream) and the attention from the answer position to the regions of the context.
import { DenseProbs, logSumExp } from "../backends/dense.ts";
import type { OutputHead, PromptParts, TokenBackend, TokenDistribution } from "../backends/types.ts";
import { describeDist } from "../distributions/index.ts";
import { RunError } from "../errors.ts";
import { tv } from "../metrics/basic.ts";
import { answerTokenBias } from "../protocols/bias.ts";
import { DELIMITER, SEPARATOR } from "../protocols/prompt.ts";
import type { RunRequest } from "../run.ts";
import { optionTexts, scoreOptions, type ScoreOptions } from "../scoring/index.ts";
import { attentionByRegion, regionsOf, type Regions } from "./attention.ts";
import { key, type CapturingBackend, type Evaluation } from "./capture.ts";
import type { LensLayer, ProbeStep, TokenP } from "./types.ts";

export type StepProber = (step: ProbeStep, evaluations: { root: Evaluation | undefined; all: Map<string, Evaluation> }) => Promise<void>;

export interface ProbeSwitches {
  lens: boolean;
  attention: boolean;
  heads: boolean;
}

/** The prober of one measurement: the answers' texts, the scoring options and the prompt's regions are fixed for it. */
export async function probeStep(backend: CapturingBackend, req: RunRequest, prompt: PromptParts, options: ProbeSwitches): Promise<StepProber> {
  const texts = optionTexts(req.target.support, SEPARATOR, DELIMITER);
  const s = req.settings;
  const T = s.temperature;
  // The run's own scoring options (protocols/ports/tokens.ts), so the last block's lens is P_token before temperature 0's argmax.
  const scoring: ScoreOptions = {
    temperature: T === 0 ? 1 : T,
    sampler: T === 0 ? undefined : s.sampler,
    prune: s.prune,
    ...(s.logitBias ? { bias: answerTokenBias(backend, req.target.support, texts, s.logitBias) } : {}),
  };
  const promptTokens = backend.encodePrompt(prompt);
  const regions = regionsOf(backend.vocab, promptTokens, describeDist(req.target));
  const head = options.lens ? await backend.inner.outputHead?.() : undefined;
  if (options.lens && !head) throw new RunError("this engine cannot give its output head; the logit lens needs the embedded GGUF engine opened for probing");
  return async (step, { root, all }) => {
    if (!root) throw new RunError(`step ${step.t} was scored without evaluating the model`);
    step.tokens = [...root.context];
    if (!root.inside) throw new RunError("the engine gave no inside view of the model (llama.cpp's eval callback did not run); probe needs the embedded engine on the CPU");
    if (head) {
      step.lens = await lensOf(backend, head, root, all, texts, scoring, req.target.probs);
      step.commit_layer = commitLayer(step.lens, step.ptoken);
    }
    if (options.attention) step.attention = attentionByRegion(root.inside.attention, regions, root.context.length, options.heads);
  };
}

async function lensOf(backend: CapturingBackend, head: OutputHead, root: Evaluation, all: Map<string, Evaluation>, texts: readonly string[], scoring: ScoreOptions, task: readonly number[]): Promise<LensLayer[]> {
  const layers = root.inside!.hidden.length;
  // Every block's logits of an evaluation in one pass over the output matrix, when a block's trie first visits it:
  // one output projection per block per evaluation at most, no decode.
  const projected = new Map<string, TokenDistribution[]>();
  const at = (e: Evaluation, l: number): TokenDistribution => {
    const k = key(e.context);
    let ds = projected.get(k);
    if (!ds) {
      if (!e.inside) throw new RunError("an evaluation of the trie came back without the model's inside view");
      ds = head.logitsMany(e.inside.hidden).map((values) => {
        const logits = { values, logZ: logSumExp(values) };
        return { probs: new DenseProbs(logits), complete: true, logits };
      });
      projected.set(k, ds);
    }
    return ds[l]!;
  };
  const out: Omit<LensLayer, "tv_final">[] = [];
  for (let l = 0; l < layers; l++) {
    const replay: TokenBackend = Object.create(backend, {
      next: {
        value: async (context: readonly number[]) => {
          let e = all.get(key(context));
          if (!e) {
            // A path this block's distribution follows but the final one pruned or gave 0: evaluate it now (a decode).
            const dist = await backend.inner.next(context);
            e = { context: [...context], dist, ...(dist.inside ? { inside: dist.inside } : {}) };
            all.set(key(context), e);
          }
          return at(e, l);
        },
      },
    }) as TokenBackend;
    const scored = await scoreOptions(replay, root.context, texts, scoring);
    const total = scored.raw.reduce((a, b) => a + b, 0);
    const ptoken = scored.raw.map((m) => (total > 0 ? m / total : 0));
    out.push({ layer: l, ptoken, leak: scored.leak, unknown: scored.unknown, tv_task: tv(ptoken, task), entropy: entropy(ptoken), top: topTokens(at(root, l).logits!, 10) });
  }
  const final = out[out.length - 1]!.ptoken;
  return out.map((x) => ({ layer: x.layer, ptoken: x.ptoken, leak: x.leak, unknown: x.unknown, tv_task: x.tv_task, tv_final: tv(x.ptoken, final), entropy: x.entropy, top: x.top }));
}

/** The first block from which the final top answer is strictly the most probable answer of every later block's lens. */
export function commitLayer(lens: readonly LensLayer[], ptoken: readonly number[]): number | null {
  const top = argmaxStrict(ptoken);
  if (top === null) return null;
  let commit: number | null = null;
  for (let i = lens.length - 1; i >= 0; i--) {
    if (argmaxStrict(lens[i]!.ptoken) !== top) break;
    commit = lens[i]!.layer;
  }
  return commit;
}

/** Index of the largest value, null when it is tied or every value is 0. */
function argmaxStrict(p: readonly number[]): number | null {
  let best = -1;
  let tied = false;
  for (let i = 0; i < p.length; i++) {
    if (best < 0 || p[i]! > p[best]!) [best, tied] = [i, false];
    else if (p[i] === p[best]) tied = true;
  }
  return best < 0 || tied || p[best] === 0 ? null : best;
}

export function entropy(p: readonly number[]): number {
  let h = 0;
  for (const x of p) if (x > 0) h -= x * Math.log(x);
  return h;
}

/** The k most probable tokens of a softmax over `logits`. */
export function topTokens(logits: { values: Float32Array; logZ: number }, k: number): TokenP[] {
  const best: number[] = [];
  const v = logits.values;
  for (let i = 0; i < v.length; i++) {
    if (best.length < k || v[i]! > v[best[best.length - 1]!]!) {
      let j = best.length < k ? best.length : k - 1;
      best[j] = i;
      while (j > 0 && v[best[j - 1]!]! < v[i]!) {
        best[j] = best[j - 1]!;
        best[--j] = i;
      }
    }
  }
  return best.map((id) => ({ id, p: Math.exp(v[id]! - logits.logZ) }));
}

export type { Regions };
