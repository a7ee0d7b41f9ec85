// `ptalign view DIR [--port N] [--host H]`: the report, served live on 127.0.0.1.
import { existsSync } from "node:fs";
import { Command } from "commander";
import { InputError, RunError } from "../errors.ts";
import { assertResultsDir } from "../store/read.ts";
import { isUrl } from "../store/registry.ts";
import { DEFAULT_RESULTS_DIR } from "../store/results.ts";
import { wholeNumber } from "./common.ts";

const isLoopback = (h: string) => h === "localhost" || h === "::1" || /^127\./.test(h);

export function viewCommand(): Command {
  return new Command("view")
    .description("serve the report live on 127.0.0.1, refreshing while a study runs")
    .argument("[dir]", "results directory", DEFAULT_RESULTS_DIR)
    .option("--port <n>", "port (0: any free port)", wholeNumber("--port", 0), 8737)
    .option("--host <address>", "address to bind instead of 127.0.0.1 (anyone who can reach it sees your results)")
    .addHelpText("after", "\nExample:\n  $ ptalign view ./ptalign-results --port 8737")
    .action(async (dir: string, flags: { port: number; host?: string }) => {
      if (flags.port > 65535) throw new InputError(`--port must be ≤ 65535 (got ${flags.port})`);
      // DIR may not exist yet: a study about to start creates it, and the page fills in as it runs.
      if (isUrl(dir) || existsSync(dir)) assertResultsDir(dir);
      else process.stderr.write(`ptalign: ${dir} does not exist yet; the page will show its runs once a study writes them\n`);
      // The server (and vega) load only for this command.
      const { LOOPBACK, startViewer } = await import("../report/server.ts");
      const host = flags.host ?? LOOPBACK;
      let viewer;
      try {
        viewer = await startViewer({ dir, port: flags.port, host });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") throw new RunError(`port ${flags.port} is in use; choose another with --port`);
        if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new InputError(`cannot bind ${host}: no such local address`);
        throw err;
      }
      if (!isLoopback(host)) process.stderr.write(`ptalign: warning: serving on ${host}, reachable from other machines\n`);
      process.stdout.write(`ptalign view: ${viewer.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => viewer.close().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
