import { Command, CommanderError } from "commander";
import { exitCodeOf, reportError } from "./common.ts";
import { withInterruption, type Interruption } from "./interrupt.ts";
import { checkOutputFile, checkWritableDir, translate } from "../store/access.ts";
import { forgetWarnings } from "../store/read.ts";
import { isUrl } from "../store/registry.ts";

// The commands in the order help lists them, each loaded only when needed: a process that runs `ls` does not load the
// engine, the tasks and the sandbox (every module costs start-up time through tsx's loader, ~200 modules in all).
const COMMANDS: readonly [string, () => Promise<Command>][] = [
  ["run", async () => (await import("./run.ts")).runCommand()],
  ["batch", async () => (await import("./batch.ts")).batchCommand()],
  ["metrics", async () => (await import("./metrics.ts")).metricsCommand()],
  ["demo", async () => (await import("./demo.ts")).demoCommand()],
  ["ls", async () => (await import("./ls.ts")).lsCommand()],
  ["export", async () => (await import("./export.ts")).exportCommand()],
  ["report", async () => (await import("./report.ts")).reportCommand()],
  ["view", async () => (await import("./view.ts")).viewCommand()],
  ["task", async () => (await import("./task.ts")).taskCommand()],
  ["analyze", async () => (await import("./analyze.ts")).analyzeCommand()],
  ["advise", async () => (await import("./analyze.ts")).adviseCommand()],
  ["correct", async () => (await import("./correct.ts")).correctCommand()],
  ["store", async () => (await import("./store.ts")).storeCommand()],
  ["merge", async () => (await import("./merge.ts")).mergeCommand()],
  ["probe", async () => (await import("./probe.ts")).probeCommand()],
];

/**
 * The command tree, built afresh for every call (commander keeps parsed options on its Command objects). When the
 * first argument names a command, only that command is built; otherwise (help, a version, a mistyped command that
 * gets a suggestion) all of them.
 */
async function program(argv: readonly string[]): Promise<Command> {
  const program = new Command("ptalign")
    .description("Does a model's next-token probability follow the distribution the task asks for, step after step?")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");
  const named = COMMANDS.find(([name]) => name === argv[0]);
  for (const [, load] of named ? [named] : COMMANDS) program.addCommand(await load());
  for (const cmd of program.commands) cmd.exitOverride();

  // Every --out is checked before any work starts (a measurement must not end in ENOTDIR): `--out <dir>` must be, or
  // be creatable as, a writable directory; `--out <file>` must lie in an existing directory.
  program.hook("preAction", (_program, command) => {
    // A reading command given no DIR reads PTALIGN_STORE when set (a directory or a database URL).
    if (command.registeredArguments[0]?.name() === "dir" && command.args.length === 0 && process.env.PTALIGN_STORE) command.processedArgs[0] = process.env.PTALIGN_STORE;
    const out = command.options.find((o) => o.long === "--out");
    const opts = command.opts<{ out?: string; save?: boolean; dryRun?: boolean; showPrompt?: boolean }>();
    if (!out || opts.out === undefined || opts.save === false || opts.dryRun || opts.showPrompt || isUrl(opts.out)) return;
    if (out.flags.includes("<dir>")) checkWritableDir(opts.out);
    else checkOutputFile(opts.out);
  });
  return program;
}

/**
 * Runs the CLI on the user's arguments (without `node` and the script: `process.argv.slice(2)`) and returns the exit
 * code of the contract: 0 ok, 1 run failure, 2 bad input or usage, 130 / 143 stopped by SIGINT / SIGTERM. It never
 * calls `process.exit` and leaves `process.exitCode` as it found it, so tests call it in-process; bin/ptalign.js turns
 * the code into the exit status, and gives the `interruption` its signal handlers abort (cli/interrupt.ts).
 * Output goes to `process.stdout` / `process.stderr` (test/support/cli.ts captures them).
 */
export async function main(argv: readonly string[], opts: { interruption?: Interruption } = {}): Promise<number> {
  const before = process.exitCode;
  process.exitCode = undefined;
  forgetWarnings();
  let code: number;
  try {
    const tree = await program(argv);
    await withInterruption(opts.interruption, () => tree.parseAsync([...argv], { from: "user" }));
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
