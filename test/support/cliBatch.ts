// Runs several CLI calls in one process, in order, each through main(argv) with its output captured as the
// in-process helper does, and prints their results as one JSON array. For tests whose subject is the process's
// privileges (a reader without the capabilities that bypass file permissions): one restricted process runs them all
// instead of paying a process start-up per call. Usage: node --import tsx cliBatch.ts '<JSON array of argv arrays>'.
import { ptalign, type CliResult } from "./cli.ts";

const calls = JSON.parse(process.argv[2] ?? "[]") as string[][];
const results: CliResult[] = [];
for (const args of calls) results.push(await ptalign(args));
// Written whole before exiting: the parent parses it.
process.stdout.write(JSON.stringify(results));
