// `ptalign store copy FROM TO`: moves results between a results directory and a database (src/store/copy.ts).
import { Command } from "commander";
import { copyStore } from "../store/copy.ts";
import { assertResultsDir } from "../store/read.ts";
import { shownLocation } from "../store/registry.ts";

export function storeCommand(): Command {
  const store = new Command("store").description("manage stores of results (directories and databases)");
  store.addCommand(
    new Command("copy")
      .description("copy every measurement and task result of one store into another, row for row (a directory ↔ postgresql://…)")
      .argument("<from>", "a results directory or postgresql://USER@HOST:PORT/DB")
      .argument("<to>", "a results directory (created if missing) or postgresql://USER@HOST:PORT/DB (tables created if missing)")
      .addHelpText(
        "after",
        `
Passwords come from PGPASSWORD or ~/.pgpass (PGPASSFILE), never from a study file; they are never printed.

Examples:
  $ ptalign store copy ./ptalign-results postgresql://me@db.lab:5432/ptalign
  $ ptalign store copy postgresql://me@db.lab/ptalign ./snapshot && ptalign report ./snapshot --out report.html`,
      )
      .action(async (from: string, to: string) => {
        assertResultsDir(from);
        const r = await copyStore(from, to);
        process.stdout.write(`copied ${r.runs} measurement${r.runs === 1 ? "" : "s"} (${r.steps} steps${r.fromFiles > 0 ? `, ${r.fromFiles} from result files` : ""}) and ${r.tasks} task result${r.tasks === 1 ? "" : "s"} from ${shownLocation(from)} to ${shownLocation(to)}\n`);
      }),
  );
  for (const cmd of store.commands) cmd.exitOverride();
  return store;
}
