import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseDist } from "../../src/distributions/index.ts";
import { renderSvg } from "../../src/report/charts.ts";
import { densitySpec, valueHistogramSpec } from "../../src/report/density.ts";
import { buildReport } from "../../src/report/html.ts";
import { loadRuns as loadStored } from "../../src/report/partial.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import { measure } from "../../src/run.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

type Layer = { name?: string; data: { values: Record<string, number | string>[] } };
const layer = (spec: unknown, name: string): Record<string, number | string>[] => ((spec as { layer: Layer[] }).layer.find((l) => l.name === name)!).data.values;

describe("report: continuous targets drawn as densities", async () => {
  const target = parseDist("gamma(2,2)");
  const result = await measure({ model: "sim:e", target, protocol: "sequential", settings: { steps: 30, runs: 2, temperature: 1, seed: 1, prune: 1e-7 }, template: DEFAULT_TEMPLATE });

  it("P_token per step over the bins is a density that integrates to 1, against the PDF", async () => {
    const spec = densitySpec(result);
    const w = target.continuous!.bin_width;
    const mean = layer(spec, "mean");
    const area = mean.reduce((s, p) => s + (p.density as number) * w, 0);
    assert.ok(Math.abs(area - 1) < 1e-9, `area ${area}`);
    // gamma(2, scale 2): density x e^(−x/2) / 4, largest at x = 2 (1/(2e) = 0.18394).
    const pdf = layer(spec, "pdf");
    const top = pdf.reduce((a, b) => ((b.density as number) > (a.density as number) ? b : a));
    assert.ok(Math.abs((top.x as number) - 2) < 0.1 && Math.abs((top.density as number) - 1 / (2 * Math.E)) < 1e-3, JSON.stringify(top));
    assert.equal(new Set(layer(spec, "steps").map((p) => p.series)).size, 6);
    assert.match(await renderSvg(spec), /<path/);
  });

  it("the values' histogram is a density over the range", async () => {
    const spec = valueHistogramSpec(result);
    const bars = layer(spec, "hist");
    const area = bars.reduce((s, b) => s + (b.density as number) * ((b.x1 as number) - (b.x0 as number)), 0);
    assert.ok(Math.abs(area - 1) < 1e-9, `area ${area}`); // sim samples are bins, all inside the range
    assert.match(await renderSvg(spec), /<path/);
  });

  it("the HTML report uses them for a continuous run and names the target by its family", async () => {
    const dir = await tempDir();
    const out = join(dir, "results");
    const r = await ptalign(["run", "--model", "sim:e", "--target", "baddice:laplace", "--steps", "10", "--runs", "1", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const html = await buildReport(await loadStored(out), { source: out });
    assert.match(html, /data-chart="density"/);
    assert.match(html, /data-chart="values"/);
    assert.doesNotMatch(html, /data-chart="heatmap"/);
    assert.match(html, /laplace\(0,1\)/);
  });
});
