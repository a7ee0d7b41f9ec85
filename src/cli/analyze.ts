// `ptalign analyze DIR` and `ptalign advise DIR`: internal properties and model-selection guidance from stored results.
import { Command, InvalidArgumentError } from "commander";
import { loadRuns } from "../report/partial.ts";
import { assertResultsDir, targetLabel } from "../store/read.ts";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";
import { shownLocation } from "../store/registry.ts";
import { analyzeRuns } from "../analysis/properties.ts";
import { compareHistory, storedCounterfactual } from "../analysis/counterfactual.ts";
import { advise, parseWeights, PROFILES, type Profile } from "../analysis/advise.ts";
import { adviseTasks, type TaskDomainAdvice } from "../analysis/adviseTasks.ts";
import { adviseSearch, type SearchDomainAdvice } from "../analysis/adviseSearch.ts";
import { loadTaskResults } from "../tasks/store.ts";
import { InputError } from "../errors.ts";
import { fmt, table } from "./common.ts";
import { summariseProbe } from "../probe/summary.ts";
import { probeWords } from "../probe/words.ts";
import type { ProbeStep } from "../probe/types.ts";

/** Measurements made by `ptalign probe` carry lens or attention on their steps. */
const probed = (runs: readonly { steps: readonly unknown[] }[]) => runs.some((r) => r.steps.some((s) => (s as ProbeStep).lens !== undefined || (s as ProbeStep).attention !== undefined));

export function analyzeCommand(): Command {
  return new Command("analyze")
    .description("internal properties per measurement: history dependence, argmax autocorrelation, effective temperature, margin, leak, entropy (and a probe's counterfactual histories)")
    .argument("[dir]", "results directory", DEFAULT_RESULTS_DIR)
    .option("--json", "print a JSON array, one object per measurement")
    .addHelpText("after", "\nDefinitions: docs/metrics.md, section \"Analysis\".\nExample:\n  $ ptalign analyze ./ptalign-results --json")
    .action(async (dir: string, flags: { json?: boolean }) => {
      assertResultsDir(dir);
      // The store keeps every step field (entropy_full included; a schema-1 store gets them from runs/*.json when migrated).
      const stored = await loadRuns(dir);
      const out = stored.filter((r) => r.runs.length > 0).map((r) => {
        // probe --counterfactual: the effects it stored, beside the observational slope (only such results get the key).
        const cf = storedCounterfactual(r);
        return { id: r.id, model: r.model, target: targetLabel(r), protocol: r.protocol, temperature: r.settings?.temperature ?? null, ...analyzeRuns(r.target, r.runs), ...(probed(r.runs) ? { probe: summariseProbe(r) } : {}), ...(cf ? { counterfactual: { ...cf, comparison: compareHistory(r.target, r.runs, cf) } } : {}) };
      });
      if (flags.json) {
        process.stdout.write(JSON.stringify(out) + "\n");
        return;
      }
      if (out.length === 0) {
        process.stdout.write(`no runs with steps in ${shownLocation(dir)}\n`);
        return;
      }
      const ci = (c: [number, number] | null) => (c ? `[${fmt(c[0])}, ${fmt(c[1])}]` : "—");
      const rows = out.map((a) => [a.model, a.target, String(a.temperature ?? "—"), fmt(a.history.coefficient), ci(a.history.ci), fmt(a.argmax_autocorr), fmt(a.effective_temperature?.T), fmt(a.effective_temperature?.atvdAt1), fmt(a.effective_temperature?.atvd), fmt(a.top1_margin), fmt(a.leak), a.entropy_full !== null || !a.entropy_full_bounds ? fmt(a.entropy_full) : `≥ ${fmt(a.entropy_full_bounds[0])}${a.entropy_full_bounds[1] !== null ? ` ≤ ${fmt(a.entropy_full_bounds[1])}` : ""}`]);
      process.stdout.write(table(["model", "target", "T", "history", "history 95% CI", "argmax ac", "T*", "atvd", "atvd@T*", "margin", "leak", "H_full"], rows) + "\n");
      // Probed measurements (ptalign probe): what the inside of the model shows, in words.
      const inside = out.filter((a) => a.probe);
      if (inside.length > 0) process.stdout.write(`\ninside the model (ptalign probe):\n${inside.map((a) => `  ${a.model} on ${a.target}: ${probeWords(a.probe!)}`).join("\n")}\n`);
      for (const a of out) if (a.counterfactual) process.stdout.write(`\ncounterfactual histories (probe), ${a.model} on ${a.target}: ${a.counterfactual.comparison.words}\n`);
    });
}

