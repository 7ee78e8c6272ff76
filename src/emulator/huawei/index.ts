/**
 * Local emulator of Huawei's privacy-call platform (AXB and AX bindings, signed with AKSK or legacy
 * WSSE, pushes with re-push) and of CEC's mobile-agent call state, on one port: the same wire
 * protocol as shared/providers/huawei.md describes, stateful bindings on an adjustable clock, and
 * fault injection. See docs/emulator.md.
 */
import { Context, Effect, Layer } from "effect"
import { isLoopbackEndpoint } from "../../policy/endpoint.ts"
import type { Scope } from "effect"
import type { FaultSpec } from "../faults.ts"
import type { CallScript } from "./calls.ts"
import type { CecCall, CecCallScript } from "./cec.ts"
import { HuaweiEmulatorCore } from "./emulator.ts"
import type { AccountState, BindingView, CallRecord, ClockView, CreateBindingInput, HuaweiStatsView, StateView } from "./emulator.ts"
import { resolveOptions } from "./options.ts"
import type { HuaweiEmulatorOptions, ResolvedApp } from "./options.ts"
import type { PushView } from "./pushes.ts"
import { createHuaweiEmulatorServer } from "./server.ts"
import { type EmulatorControls, listenWithControls } from "../controls.ts"
import type { XNumber, XStatus } from "./state.ts"

export { CALL_EVENT_TYPES } from "./calls.ts"
export type { CallEventType, CallScript } from "./calls.ts"
export type { CecCall, CecCallScript } from "./cec.ts"
export { ACCOUNT_STATES, EmulatorControlError } from "./emulator.ts"
export type { AccountState, BindingView, CallRecord, ClockView, CreateBindingInput, HuaweiStatsView, StateView } from "./emulator.ts"
export {
  ACTION_NAMES, DEFAULT_HUAWEI_EMULATOR_PORT, DEMO_APPS, DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET, DEMO_AXB_APP_KEY, DEMO_AXB_APP_SECRET,
  DEMO_CEC_AK, DEMO_CEC_SK, DEMO_X_POOL
} from "./options.ts"
export type { HuaweiAppConfig, HuaweiEmulatorOptions, HuaweiMode, PoolNumberConfig } from "./options.ts"
export { REPUSH_MINUTES } from "./pushes.ts"
export type { PushAttempt, PushState, PushStats, PushView } from "./pushes.ts"
export { AX_CALLEE_PATH, AX_PATH, AXB_PATH, CEC_QUERY_CALL_STATE_PATH, CEC_TOKEN_PATH } from "./wire.ts"
export type { XNumber, XStatus } from "./state.ts"

/** `url` is e.g. `http://127.0.0.1:8932`: the APP access address and the CEC domain at once. */
export interface RunningHuaweiEmulator extends EmulatorControls<StateView, HuaweiStatsView> {
  /** The apps it accepts, secrets included (they are demo or test keys). */
  readonly apps: ReadonlyArray<ResolvedApp>
  readonly cec: { readonly ak: string; readonly sk: string }
  /** A binding made with the wire's rules and codes, without a signed request; `mode` "AXB" or "AX", wire field names. */
  readonly createBinding: (input: CreateBindingInput) => BindingView
  readonly binding: (subscriptionId: string) => BindingView
  readonly unbind: (subscriptionId: string) => BindingView
  /** Sets an X's status (5, 9, 10, 11) and cause; a change pushes `numStatus`. */
  readonly setXStatus: (x: string, status: XStatus, cause?: string) => { readonly number: string; readonly status: XStatus; readonly cause: string | null; readonly pushId: number | null }
  readonly setXBlacklisted: (x: string, blacklisted: boolean) => XNumber
  /** `arrears` / `frozen` also pause every normal X (status 9, cause 2, pushed); `active` lifts that pause. */
  readonly setAccountState: (state: AccountState) => { readonly account: AccountState; readonly pushIds: ReadonlyArray<number> }
  /** A call through an X ending now: pushes its call events (`disconnect` with its stateCode) and its `fee` CDR. */
  readonly endCall: (script: CallScript) => CallRecord
  /** Scripts what CEC's queryCallState answers for a serial number. */
  readonly setCecCall: (callSerialNo: string, script: CecCallScript) => CecCall
  readonly pushes: () => ReadonlyArray<PushView>
  /**
   * Where pushes go from now on (loopback only; throws otherwise), for a receiver that learns its own
   * port after the emulator started (the `precall serve --demo` service); undefined stops sending.
   */
  readonly setCallbackUrl: (url: string | undefined) => void
  /** Resolves once every push try under way has finished: await it instead of sleeping. */
  readonly settlePushes: () => Promise<void>
  /** Replaces the fault of an action (or `*`, or `<action>@<subscriptionId>`); throws EmulatorControlError on an invalid spec. */
  readonly setFault: (action: string, spec: FaultSpec) => void
  /** Ages bindings and CEC tokens; sends the re-pushes that fall due. */
  readonly advanceClock: (seconds: number) => ClockView
  /** Back to just-started: no bindings, pushes or CEC calls, every X normal, account active, start faults, clock offset 0. */
  readonly reset: () => void
  /** Stops pushing and closes every socket, hanging requests included. */
  readonly close: () => Promise<void>
}

export const startHuaweiEmulator = async (options: HuaweiEmulatorOptions = {}): Promise<RunningHuaweiEmulator> => {
  const resolved = resolveOptions(options)
  const core = new HuaweiEmulatorCore(resolved)
  const controls = await listenWithControls(core, createHuaweiEmulatorServer(core), resolved.port, resolved.host)
  return {
    ...controls,
    apps: resolved.apps,
    cec: { ak: resolved.cecAk, sk: resolved.cecSk },
    createBinding: (input) => core.createBinding(input),
    binding: (id) => core.binding(id),
    unbind: (id) => core.unbind(id),
    setXStatus: (x, status, cause) => core.setXStatus(x, status, cause),
    setXBlacklisted: (x, blacklisted) => core.setXBlacklisted(x, blacklisted),
    setAccountState: (state) => core.setAccountState(state),
    endCall: (script) => core.endCall(script),
    setCecCall: (serial, script) => core.setCecCall(serial, script),
    pushes: () => core.pushes(),
    setCallbackUrl: (url) => {
      if (url !== undefined && !isLoopbackEndpoint(url)) throw new Error("huawei emulator callbackUrl: loopback http(s) URLs only (127.0.0.0/8, localhost, [::1])")
      core.outbox.setCallbackUrl(url)
    },
    settlePushes: () => core.outbox.settle()
  }
}

/** The emulator for the lifetime of a Scope (tests): started on acquire, closed on release. */
export const huaweiEmulatorScoped = (options?: HuaweiEmulatorOptions): Effect.Effect<RunningHuaweiEmulator, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => startHuaweiEmulator(options)), (emulator) => Effect.promise(() => emulator.close()))

/** A running emulator as a service, e.g. `Layer.provide(HuaweiEmulator.layer({ seed: 7 }))`. */
export class HuaweiEmulator extends Context.Service<HuaweiEmulator, RunningHuaweiEmulator>()("precall/emulator/HuaweiEmulator") {
  static readonly layer = (options?: HuaweiEmulatorOptions): Layer.Layer<HuaweiEmulator> => Layer.effect(HuaweiEmulator, huaweiEmulatorScoped(options))
}
