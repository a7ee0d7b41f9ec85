import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { buildReport } from "../../src/report/html.ts";
import { loadRuns as loadStored } from "../../src/report/partial.ts";
import { summarise } from "../../src/run.ts";
import { openStore } from "../../src/store/registry.ts";
import { parseStudy } from "../../src/study/spec.ts";
import { runStudy } from "../../src/study/run.ts";
import type { Run } from "../../src/types.ts";
import { withPage } from "../support/browser.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const inside = (p: { x: number; y: number }, b: Box) => p.x >= b.x && p.x <= b.x + b.width && p.y >= b.y && p.y <= b.y + b.height;

describe("ptalign report: one self-contained HTML file, rendered in headless Chromium", () => {
  let dir: string;
  let out: string;
  let html: string;
  let file: string;

  before(async () => {
    dir = await tempDir();
    out = join(dir, "results");
    const study = parseStudy("models: [sim:d, sim:e, sim:collapsed]\ntargets: [extreme, \"uniform(1,5)\"]\nsteps: 20\nruns: 3\n", join(dir, "study.yaml"));
    const outcomes = await runStudy(study, out);
    assert.deepEqual(outcomes.map((o) => o.status), Array(6).fill("done"));
    // The CLI writes the same page the library builds.
    file = join(dir, "report.html");
    const res = await ptalign(["report", out, "--out", file]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /wrote .*report\.html \(6 measurements/);
    html = await buildReport(await loadStored(out), { source: out });
  });

  it("needs no network: no external URL is referenced", () => {
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(html, /<link\b/i);
    assert.match(html, /default-src 'none'/);
  });

  it("every chart has drawn marks; the D/E map puts sim:d in the D region and sim:e in the E region; screenshot", async () => {
    await withPage(async (page) => {
      const requests: string[] = [];
      page.on("request", (r) => void (r.url().startsWith("file:") || requests.push(r.url())));
      await page.goto(`file://${file}`);
      const charts = await page.$$eval(".chart", (els) =>
        els.map((el) => {
          const svg = el.querySelector("svg");
          const box = svg?.getBoundingClientRect();
          return { kind: el.getAttribute("data-chart"), width: box?.width ?? 0, height: box?.height ?? 0, marks: el.querySelectorAll("g.role-mark > *").length };
        }),
      );
      assert.equal(charts.length, 1 + 6 * 3, "the map, and heatmap + TV + histogram for each of the 6 measurements");
      assert.deepEqual([...new Set(charts.map((c) => c.kind))].sort(), ["heatmap", "histogram", "scatter", "tv"]);
      for (const c of charts) {
        assert.ok(c.width > 50 && c.height > 50, `${c.kind} has a visible SVG (${c.width}×${c.height})`);
        assert.ok(c.marks > 0, `${c.kind} has drawn marks`);
      }
      const heat = charts.find((c) => c.kind === "heatmap")!;
      assert.ok(heat.marks >= 20 * 4, "one rect per step and answer");

      const geometry = await page.$$eval('[data-chart="scatter"] [aria-label]', (els) =>
        els.map((el) => {
          const b = el.getBoundingClientRect();
          return { label: el.getAttribute("aria-label")!, role: el.getAttribute("aria-roledescription"), x: b.x, y: b.y, width: b.width, height: b.height };
        }),
      );
      const region = (name: string) => geometry.find((g) => g.label === name)!;
      const E = region("E region");
      const D = region("D region");
      assert.ok(E && D, "both regions are drawn");
      const points = geometry.filter((g) => g.role === "point");
      assert.equal(points.length, 6);
      for (const p of points) {
        const centre = { x: p.x + p.width / 2, y: p.y + p.height / 2 };
        if (p.label.startsWith("sim:e ·")) assert.ok(inside(centre, E) && !inside(centre, D), `${p.label} in the E region`);
        if (p.label.startsWith("sim:d ·")) assert.ok(inside(centre, D) && !inside(centre, E), `${p.label} in the D region`);
        if (p.label.startsWith("sim:collapsed ·")) assert.ok(!inside(centre, D) && !inside(centre, E), `${p.label} outside both`);
      }

      const png = join(dir, "report.png");
      await page.screenshot({ path: png, fullPage: true });
      assert.ok(statSync(png).size > 20_000, `screenshot saved at ${png}`);
      assert.deepEqual(requests, [], "the page loads nothing");
    }, { viewport: { width: 1400, height: 1000 } });
  });

  it("the comparison table sorts by a column", async () => {
    await withPage(async (page) => {
      await page.goto(`file://${file}`);
      const column = async (i: number) => page.$$eval(`#compare tbody tr td:nth-child(${i})`, (tds) => tds.map((td) => td.getAttribute("data-v")!));
      const atvdCol = 1 + (await page.$$eval("#compare th", (ths) => ths.findIndex((th) => th.textContent!.startsWith("atvd"))));
      await page.click(`#compare th:nth-child(${atvdCol})`);
      const up = (await column(atvdCol)).map(Number);
      assert.deepEqual(up, [...up].sort((a, b) => a - b));
      await page.click(`#compare th:nth-child(${atvdCol})`);
      const down = (await column(atvdCol)).map(Number);
      assert.deepEqual(down, [...up].reverse());
      assert.equal((await column(1))[0]!.startsWith("sim:collapsed"), true, "the most misaligned first");
    });
  });

  it("model output and names are shown as text: an injected <img onerror> or <script> does not run", async () => {
    const xdir = join(dir, "xss");
    const store = await openStore(xdir, { write: true });
    const attack = `<img src=x onerror="window.__xss=1">`;
    const target = { support: ["1", `<script>window.__xss=2</script>`], probs: [0.5, 0.5] };
    const runs: Run[] = [0, 1].map((r) => ({
      seed: r,
      steps: [0, 1, 2].map((t) => ({ t, ptoken: t % 2 ? [0.9, 0.1] : [0.2, 0.8], leak: 0, sample: t === 1 ? null : "1", ...(t === 1 ? { raw: attack } : {}) })),
    }));
    const result = { ...summarise(attack, "batch", target, runs, { steps: 3, runs: 2, temperature: 1, seed: 0, prompt: { user: `say ${attack}`, prefill: "</pre><script>window.__xss=3</script>" } }), id: "x1" };
    await store.putResult(result);
    await store.close();
    await withPage(async (page) => {
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const xfile = join(xdir, "report.html");
      await writeFile(xfile, await buildReport(await loadStored(xdir), { source: xdir }));
      await page.goto(`file://${xfile}`);
      await page.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
      assert.equal(await page.locator("img").count(), 0);
      assert.equal(await page.locator("script").count(), 1, "only the report's own script");
      const text = await page.evaluate(() => document.body.innerText);
      assert.ok(text.includes(attack), "the answer is shown, as text");
      assert.ok(text.includes("</pre><script>window.__xss=3</script>"), "the prompt is shown, as text");
      assert.deepEqual(dialogs, []);
    });
  });

  it("view: serves the report on 127.0.0.1 and reloads when the store changes", async () => {
    const { startViewer } = await import("../../src/report/server.ts");
    const vdir = join(dir, "live");
    const store = await openStore(vdir, { write: true });
    const target = { support: ["1", "2"], probs: [0.5, 0.5] };
    const runs = (q: number[]): Run[] => [0, 1].map((seed) => ({ seed, steps: [0, 1, 2].map((t) => ({ t, ptoken: q, leak: 0, sample: "1" })) }));
    await store.putResult({ ...summarise("first-model", "sequential", target, runs([0.5, 0.5]), { steps: 3, runs: 2, temperature: 1, seed: 0 }), id: "a" });
    const viewer = await startViewer({ dir: vdir, port: 0 });
    try {
      assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      await withPage(async (page) => {
        await page.goto(viewer.url);
        assert.equal(await page.locator("section.run").count(), 1);
        const v1 = await (await fetch(`${viewer.url}version`)).text();
        // A study writes a new run while the page is open.
        await store.putResult({ ...summarise("second-model", "sequential", target, runs([0.9, 0.1]), { steps: 3, runs: 2, temperature: 1, seed: 0 }), id: "b" });
        assert.notEqual(await (await fetch(`${viewer.url}version`)).text(), v1);
        await page.waitForFunction(() => document.querySelectorAll("section.run").length === 2, undefined, { timeout: 10_000 });
        assert.ok((await page.evaluate(() => document.body.innerText)).includes("second-model"));
      });
      assert.equal((await fetch(`${viewer.url}nope`)).status, 404);
    } finally {
      await store.close();
      await viewer.close();
    }
  });
});
