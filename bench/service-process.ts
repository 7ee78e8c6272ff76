/**
 * The HTTP service (`precall serve`) in its own process, started through its exported entry point
 * `runService` with the CLI's JSON-lines logger, on the port in BENCH_SERVICE_PORT. Settings come
 * from the environment as for `precall serve`. `{ cpu: true }` over IPC asks for this process's CPU time.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { stdoutLogger } from "../src/service/logging.ts"
import { RequestTracker } from "../src/service/middleware.ts"
import { runService } from "../src/service/service.ts"

process.on("message", (m: { cpu?: boolean }) => {
  if (m.cpu === true) process.send?.({ cpu: process.cpuUsage() })
})
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"))

const port = Number(process.env["BENCH_SERVICE_PORT"] ?? "0")
NodeRuntime.runMain(runService(process.env, { port, host: "127.0.0.1" }, new RequestTracker()).pipe(Effect.provide(stdoutLogger)))
