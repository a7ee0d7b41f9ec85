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
import { exitCodeOf, reportError } from "./common.ts";

// `ptalign … | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

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
  .addCommand(correctCommand());
for (const cmd of program.commands) cmd.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0; usage errors are bad input (2).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    reportError(err);
    process.exitCode = exitCodeOf(err);
  }
}