export function adviseCommand(): Command {
  return new Command("advise")
    .description("rank the models of a results directory for a task profile and recommend a temperature (no model call)")
    .argument("[dir]", "results directory", DEFAULT_RESULTS_DIR)
    .option("--prefer <profile>", "diversity | stability | calibration", (v: string) => {
      if (!(v in PROFILES)) throw new InvalidArgumentError(`--prefer must be diversity, stability or calibration (got ${v})`);
      return v as Profile;
    })
    .option("--weights <list>", "weights instead of a profile, e.g. calibration=1,diversity=0.5")
    .option("--json", 'print {"ranking": [...], "shared": [...], "targets": [{"target","ranking"}], "excluded": [...], "temperature", "setting", "tasks"?: [{"domain","ranking","favours","why"}], "search"?: [{"domain","queries","ranking","favours","why"}]}')
    .addHelpText("after", "\nDefinitions: docs/metrics.md, section \"Analysis\".\nExample:\n  $ ptalign advise ./ptalign-results --prefer calibration")
    .action(async (dir: string, flags: { prefer?: Profile; weights?: string; json?: boolean }) => {
      assertResultsDir(dir);
      if (flags.prefer && flags.weights) throw new InputError("give --prefer or --weights, not both");
      let weights = PROFILES[flags.prefer ?? "calibration"];
      if (flags.weights) {
        try {
          weights = parseWeights(flags.weights);
        } catch (err) {
          throw new InputError((err as Error).message);
        }
      }
      const advice = advise((await loadRuns(dir)).map((r) => ({ ...r, label: targetLabel(r) })), weights);
      // Choice tasks (decide, …): one ranking per task domain; the key appears only when there are some.
      const taskResults = await loadTaskResults(dir);
      const tasks = adviseTasks(taskResults);
      // task search: one ranking per search domain (same pools), by EE-L; the key appears only when there are some.
      const search = adviseSearch(taskResults);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ...advice, ...(tasks.length ? { tasks } : {}), ...(search.length ? { search } : {}) }) + "\n");
        return;
      }
      const out = (line: string) => process.stdout.write(line + "\n");
      for (const x of advice.excluded) out(`left out (off-format, leak ${x.leak.toFixed(3)}): ${x.model} on ${x.target}, measurement ${x.id ?? "(unsaved)"}`);
      if (advice.targets.length === 0) {
        if (tasks.length === 0 && search.length === 0) out(`no finished measurements to rank in ${shownLocation(dir)}`);
        printTaskAdvice(tasks, out);
        printSearchAdvice(search, out);
        return;
      }
      // Like with like: one ranking per target, then the overall ranking on the targets every model shares.
      for (const t of advice.targets) {
        out(`target ${t.target}:`);
        t.ranking.forEach((r, i) => out(`  ${i + 1}. ${r.model}  score ${r.score.toFixed(3)}  — ${r.reason}`));
      }
      if (advice.targets.length > 1) {
        if (advice.ranking.length === 0) out("overall: no target was measured for every model, so the models are compared only per target (above)");
        else {
          out(`overall, on the target${advice.shared.length > 1 ? "s" : ""} every model shares (${advice.shared.join("; ")}):`);
          advice.ranking.forEach((r, i) => out(`  ${i + 1}. ${r.model}  score ${r.score.toFixed(3)}  — ${r.reason}`));
        }
      }
      const setting = Object.entries(advice.setting).filter(([k]) => k !== "temperature").map(([k, v]) => `${k}=${v}`).join(", ");
      out(`recommended temperature: ${advice.temperature ?? "— (not recorded)"}${setting ? ` (with ${setting})` : ""}`);
      printTaskAdvice(tasks, out);
      printSearchAdvice(search, out);
    });
}

/** Per search domain: the models by EE-L, and the type the data favours. */
function printSearchAdvice(domains: readonly SearchDomainAdvice[], out: (line: string) => void): void {
  for (const d of domains) {
    out(`task ${d.domain}:`);
    d.ranking.forEach((r, i) => out(`  ${i + 1}. ${r.model}  ${r.type}  — ${r.reason}`));
    out(`  favours: ${d.favours ?? "—"} (${d.why})`);
  }
}

/** Per task domain: the models by mean TV to the people's distribution, and the type the data favours. */
function printTaskAdvice(tasks: readonly TaskDomainAdvice[], out: (line: string) => void): void {
  for (const t of tasks) {
    out(`task ${t.domain} (people split on ${Math.round(100 * t.split)}% of the contexts):`);
    t.ranking.forEach((r, i) => out(`  ${i + 1}. ${r.model}  ${r.type}  — ${r.reason}`));
    out(`  favours: ${t.favours ?? "—"} (${t.why})`);
  }
}
