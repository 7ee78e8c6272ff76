/** `precall emulator`: the Aliyun Dypls emulator and the Huawei emulator on loopback ports, until SIGINT/SIGTERM. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { runEmulatorCli } from "../emulator/cli.ts"
import { exitCodes, failWith } from "./exit.ts"

export const emulatorCommand = Command.make("emulator", {
  port: Flag.Int("port").pipe(Flag.withDescription("loopback port of the Aliyun emulator; 0 picks a free one (default 8931)"), Flag.withDefault(8931)),
  huaweiPort: Flag.Int("huawei-port").pipe(
    Flag.withDescription("loopback port of the Huawei emulator; 0 picks a free one (default 8932, or 0 when --port is 0)"),
    Flag.optional
  ),
  huaweiCallbackUrl: Flag.String("huawei-callback-url").pipe(
    Flag.withDescription("loopback URL the Huawei emulator pushes numStatus, call events and CDRs to (default: none, pushes are only recorded)"),
    Flag.optional
  ),
  config: Flag.String("config").pipe(
    Flag.withDescription("JSON file with the Aliyun emulator's start-up pools, faults, seed and verifySignatures (docs/emulator.md; default: none)"),
    Flag.optional
  ),
  controlToken: Flag.String("control-token").pipe(
    Flag.withDescription("require authorization: Bearer <token> on both control APIs under /_emulator (default: none; the control API always answers loopback Host headers and JSON bodies only)"),
    Flag.optional
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("announce the listening addresses as one JSON line (url, port, accessKeyId, controlUrl, and huawei: {url, port, controlUrl, apps, cecAk}) for scripts (default: a sentence each)"), Flag.withDefault(false))
}, ({ port, huaweiPort, huaweiCallbackUrl, config, controlToken, json }) =>
  Effect.tryPromise(() =>
    runEmulatorCli({
      port,
      huaweiPort: Option.getOrUndefined(huaweiPort),
      huaweiCallbackUrl: Option.getOrUndefined(huaweiCallbackUrl),
      configFile: Option.getOrUndefined(config),
      json,
      controlToken: Option.getOrUndefined(controlToken)
    })
  ).pipe(
    Effect.catch((e) => failWith(exitCodes.unexpected, `cannot run the emulators on port ${port}: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}`))
  )).pipe(Command.withDescription("Run the local Aliyun Dyplsapi and Huawei privacy-call emulators (docs/emulator.md)"))
