// `ptalign probe --counterfactual` on a model whose layers the probe cannot read (sim, a remote server that scores
// exactly): the measurement exactly as `run` makes and records it, each step carrying its counterfactual effects and
// the result their summary (`counterfactual`). On the embedded engine, probeMeasure (measure.ts) plugs the same probe
// in beside the logit lens.
import type { Model } from "../backends/index.ts";
import { describeDist, promptWords } from "../distributions/index.ts";
import { renderPrompt } from "../protocols/index.ts";
import { measureRecorded } from "../record.ts";
import type { RunRequest } from "../run.ts";
import type { Result } from "../types.ts";
import { counterfactualProbe, type CounterfactualSummary } from "./counterfactual.ts";

export interface CounterfactualRunResult extends Result {
  id: string;
  counterfactual: CounterfactualSummary;
}

export async function measureCounterfactualRecorded(req: RunRequest, model: Model, record: { id: string; out: string | undefined; signal?: AbortSignal }): Promise<{ result: CounterfactualRunResult; file?: string }> {
  const prompt = renderPrompt(req.template, { distribution: describeDist(req.target), support: req.target.support, ...promptWords(req.target), steps: req.settings.steps });
  const probe = await counterfactualProbe(model, { protocol: req.protocol, target: req.target, prompt, settings: req.settings });
  const { result, file } = await measureRecorded(
    {
      ...req,
      wrapPort: (port) => probe.wrapPort(port),
      onStep: async (r, step, run) => {
        probe.attach(r, step);
        await req.onStep?.(r, step, run);
      },
    },
    model,
    { ...record, complete: (res) => ({ ...res, counterfactual: probe.summary() }) },
  );
  return { result: result as CounterfactualRunResult, ...(file !== undefined ? { file } : {}) };
}
