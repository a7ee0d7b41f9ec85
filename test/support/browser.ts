import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium, type Browser } from "playwright-core";

/**
 * The browser the report tests render in, first found of:
 *   1. PTALIGN_CHROMIUM (a path to a Chromium binary),
 *   2. Debian's /usr/bin/chromium (apt-get install chromium),
 *   3. the Chromium inside the dev dependency @sparticuz/chromium (installed by `npm ci`, brotli-compressed inside
 *      the package, unpacked once into the temp directory — never downloaded).
 * playwright-core drives it; it never downloads a browser of its own. Without any, the test fails with one line.
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

export async function launchChromium(): Promise<Browser> {
  const { executablePath } = await findChromium();
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}
