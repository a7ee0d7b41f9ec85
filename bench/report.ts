// node --import tsx bench/report.ts [DIR] [--limit N] — the report of a large study (issue 20, item 13), before and after:
//  full     every measurement's charts inline (the page before: `ptalign report --charts all`)
//  compact  the default above CHART_LIMIT measurements: summary map + comparison table + compact sections
// Each mode renders in its own child process (time, peak RSS, HTML bytes); then `view` is started on DIR and /version
// is timed while the page renders in the worker thread. Without DIR a 2,000-cell sim study is written to a temp dir
// (10 models × 10 targets × 4 temperatures × 5 seeds, 3 runs × 20 steps). --limit N renders the first N measurements
// only (the full mode of 2,000 took 28 min at load 20). The load (uptime) is printed with the figures.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/ptalign.js", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const STUDY = `models: [sim:e, sim:d, sim:collapsed, "sim:e?noise=0.05", "sim:d?peak=0.8", "sim:e?noise=0.1", "sim:d?peak=0.6", "sim:e?leak=0.1", "sim:d?leak=0.1", "sim:d?repeat=2"]
targets: [extreme, flat, "uniform(1,6)", "binomial(10,0.5)", "poisson(3,max=8)", "geometric(0.3,max=6)", "zipf(1.1,8)", "bernoulli(0.7)", "{a:0.2,b:0.3,c:0.5}", "{x:0.9,y:0.1}"]
temperatures: [0.5, 1, 1.5, 2]
seeds: [1, 2, 3, 4, 5]
steps: 20
runs: 3
`;

const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");

async function renderChild(dir: string, mode: "full" | "compact", limit: number): Promise<void> {
  const { loadRuns } = await import("../src/report/partial.ts");
  const { buildReport } = await import("../src/report/html.ts");
  const t0 = performance.now();
  const runs = (await loadRuns(dir)).slice(0, limit);
  const html = await buildReport(runs, { source: dir, ...(mode === "full" ? { charts: Infinity } : {}) });
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ mode, cells: runs.length, ms: Math.round(ms), rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), html_bytes: Buffer.byteLength(html) }) + "\n");
}

async function viewTiming(dir: string): Promise<{ version_ms: number; page_ms: number }> {
  const { startViewer } = await import("../src/report/server.ts");
  const viewer = await startViewer({ dir, port: 0 });
  try {
    const t0 = performance.now();
    let pageMs = 0;
    const page = fetch(viewer.url).then(async (r) => (await r.text(), (pageMs = performance.now() - t0)));
    await new Promise((r) => setTimeout(r, 100));
    const t1 = performance.now();
    await (await fetch(new URL("/version", viewer.url))).text();
    const versionMs = performance.now() - t1;
    await page;
    return { version_ms: Math.round(versionMs), page_ms: Math.round(pageMs) };
  } finally {
    await viewer.close();
  }
}

const limitAt = process.argv.indexOf("--limit");
const LIMIT = limitAt > 0 ? Number(process.argv[limitAt + 1]) : Infinity;
const args = process.argv.slice(2).filter((_, i, a) => a[i] !== "--limit" && a[i - 1] !== "--limit");

if (args[0] === "--render") {
  await renderChild(args[1]!, args[2] as "full" | "compact", LIMIT);
} else {
  let dir = args[0];
  if (!dir) {
    const tmp = await mkdtemp(join(tmpdir(), "ptalign-bench-report-"));
    await writeFile(join(tmp, "study.yaml"), STUDY);
    dir = join(tmp, "out");
    const t0 = performance.now();
    execFileSync(process.execPath, [BIN, "run", join(tmp, "study.yaml"), "--out", dir], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "1" } });
    console.log(`study: 2,000 cells measured in ${((performance.now() - t0) / 1000).toFixed(1)} s (load ${load()})`);
  }
  const rows: Record<string, { ms: number; rss_mb: number; html_bytes: number; cells: number }> = {};
  for (const mode of ["full", "compact"] as const) {
    const r = spawnSync(process.execPath, ["--import", "tsx", SELF, "--render", dir, mode, ...(Number.isFinite(LIMIT) ? ["--limit", String(LIMIT)] : [])], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
    rows[mode] = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    const x = rows[mode]!;
    console.log(`${mode.padEnd(8)} ${x.cells} cells: ${(x.ms / 1000).toFixed(1)} s, peak RSS ${x.rss_mb} MB, HTML ${(x.html_bytes / 1e6).toFixed(1)} MB (${Math.round(x.html_bytes / x.cells)} bytes/cell) (load ${load()})`);
  }
  const f = rows.full!;
  const c = rows.compact!;
  console.log(`ratio full/compact: time ×${(f.ms / c.ms).toFixed(1)}, RSS ×${(f.rss_mb / c.rss_mb).toFixed(1)}, HTML ×${(f.html_bytes / c.html_bytes).toFixed(1)}`);
  const v = await viewTiming(dir);
  console.log(`view: /version answered in ${v.version_ms} ms while the page rendered in the worker (${(v.page_ms / 1000).toFixed(1)} s) (load ${load()})`);
}
