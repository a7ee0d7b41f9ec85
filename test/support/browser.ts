import { type ChildProcess } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/**
 * The browser the report tests render in, first found of:
 *   1. PTALIGN_CHROMIUM (a path to a Chromium binary),
 *   2. Debian's /usr/bin/chromium (apt-get install chromium),
 *   3. the Chromium inside the dev dependency @sparticuz/chromium (installed by `npm ci`, brotli-compressed inside
 *      the package, unpacked once into the temp directory — never downloaded).
 * playwright-core drives it; it never downloads a browser of its own. Without any, the test fails with one line.
 *
 * Tests render through withPage(): one browser per test process and one page in it, reused from test to test and
 * file to file (the files of a folder share a process, test/support/suite.ts). Chromium's CPU was most of the report
 * tests' cost: with Debian's full browser a launch takes ~1–2 CPU-s and a new page ~1.6, against ~0.7 to navigate a
 * page again (the report files in one process: ~30 CPU-s of Chromium before, ~10 after).
 */
const SYSTEM_CHROMIUM = "/usr/bin/chromium";
/** The flags every browser here runs with, whichever is found: headless, no sandbox, no GPU (the charts are SVG). */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
const HOW_TO_FIX = "run npm ci (it installs @sparticuz/chromium), apt-get install chromium, or set PTALIGN_CHROMIUM to a Chromium binary";

interface Found { executablePath: string; source: string }
let found: Promise<Found> | undefined;

export async function findChromium(): Promise<Found> {
  found ??= locate();
  return found;
}

async function locate(): Promise<Found> {
  const env = process.env.PTALIGN_CHROMIUM;
  if (env) {
    if (!existsSync(env)) throw new Error(`PTALIGN_CHROMIUM=${env} not found: ${HOW_TO_FIX}`);
    return { executablePath: env, source: "PTALIGN_CHROMIUM" };
  }
  // PTALIGN_TEST_NO_SYSTEM_CHROMIUM=1 pretends Debian's browser is absent (to test the packaged one on a machine that has both).
  if (existsSync(SYSTEM_CHROMIUM) && !process.env.PTALIGN_TEST_NO_SYSTEM_CHROMIUM) return { executablePath: SYSTEM_CHROMIUM, source: "Debian's chromium" };
  return packaged();
}

/**
 * @sparticuz/chromium unpacks into os.tmpdir() and trusts any file already there, so parallel test files could launch
 * a half-written binary. Unpack instead into a staging directory and rename it into place under a name keyed by the
 * package version: the rename is atomic, the first process wins, the others use its copy.
 */
