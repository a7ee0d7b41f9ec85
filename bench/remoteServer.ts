// The loopback server of bench/remote.ts, in its own process so that its CPU time is not counted as the harness's.
import { startFakeServer } from "../test/remote/fakeServer.ts";

const delayMs = Number(process.argv[2] ?? 10);
const srv = await startFakeServer("vllm", { delayMs });
process.stdout.write(`${srv.url}\n`);
process.on("SIGTERM", () => void srv.close().then(() => process.exit(0)));
