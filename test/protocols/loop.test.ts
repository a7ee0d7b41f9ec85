// The loop reads declared capabilities only: a port with made-up capabilities runs (or is refused) accordingly.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Capabilities } from "../../src/backends/index.ts";
import { PendingRequest, RunError } from "../../src/errors.ts";
import { checkCapabilities, runPort, type ScoringPort } from "../../src/protocols/index.ts";
import type { Run, Target } from "../../src/types.ts";

const target: Target = { support: ["a", "b"], probs: [0.5, 0.5] };
const caps = (c: Partial<Capabilities>): Capabilities => ({ scoring: "exact", generation: false, protocols: ["sequential", "independent"], parallel: 1, logitBias: true, samplerTruncation: true, temperatures: "any", ...c });
const settings = { steps: 4, runs: 3, temperature: 1, seed: 1, prune: 0 };

/** A port whose score waits `delay(run)` ms and fails where `fail(run, t)` says. */
function port(c: Capabilities, opts: { fail?: (run: number, t: number) => Error | undefined; active?: { now: number; max: number } } = {}): ScoringPort {
  let next = 0;
  return {
    capabilities: c,
    begin() {
      const run = next++;
      let t = 0;
      return {
        async score() {
          if (opts.active) opts.active.max = Math.max(opts.active.max, ++opts.active.now);
          await new Promise((r) => setTimeout(r, 2));
          if (opts.active) opts.active.now--;
          const err = opts.fail?.(run, t++);
          if (err) throw err;
          return { raw: [0.375, 0.125], leak: 0.5, unknown: 0 };
        },
        advance() {},
      };
    },
    noAnswer: (t) => new RunError(`no answer at ${t}`),
    recorded: () => ({}),
  };
}

describe("the protocol loop over declared capabilities", () => {
  it("refuses what a model does not declare, with today's messages", () => {
    assert.throws(() => checkCapabilities(caps({}), "batch", settings), /^InputError: the batch protocol needs free generation token by token/);
    assert.throws(() => checkCapabilities(caps({ temperatures: "unit" }), "sequential", { ...settings, temperature: 0.5 }), /--temperature must be 1 \(or 0, greedy\)/);
    assert.throws(() => checkCapabilities(caps({ logitBias: false }), "sequential", { ...settings, logitBias: { a: 1 } }), /--logit-bias needs per-token scoring/);
    assert.throws(() => checkCapabilities(caps({ samplerTruncation: false }), "sequential", { ...settings, sampler: { order: "vllm", topK: 1 } }), /--top-k, --top-p and --min-p need the full next-token distribution/);
    assert.throws(() => checkCapabilities(caps({ generation: true, protocols: ["batch"] }), "batch", { ...settings, logitBias: { a: 1 } }), /--logit-bias applies to the scored protocols/);
    assert.doesNotThrow(() => checkCapabilities(caps({ protocols: ["batch"] }), "batch", { ...settings, logitBias: { a: 1 } }));
  });
  it("runs at most capabilities.parallel runs at once, in order, seeds seed + r", async () => {
    for (const [width, expected] of [[1, 1], [2, 2], [Infinity, 3]] as const) {
      const active = { now: 0, max: 0 };
      const runs = await runPort(port(caps({ parallel: width }), { active }), "sequential", target, settings, undefined, []);
      assert.equal(active.max, expected);
      assert.deepEqual(runs.map((r) => [r.seed, r.steps.length]), [[1, 4], [2, 4], [3, 4]]);
      assert.deepEqual(runs[0]!.steps[0]!.ptoken, [0.75, 0.25]);
    }
  });
  it("a failed run stops the others at their next step; a pending request does not", async () => {
    const failed: Run[] = [];
    await assert.rejects(runPort(port(caps({ parallel: Infinity }), { fail: (r, t) => (r === 0 && t === 1 ? new RunError("down") : undefined) }), "sequential", target, settings, undefined, failed), /down/);
    assert.ok(failed.every((r) => r.steps.length <= 2), JSON.stringify(failed.map((r) => r.steps.length)));
    const pending: Run[] = [];
    await assert.rejects(runPort(port(caps({ parallel: Infinity }), { fail: (r, t) => (r === 0 && t === 1 ? new PendingRequest("later") : undefined) }), "sequential", target, settings, undefined, pending), PendingRequest);
    assert.deepEqual(pending.map((r) => r.steps.length), [1, 4, 4]);
  });
  it("no probability on any answer is the port's RunError", async () => {
    const zero: ScoringPort = { ...port(caps({})), begin: () => ({ score: async () => ({ raw: [0, 0], leak: 1, unknown: 0 }), advance() {} }) };
    await assert.rejects(runPort(zero, "sequential", target, settings, undefined, []), (e: Error) => e instanceof RunError && e.message === "no answer at 0");
  });
});
