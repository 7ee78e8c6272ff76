/** `precall decide`: one decision for one binding, printed as a JSON object. */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { decide, PrecallLive } from "../precall.ts"
import { settingsFromEnv } from "../policy/settings.ts"
import { BindingMode } from "../domain/binding.ts"
import { resolveCredentials } from "../providers/aliyun/credentials.ts"
import { resolveHuaweiApps } from "../providers/huawei/credentials.ts"
import { exitCodes, failWith } from "./exit.ts"

/** Request field → the flag a user typed, so errors name the flag. */
const flagOf: Readonly<Record<string, string>> = {
  provider: "--provider", poolKey: "--pool-key", subsId: "--subs-id", phoneNoX: "--phone-no-x", callerNo: "--caller-no", realCallee: "--real-callee",
  extension: "--extension", "binding.phoneNoA": "--phone-no-a", "binding.phoneNoB": "--phone-no-b", "binding.mode": "--mode"
}

const optional = (name: string, description: string) => Flag.String(name).pipe(Flag.withDescription(`${description} (default: none)`), Flag.optional)

/** A usage error: one line on stderr, exit code 2; decisions themselves always exit 0. */
export const usageError = (message: string) => failWith(exitCodes.usage, message)

export const decideCommand = Command.make("decide", {
  provider: Flag.String("provider").pipe(
    Flag.withDescription("the provider the binding lives on: aliyun or huawei (default: aliyun when configured)"),
    Flag.optional
  ),
  poolKey: Flag.String("pool-key").pipe(
    Flag.withDescription("number pool key, e.g. FC100000000001 (required for aliyun; Huawei has no pools: default huawei when the binding is on Huawei)"),
    Flag.optional
  ),
  subsId: Flag.String("subs-id").pipe(Flag.withDescription("binding id (Aliyun SubsId, Huawei subscriptionId) returned when it was bound")),
  phoneNoX: Flag.String("phone-no-x").pipe(Flag.withDescription("the binding's X number")),
  callerNo: optional("caller-no", "the calling number"),
  realCallee: optional("real-callee", "the real callee, for a fallback-real decision"),
  phoneNoA: optional("phone-no-a", "party A of the binding (used to rebind)"),
  phoneNoB: optional("phone-no-b", "party B of the binding (used to rebind)"),
  mode: Flag.Literals("mode", BindingMode.literals).pipe(
    Flag.withDescription("binding mode: AXB, AXN / AX (X dedicated to A), AXN_EXTENSION (default: from the binding's detail)"),
    Flag.optional
  ),
  extension: optional("extension", "extension of an AXN_EXTENSION binding")
}, (flags) =>
  Effect.gen(function*() {
    const settings = yield* settingsFromEnv(process.env)
    const some = <A>(o: { _tag: "Some"; value: A } | { _tag: "None" }) => (o._tag === "Some" ? o.value : undefined)
    const binding = { phoneNoA: some(flags.phoneNoA), phoneNoB: some(flags.phoneNoB), mode: some(flags.mode) }
    // the provider decided on: the named one, else the default (Aliyun when configured, else Huawei)
    const provider = some(flags.provider) ??
      (resolveCredentials(settings.aliyunEndpoint, settings.aliyunAccessKeyId, settings.aliyunAccessKeySecret) === undefined &&
          resolveHuaweiApps(settings) !== undefined
        ? "huawei"
        : undefined)
    const request = Object.fromEntries(Object.entries({
      // Huawei has no number pools: its bindings are keyed by app, so the pool key is only a label there
      provider: some(flags.provider), poolKey: some(flags.poolKey) ?? (provider === "huawei" ? "huawei" : undefined), subsId: flags.subsId, phoneNoX: flags.phoneNoX, callerNo: some(flags.callerNo),
      realCallee: some(flags.realCallee), extension: some(flags.extension),
      binding: Object.values(binding).some((v) => v !== undefined)
        ? Object.fromEntries(Object.entries(binding).filter(([, v]) => v !== undefined))
        : undefined
    }).filter(([, v]) => v !== undefined))
    const decision = yield* decide(request).pipe(Effect.provide(PrecallLive(settings)))
    yield* Console.log(JSON.stringify(decision))
  }).pipe(
    Effect.catchTags({
      InvalidRequest: (e) => usageError(e.issues.map((i) => `${flagOf[i.path] ?? i.path}: ${i.message}`).join("; ")),
      InvalidSettings: (e) => usageError(e.message),
      AuditStoreError: (e) => failWith(exitCodes.unexpected, `exposure audit unavailable (${e.store} ${e.reason}): ${e.message}`)
    })
  )
).pipe(Command.withDescription(
  "Ask the provider about a binding and print the pre-call decision as one JSON line (it is for machines). " +
    "Settings come from the environment (PRECALL_*, ALIBABA_CLOUD_*; docs/configuration.md). Exit 0 with a decision, 2 on bad flags or settings"
))
