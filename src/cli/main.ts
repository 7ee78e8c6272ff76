/** The `precall` command line: decide, serve, emulator. */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { decideCommand } from "./decide.ts"
import { emulatorCommand } from "./emulator.ts"
import { serveCommand } from "./serve.ts"

const precall = Command.make("precall").pipe(
  Command.withDescription("Call fallback resolution: one pre-call decision for masked-number calls"),
  Command.withSubcommands([decideCommand, emulatorCommand, serveCommand])
)

Command.run(precall, { version: "0.1.0" }).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