async function packaged(): Promise<Found> {
  let pkg: { default: { executablePath(): Promise<string> } };
  let version: string;
  try {
    pkg = (await import("@sparticuz/chromium")) as typeof pkg;
    const require = createRequire(import.meta.url);
    const entry = require.resolve("@sparticuz/chromium");
    let dir = dirname(entry);
    while (!existsSync(join(dir, "package.json")) || !/"name":\s*"@sparticuz\/chromium"/.test(readFileSync(join(dir, "package.json"), "utf8"))) dir = dirname(dir);
    version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    throw new Error(`no browser for the report tests: ${HOW_TO_FIX}`);
  }
  const home = join(tmpdir(), `ptalign-chromium-${version}`);
  const binary = join(home, "chromium");
  if (!existsSync(binary)) {
    const stage = mkdtempSync(join(tmpdir(), "ptalign-chromium-stage-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = stage; // the package unpacks into os.tmpdir(), which reads TMPDIR on every call
    try {
      await pkg.default.executablePath();
    } catch (err) {
      rmSync(stage, { recursive: true, force: true });
      throw new Error(`could not unpack @sparticuz/chromium (${err instanceof Error ? err.message : String(err)}): ${HOW_TO_FIX}`);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    try {
      renameSync(stage, home);
    } catch {
      rmSync(stage, { recursive: true, force: true }); // another test file unpacked it first
    }
  }
  // Launched with CHROMIUM_ARGS, not the package's own flags: those are for AWS Lambda (--single-process ends the whole
  // browser when a test closes its page, and SwiftShader's GL in an in-process GPU cost ~8 CPU-s more over the report
  // files).
  return { executablePath: binary, source: `@sparticuz/chromium ${version}` };
}

export interface PageOptions {
  /** Playwright's default for a new page unless given. */
  viewport?: { width: number; height: number };
}
const DEFAULT_VIEWPORT = { width: 1280, height: 720 };

interface Shared {
  browser: Browser;
  /** The process's page, absent until first use or after a test closed it or left it unusable. */
  page?: Page;
  busy: boolean;
}
let shared: Promise<Shared> | undefined;
/** withPage() calls running now: while any runs, the browser's handles keep the event loop alive. */
let users = 0;
let setAlive: (alive: boolean) => void = () => undefined;

/**
 * Runs fn with the process's page at the viewport asked for, and navigates it to about:blank afterwards, with the
 * listeners fn added (request, dialog, console…) removed: nothing of one test is seen by the next. fn navigates
 * itself. Not reset: routes, init scripts, exposed functions, per-tab sessionStorage (no test uses them). A second
 * page while the first is in use (nested calls) is a new page of its own, closed afterwards.
 */
export async function withPage<T>(fn: (page: Page) => Promise<T>, options: PageOptions = {}): Promise<T> {
  const viewport = options.viewport ?? DEFAULT_VIEWPORT;
  users++;
  try {
    shared ??= launchShared();
    const s = await shared;
    setAlive(true);
    if (s.busy) {
      const page = await s.browser.newPage({ viewport });
      try {
        return await fn(page);
      } finally {
        await page.close();
      }
    }
    s.busy = true;
    try {
      s.page ??= await s.browser.newPage({ viewport });
      const page = s.page;
      await page.setViewportSize(viewport);
      const before = listeners(page);
      try {
        return await fn(page);
      } finally {
        await reset(s, page, before);
      }
    } finally {
      s.busy = false;
    }
  } finally {
    if (--users === 0) setAlive(false);
  }
}

/** The parts of a Page's event emitter that playwright-core's types leave out (its Page is a Node-style emitter). */
interface Emitter {
  eventNames(): (string | symbol)[];
  listeners(event: string | symbol): ((...args: unknown[]) => void)[];
  off(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
}
type Listeners = Map<string | symbol, Set<(...args: unknown[]) => void>>;
const listeners = (page: Page): Listeners => {
  const e = page as unknown as Emitter;
  return new Map(e.eventNames().map((name) => [name, new Set(e.listeners(name))]));
};

/**
 * Removes the listeners added since `before` — one by one, as the page has playwright's own 'close' and 'crash' ones
 * that removeAllListeners() would take too — then navigates to about:blank.
 */
async function reset(s: Shared, page: Page, before: Listeners): Promise<void> {
  const e = page as unknown as Emitter;
  for (const [name, now] of listeners(page)) for (const l of now) if (!before.get(name)?.has(l)) e.off(name, l);
  try {
    await page.goto("about:blank");
  } catch {
    s.page = undefined; // closed by the test, or crashed: the next test gets a new page
    await page.close().catch(() => undefined);
  }
  if (page.isClosed()) s.page = undefined;
}

/**
 * Launches the process's browser, which no test closes: a top-level `after` in a shared file cannot, as node 20 runs
 * it as soon as the tests registered so far are done — before the next file's. Instead the browser's handles (its
 * process, the pipes playwright talks over) hold the event loop only while a withPage() runs, so the loop empties
 * once the process's tests are done, and then the browser is closed.
 */
async function launchShared(): Promise<Shared> {
  const { executablePath } = await findChromium();
  // playwright does not hand out the process it spawns: catch it as Node announces it (public since Node 16.18).
  const spawned: ChildProcess[] = [];
  const onSpawn = (message: unknown): void => void spawned.push((message as { process: ChildProcess }).process);
  subscribe("child_process", onSpawn);
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  } finally {
    unsubscribe("child_process", onSpawn);
  }
  const child = spawned.find((c) => c.spawnfile === executablePath);
  if (!child?.pid) {
    await browser.close();
    throw new Error(`could not find the process of the browser just launched (${executablePath})`);
  }
  const pid = child.pid;
  const handles: { ref(): unknown; unref(): unknown }[] = [child, ...child.stdio.filter((p): p is Socket => p instanceof Socket)];
  setAlive = (alive) => {
    for (const h of handles) if (alive) h.ref(); else h.unref();
  };
  // The event loop emptied: the process's tests are done (node:test has reported them). Close Chromium properly, so
  // that it reaps its own helper processes; closing keeps the process alive until it has.
  process.once("beforeExit", () => {
    setAlive(true);
    void browser.close().catch(() => undefined);
  });
  // Ending otherwise (process.exit, an uncaught error): kill it.
  process.once("exit", () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      // The group, its renderers and helpers too: playwright spawns the browser as a group leader.
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone: playwright's own exit handler came first
    }
  });
  // Chromium gone (crashed, killed): the next test launches another rather than fail on this one.
  browser.on("disconnected", () => void (shared = undefined));
  return { browser, busy: false };
}
