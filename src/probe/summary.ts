// The measurement's summary of its probed steps (result key `probe`): per block the mean lens measures and attention
// masses over every step, and the histogram of commit layers.
import type { Result } from "../types.ts";
import type { AttentionSummary, LayerSummary, ProbeStep, ProbeSummary } from "./types.ts";

export function summariseProbe(result: Pick<Result, "runs">): ProbeSummary {
  const steps = result.runs.flatMap((r) => r.steps as ProbeStep[]);
  const lensSteps = steps.filter((s) => s.lens && s.lens.length > 0);
  const attSteps = steps.filter((s) => s.attention && s.attention.length > 0);
  const layers = lensSteps[0]?.lens?.length ?? attSteps[0]?.attention?.length ?? 0;
  const out: ProbeSummary = { layers, steps: steps.length };
  if (lensSteps.length > 0) {
    const mean = (l: number, f: (s: ProbeStep) => number) => lensSteps.reduce((a, s) => a + f(s), 0) / lensSteps.length;
    out.lens = Array.from({ length: layers }, (_, l): LayerSummary => ({
      layer: l,
      tv_task: mean(l, (s) => s.lens![l]!.tv_task),
      tv_final: mean(l, (s) => s.lens![l]!.tv_final),
      entropy: mean(l, (s) => s.lens![l]!.entropy),
      leak: mean(l, (s) => s.lens![l]!.leak),
    }));
    const hist: Record<string, number> = {};
    const commits: number[] = [];
    for (const s of lensSteps) {
      const c = s.commit_layer ?? null;
      const k = c === null ? "none" : String(c);
      hist[k] = (hist[k] ?? 0) + 1;
      if (c !== null) commits.push(c);
    }
    out.commit_histogram = hist;
    commits.sort((a, b) => a - b);
    out.commit_median = commits.length === 0 ? null : commits.length % 2 ? commits[(commits.length - 1) / 2]! : (commits[commits.length / 2 - 1]! + commits[commits.length / 2]!) / 2;
  }
  if (attSteps.length > 0) {
    const n = attSteps[0]!.attention!.length;
    const mean = (l: number, k: "history" | "target" | "prompt") => attSteps.reduce((a, s) => a + s.attention![l]![k], 0) / attSteps.length;
    out.attention = Array.from({ length: n }, (_, l): AttentionSummary => ({ layer: l, history: mean(l, "history"), target: mean(l, "target"), prompt: mean(l, "prompt") }));
  }
  return out;
}
