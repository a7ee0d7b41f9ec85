import { Command, CommanderError } from "commander";
import { demoCommand } from "./demo.ts";
import { metricsCommand } from "./metrics.ts";
import { runCommand } from "./run.ts";
import { batchCommand } from "./batch.ts";
import { lsCommand } from "./ls.ts";
import { exportCommand } from "./export.ts";
import { reportCommand } from "./report.ts";
import { viewCommand } from "./view.ts";
import { taskCommand } from "./task.ts";
import { analyzeCommand, adviseCommand } from "./analyze.ts";
import { correctCommand } from "./correct.ts";
import { probeCommand } from "./probe.ts";
import { mergeCommand } from "./merge.ts";
import { exitCodeOf, reportError } from "./common.ts";
import { checkOutputFile, checkWritableDir, translate } from "../store/access.ts";
import { forgetWarnings } from "../store/read.ts";

/** The command tree, built afresh for every call (commander keeps parsed options on its Command objects). */
function program(): Command {
  const program = new Command("ptalign")
    .description("Does a model's next-token probability follow the distribution the task asks for, step after step?")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .addCommand(runCommand())
    .addCommand(batchCommand())
    .addCommand(metricsCommand())
    .addCommand(demoCommand())
    .addCommand(lsCommand())
    .addCommand(exportCommand())
    .addCommand(reportCommand())
    .addCommand(viewCommand())
    .addCommand(taskCommand())
    .addCommand(analyzeCommand())
    .addCommand(adviseCommand())
    .addCommand(correctCommand())
    .addCommand(probeCommand())
    .addCommand(mergeCommand());
  for (const cmd of program.commands) cmd.exitOverride();

  // Every --out is checked before any work starts (a measurement must not end in ENOTDIR): `--out <dir>` must be, or
  // be creatable as, a writable directory; `--out <file>` must lie in an existing directory.
  program.hook("preAction", (_program, command) => {
    const out = command.options.find((o) => o.long === "--out");
    const opts = command.opts<{ out?: string; save?: boolean; dryRun?: boolean; showPrompt?: boolean }>();
    if (!out || opts.out === undefined || opts.save === false || opts.dryRun || opts.showPrompt) return;
    if (out.flags.includes("<dir>")) checkWritableDir(opts.out);
    else checkOutputFile(opts.out);
  });
  return program;
}

/**
 * Runs the CLI on the user's arguments (without `node` and the script: `process.argv.slice(2)`) and returns the exit
 * code of the contract: 0 ok, 1 run failure, 2 bad input or usage. It never calls `process.exit` and leaves
 * `process.exitCode` as it found it, so tests call it in-process; bin/ptalign.js turns the code into the exit status.
 * Output goes to `process.stdout` / `process.stderr` (test/support/cli.ts captures them).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const before = process.exitCode;
  process.exitCode = undefined;
  forgetWarnings();
  let code: number;
  try {
    await program().parseAsync([...argv], { from: "user" });
    // A command may set process.exitCode to report a failure without throwing.
    code = typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; usage errors are bad input (2).
      code = err.exitCode === 0 ? 0 : 2;
    } else {
      const known = translate(err);
      reportError(known);
      code = exitCodeOf(known);
    }
  } finally {
    process.exitCode = before;
  }
  return code;
}
