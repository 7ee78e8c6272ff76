/** `precall emulator`: the Aliyun Dypls emulator on a loopback port, until SIGINT/SIGTERM. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { runAliyunEmulatorCli } from "../emulator/aliyun/index.ts"

export const emulatorCommand = Command.make("emulator", {
  port: Flag.Int("port").pipe(Flag.withDescription("loopback port to listen on"), Flag.withDefault(8931)),
  config: Flag.String("config").pipe(
    Flag.withDescription("JSON file with start-up pools, faults, seed and verifySignatures (docs/emulator.md)"),
    Flag.optional
  )
}, ({ port, config }) =>
  Effect.tryPromise(() => runAliyunEmulatorCli(port, Option.getOrUndefined(config))).pipe(
    Effect.catch((e) =>
      Effect.sync(() => {
        const cause = e.cause instanceof Error ? e.cause.message : String(e.cause)
        process.stderr.write(`precall: cannot run the emulator on port ${port}: ${cause}\n`)
        process.exitCode = 1
      })
    )
  )).pipe(Command.withDescription("Run the local Aliyun Dyplsapi emulator (docs/emulator.md)"))
