// `npm test`: every test/*/*.test.ts through `node --test` (tsx), several test processes at a time; the files of one
// folder share a process unless a file asks for its own (test/support/suite.ts says why and how).
//
//   npm test                                 the whole suite
//   npm test -- test/metrics/hamming.test.ts some files, each in a process of its own (as `node --test` would)
//   PTALIGN_TEST_CONCURRENCY=n npm test      test processes at a time (default 4)
//
// Arguments that start with "-" are passed to `node --test` (e.g. --test-reporter=tap, --test-name-pattern=…).
import { fileURLToPath } from "node:url";
import { buildDist, distState } from "../scripts/dist.js";
import { runSuite } from "./support/suite.ts";

const args = process.argv.slice(2);
const concurrency = Number(process.env.PTALIGN_TEST_CONCURRENCY ?? 4);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(`PTALIGN_TEST_CONCURRENCY=${process.env.PTALIGN_TEST_CONCURRENCY} is not a whole number ≥ 1\n`);
  process.exit(2);
}
// The tests run bin/ptalign.js as users do: from dist/, built here once (before any test process starts) when the
// sources changed since the last build (scripts/dist.js). Sources esbuild cannot read still run, through tsx, so the
// tests say where they fail.
if (distState() !== "fresh") {
  await buildDist().catch((err: unknown) => {
    process.stderr.write(`warning: could not build dist/, bin/ptalign.js runs the sources through tsx (${err instanceof Error ? err.message.split("\n")[0] : String(err)})\n`);
  });
}
process.exitCode = await runSuite({
  testDir: fileURLToPath(new URL(".", import.meta.url)),
  files: args.filter((a) => !a.startsWith("-")),
  flags: args.filter((a) => a.startsWith("-")),
  concurrency,
});
