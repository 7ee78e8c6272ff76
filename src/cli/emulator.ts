/** `precall emulator`: the Aliyun Dypls emulator on a loopback port, until SIGINT/SIGTERM. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { runAliyunEmulatorCli } from "../emulator/aliyun/index.ts"
import { exitCodes, failWith } from "./exit.ts"

export const emulatorCommand = Command.make("emulator", {
  port: Flag.Int("port").pipe(Flag.withDescription("loopback port to listen on; 0 picks a free one (default 8931)"), Flag.withDefault(8931)),
  config: Flag.String("config").pipe(
    Flag.withDescription("JSON file with start-up pools, faults, seed and verifySignatures (docs/emulator.md; default: none)"),
    Flag.optional
  ),
  controlToken: Flag.String("control-token").pipe(
    Flag.withDescription("require authorization: Bearer <token> on the control API under /_emulator (default: none; the control API always answers loopback Host headers and JSON bodies only)"),
    Flag.optional
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("announce the listening address as one JSON line (url, port, accessKeyId, controlUrl) for scripts (default: a sentence)"), Flag.withDefault(false))
}, ({ port, config, controlToken, json }) =>
  Effect.tryPromise(() => runAliyunEmulatorCli(port, Option.getOrUndefined(config), { json, controlToken: Option.getOrUndefined(controlToken) })).pipe(
    Effect.catch((e) => failWith(exitCodes.unexpected, `cannot run the emulator on port ${port}: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}`))
  )).pipe(Command.withDescription("Run the local Aliyun Dyplsapi emulator (docs/emulator.md)"))
