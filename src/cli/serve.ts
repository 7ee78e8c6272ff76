/** `precall serve`: the HTTP service (docs/api.md, docs/operations.md) until SIGTERM / SIGINT. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { stdoutLogger } from "../service/logging.ts"
import { RequestTracker } from "../service/middleware.ts"
import { runService } from "../service/service.ts"
import { usageError } from "./decide.ts"
import { exitCodes, failWith } from "./exit.ts"

/**
 * Runs after the server has drained. runMain exits 130 on any signal; a drain that cut no request
 * short is a successful stop, so it exits 0 here. Otherwise runMain's 130 stands.
 */
const stopped = (tracker: RequestTracker) =>
  tracker.cut === 0
    ? Effect.andThen(Effect.logInfo({ msg: "stopped", drained: true }), Effect.sync(() => process.exit(0)))
    : Effect.logWarning({ msg: "stopped", drained: false, cutRequests: tracker.cut })

export const serveCommand = Command.make("serve", {
  port: Flag.Int("port").pipe(Flag.withDescription("port to listen on (default: PORT, else 8080; 0 picks a free one)"), Flag.optional),
  host: Flag.String("host").pipe(Flag.withDescription("address to listen on (default 127.0.0.1)"), Flag.optional),
  demo: Flag.Boolean("demo").pipe(Flag.withDescription(
    "the zero-credential demo: open, on the in-process Aliyun emulator with seeded bindings; refused beside production settings (default: off, a provider must be configured)"
  ), Flag.withDefault(false))
}, (flags) => {
  const tracker = new RequestTracker()
  return runService(process.env, { port: Option.getOrUndefined(flags.port), host: Option.getOrUndefined(flags.host), demo: flags.demo }, tracker).pipe(
    Effect.catchTags({
      InvalidSettings: (e) => usageError(e.message),
      AuditStoreError: (e) => failWith(exitCodes.unexpected, `exposure audit unavailable (${e.store} ${e.reason}): ${e.message}`),
      ServeError: (e) => Effect.sync(() => {
        process.stderr.write(`precall: cannot listen: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}\n`)
        process.exitCode = 1
      })
    }),
    Effect.onInterrupt(() => stopped(tracker)),
    Effect.provide(stdoutLogger)
  )
}).pipe(Command.withDescription("Serve pre-call decisions over HTTP (a provider must be configured; --demo for the zero-credential demo)"))
