/**
 * The `precall` command line: decide, serve, emulator, audit. Exit codes: 0 a decision was printed (or the
 * command ran and stopped cleanly), 2 bad arguments or settings, 1 anything unexpected. Every error
 * is one line on stderr that starts with `precall:`; `--help` on any command lists its flags.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect } from "effect"
import { CliOutput, Command } from "effect/cli"
import { createRequire } from "node:module"
import { auditCommand } from "./audit.ts"
import { decideCommand } from "./decide.ts"
import { emulatorCommand } from "./emulator.ts"
import { exitCodes, failWith } from "./exit.ts"
import { serveCommand } from "./serve.ts"

/** The package's own version: src/cli and dist/cli both sit two folders below package.json. */
const { version } = createRequire(import.meta.url)("../../package.json") as { readonly version: string }

const precall = Command.make("precall").pipe(
  Command.withDescription("Call fallback resolution: one pre-call decision for masked-number calls"),
  Command.withSubcommands([decideCommand, emulatorCommand, serveCommand, auditCommand])
)

/** Bad invocations: one line on stderr instead of the help page plus a multi-line error block. */
const oneLinePresenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.sync(() => {
        const command = ["precall", ...event.commandPath.slice(1)].join(" ")
        process.stderr.write(`precall: ${event.errors.map((e) => e.message.replace(/\s+/g, " ").trim()).join("; ")} (see ${command} --help)\n`)
      })
      : CliOutput.defaultPresenter.present(event)
})

Command.run(precall, { version }).pipe(
  Effect.catchTag("ShowHelp", (e) => failWith(exitCodes.usage, e.errors.length === 0 ? undefined : "")),
  Effect.catchCause((cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.void
    const error = Cause.squash(cause)
    return failWith(exitCodes.unexpected, `unexpected error: ${error instanceof Error ? error.message : String(error)}`)
  }),
  Effect.provide(oneLinePresenter),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
