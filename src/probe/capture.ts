// A token backend seen through the probe: every evaluation the scoring trie makes is passed through unchanged and
// kept (its context and, when the engine gives it, what the model computed inside) until the step it belongs to is
// probed. The trie's first evaluation of a step is the step's own context (the answer position): scoreOptions
// evaluates the root before any child.
import type { Inside, TokenBackend, TokenDistribution } from "../backends/types.ts";

export interface Evaluation {
  context: readonly number[];
  dist: TokenDistribution;
  inside?: Inside;
}

export class CapturingBackend implements TokenBackend {
  readonly kind = "tokens" as const;
  /** The evaluations since the last `take()`, by context (token ids joined by ","). */
  private pending = new Map<string, Evaluation>();
  private first: Evaluation | undefined;

  constructor(readonly inner: TokenBackend) {}

  get capabilities() {
    return this.inner.capabilities;
  }
  get name() {
    return this.inner.name;
  }
  get vocab() {
    return this.inner.vocab;
  }
  get contextSize() {
    return this.inner.contextSize;
  }
  get stats() {
    return this.inner.stats;
  }
  get templated() {
    return this.inner.templated;
  }
  get engine() {
    return this.inner.engine;
  }
  encodePrompt: TokenBackend["encodePrompt"] = (p) => this.inner.encodePrompt(p);
  renderPrompt: TokenBackend["renderPrompt"] = (p) => this.inner.renderPrompt(p);
  isEndOfGeneration: TokenBackend["isEndOfGeneration"] = (t) => this.inner.isEndOfGeneration(t);
  reset: TokenBackend["reset"] = () => this.inner.reset();
  close: TokenBackend["close"] = () => this.inner.close();

  async next(context: readonly number[]): Promise<TokenDistribution> {
    const dist = await this.inner.next(context);
    const e: Evaluation = { context: [...context], dist, ...(dist.inside ? { inside: dist.inside } : {}) };
    this.first ??= e;
    this.pending.set(key(context), e);
    return dist;
  }

  /** The evaluations of the step just scored (its root first) and forget them. */
  take(): { root: Evaluation | undefined; all: Map<string, Evaluation> } {
    const out = { root: this.first, all: this.pending };
    this.first = undefined;
    this.pending = new Map();
    return out;
  }
}

export const key = (context: readonly number[]): string => context.join(",");
