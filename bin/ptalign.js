#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx: no build step between a clone and a run.
import { register } from "tsx/esm/api";

register();

// `ptalign … | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
