/**
 * Local emulator of Aliyun Dyplsapi (Phone Number Protection, 2017-05-25) and, on the same port, of
 * ChatApp's QueryChatappPhoneNumbers (cams 2020-06-06, chosen by Version): the same wire protocol, so
 * the official SDKs work against it unchanged, with stateful bindings and sender numbers, an
 * adjustable clock and fault injection. See docs/emulator.md.
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { EmulatorCore } from "./emulator.ts"
import type { BindingView, CallStatusOverride, CreateBindingInput, CreatedBinding, StateView } from "./emulator.ts"
import { type EmulatorControls, listenWithControls } from "../controls.ts"
import type { ChatappNumber, ChatappNumberPatch } from "./cams.ts"
import { DEFAULT_EMULATOR_PORT, keyPairFromEnv, resolveOptions } from "./options.ts"
import type { AliyunEmulatorOptions } from "./options.ts"
import type { CallFault, PoolConfig } from "./state.ts"
import { readEmulatorConfig } from "./configFile.ts"
import { createEmulatorServer } from "./server.ts"
import type { StatsView } from "./stats.ts"

export { ACTION_NAMES, API_VERSION } from "./actions.ts"
export { CAMS_API_VERSION, CHATAPP_QPS } from "./cams.ts"
export type { ChatappNumber, ChatappNumberPatch } from "./cams.ts"
export { EmulatorControlError } from "./emulator.ts"
export type { BindingView, CallStatusOverride, ClockView, CreateBindingInput, CreatedBinding, StateView } from "./emulator.ts"
export { ALL_ACTIONS, MALFORMED_KINDS } from "../faults.ts"
export type { FaultSpec, InjectedError, Latency, MalformedKind } from "../faults.ts"
export { DEFAULT_EMULATOR_PORT, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET } from "./options.ts"
export type { AliyunEmulatorOptions } from "./options.ts"
export { DEMO_POOL, DEMO_POOL_KEY, numberRange } from "./state.ts"
export type { BindingMode, CallFault, PoolConfig } from "./state.ts"
export type { StatsView } from "./stats.ts"

/** `url` is e.g. `http://127.0.0.1:8931`; pop-core takes it as `endpoint`, openapi-core wants `127.0.0.1:8931`. */
export interface RunningAliyunEmulator extends EmulatorControls<StateView, StatsView> {
  readonly accessKeyId: string
  readonly accessKeySecret: string
  readonly pools: ReadonlyArray<PoolConfig>
  /** Throws EmulatorControlError (code isv.*) when the pool or the numbers refuse the binding. */
  readonly createBinding: (input: CreateBindingInput) => CreatedBinding
  readonly binding: (subsId: string) => BindingView
  readonly setCallStatus: (subsId: string, override: CallStatusOverride) => CallFault | undefined
  /** Withdraws an action (it answers InvalidAction.NotFound, as Aliyun does for QueryCallStatus) or serves it again. */
  readonly setServed: (action: string, served: boolean) => void
  /** Locks (2) or freezes (3) an X as QuerySecretNoDetail reports it; null makes it usable again. */
  readonly setSecretStatus: (secretNo: string, status: 2 | 3 | null) => void
  /**
   * Adds a WhatsApp sender number to a ChatApp CustSpaceId (new numbers: CONNECTED, GREEN, TIER_1K),
   * or changes its states, as QueryChatappPhoneNumbers then lists it.
   */
  readonly setChatappNumber: (custSpaceId: string, phoneNumber: string, patch?: ChatappNumberPatch) => ChatappNumber
  readonly removeChatappNumber: (custSpaceId: string, phoneNumber: string) => void
  readonly chatappNumbers: (custSpaceId: string) => ReadonlyArray<ChatappNumber>
  /** Back to just-started: no bindings, start faults, clock offset 0, fresh PRNG, nonces and stats. */
  readonly reset: () => void
}

export const startAliyunEmulator = async (options: AliyunEmulatorOptions = {}): Promise<RunningAliyunEmulator> => {
  const resolved = resolveOptions(options)
  const core = new EmulatorCore(resolved)
  const controls = await listenWithControls(core, createEmulatorServer(core), resolved.port, resolved.host)
  return {
    ...controls,
    accessKeyId: resolved.accessKeyId,
    accessKeySecret: resolved.accessKeySecret,
    pools: resolved.pools,
    createBinding: (input) => core.createBinding(input),
    binding: (subsId) => core.binding(subsId),
    setCallStatus: (subsId, override) => core.setCallStatus(subsId, override),
    setServed: (action, served) => void core.setServed(action, served),
    setSecretStatus: (secretNo, status) => void core.setSecretStatus(secretNo, status),
    setChatappNumber: (custSpaceId, phoneNumber, patch = {}) => core.setChatappNumber(custSpaceId, phoneNumber, patch),
    removeChatappNumber: (custSpaceId, phoneNumber) => core.removeChatappNumber(custSpaceId, phoneNumber),
    chatappNumbers: (custSpaceId) => core.chatappNumbers(custSpaceId)
  }
}

/** The emulator for the lifetime of a Scope (tests): started on acquire, closed on release. */
export const aliyunEmulatorScoped = (options?: AliyunEmulatorOptions): Effect.Effect<RunningAliyunEmulator, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startAliyunEmulator(options)),
    (emulator) => Effect.promise(() => emulator.close())
  )

/** A running emulator as a service, e.g. `Layer.provide(AliyunEmulator.layer({ seed: 7 }))`. */
export class AliyunEmulator extends Context.Service<AliyunEmulator, RunningAliyunEmulator>()("precall/emulator/AliyunEmulator") {
  static readonly layer = (options?: AliyunEmulatorOptions): Layer.Layer<AliyunEmulator> => Layer.effect(AliyunEmulator, aliyunEmulatorScoped(options))
}

/**
 * `precall emulator --port N [--config FILE]`: starts on 127.0.0.1 with the options of the JSON file
 * (pools, faults, seed, signature checks), prints one line with the URL and the key id, and resolves
 * once SIGINT or SIGTERM has closed it.
 */
export const runAliyunEmulatorCli = async (
  port: number = DEFAULT_EMULATOR_PORT,
  configFile?: string,
  output: { readonly json?: boolean; readonly controlToken?: string | undefined } = {}
): Promise<void> => {
  const fromFile = configFile === undefined ? {} : await readEmulatorConfig(configFile)
  const emulator = await startAliyunEmulator({ ...fromFile, port, ...keyPairFromEnv(process.env), controlToken: output.controlToken })
  process.stdout.write(output.json === true
    ? `${JSON.stringify({ url: emulator.url, port: Number(new URL(emulator.url).port), accessKeyId: emulator.accessKeyId, controlUrl: `${emulator.url}/_emulator` })}\n`
    : `Aliyun Dyplsapi emulator listening on ${emulator.url} (AccessKeyId ${emulator.accessKeyId}; control API ${emulator.url}/_emulator)\n`)
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop)
      process.off("SIGTERM", stop)
      void emulator.close().then(resolve)
    }
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
  })
}
