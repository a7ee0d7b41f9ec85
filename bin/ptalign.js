#!/usr/bin/env node
// The CLI runs dist/ (the sources as JavaScript, built by `npm ci`, `npm test` and `npm run build`) when it was built
// from the sources as they are now, and otherwise the TypeScript sources through tsx: an edit is never run from an
// older build, and a clone runs without any build (scripts/dist.js says how freshness is decided and what it saves).
import { distState } from "../scripts/dist.js";

const fromDist = distState() !== "stale";
if (!fromDist) (await import("tsx/esm/api")).register();
/** A module of the CLI, from dist/ or src/. */
const load = (path) => import(fromDist ? `../dist/${path}.js` : `../src/${path}.ts`);

// Output that cannot be written is a one-line failure, never a stack: `ptalign … | head` closes stdout early (the
// reader's choice: the exit status stays), a full disk or /dev/full is exit 1 (src/store/access.ts words it).
const { diskFull } = await load("store/access");
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    if (stream === process.stdout) {
      const line = err.code === "ENOSPC" || err.code === "EDQUOT" ? diskFull(err).message : `cannot write the output (${err.code ?? err.message})`;
      process.stderr.write(`ptalign: ${line}\n`);
    }
    process.exit(1);
  });
}

// Ctrl-C and SIGTERM (src/cli/interrupt.ts): a command that can stop cleanly (run, a study, a task) takes the signal,
// stops at its next step, keeps what is finished and exits 130 / 143 with one line on how to resume; any other
// command ends at once with that code. A second signal always ends the process at once.
const { Interrupted, SIGNAL_EXIT } = await load("errors");
const controller = new AbortController();
const interruption = { signal: controller.signal, taken: false };
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (controller.signal.aborted || !interruption.taken) process.exit(SIGNAL_EXIT[sig]);
    // At a terminal, say at once that it was heard (a step may take a while); the result's line follows.
    if (process.stderr.isTTY) process.stderr.write(`\nptalign: ${sig === "SIGINT" ? "Ctrl-C" : sig}: stopping after the current step (again to quit at once)\n`);
    controller.abort(new Interrupted(sig));
  });
}

const { main } = await load("cli/main");
const code = await main(process.argv.slice(2), { interruption });
// An interrupted command may leave a model's handles open: its work is recorded, so the process ends here.
if (controller.signal.aborted) process.exit(code);
process.exitCode = code;
