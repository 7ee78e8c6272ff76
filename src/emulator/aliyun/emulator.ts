/**
 * Everything one emulator instance knows: options, clock, bindings, faults, throttles, nonces and
 * stats, plus the operations the control API and the programmatic API share.
 */
import { type ClockView, EmulatorClock, formatBeijing } from "./clock.ts"
export type { ClockView } from "./clock.ts"
import { EmulatorControlError } from "../errors.ts"
import { FaultTable, makeRandom } from "../faults.ts"
import type { FaultSpec } from "../faults.ts"
import { TIMESTAMP_WINDOW_MS } from "./gateway.ts"
import { NonceStore } from "./nonces.ts"
import { ACTION_NAMES } from "./actions.ts"
import { faultTargetError } from "./options.ts"
import type { ResolvedOptions } from "./options.ts"
import { type ChatappNumber, type ChatappNumberPatch, ChatappState } from "./cams.ts"
import { BindingState, DEMO_POOL_KEY } from "./state.ts"
import type { Binding, BindingMode, CallFault } from "./state.ts"
import { Stats } from "./stats.ts"
import type { StatsView } from "./stats.ts"

export { EmulatorControlError }

export interface CreateBindingInput {
  readonly mode: BindingMode
  /** Default: the demo pool FC100000000001. */
  readonly poolKey?: string | undefined
  readonly phoneNoA: string
  readonly phoneNoB?: string | undefined
  readonly phoneNoX?: string | undefined
  readonly extension?: string | undefined
  /** Lifetime on the emulator clock; any positive value (the wire's 1-minute minimum does not apply). */
  readonly ttlSeconds: number
}

export interface CreatedBinding {
  readonly subsId: string
  readonly poolKey: string
  readonly phoneNoX: string
  readonly extension: string | undefined
  /** Beijing wall-clock time, as QuerySubscriptionDetail shows it. */
  readonly expireDate: string
}

/** What QueryCallStatus should report for a binding: a fault (2 or 3) or `null` for no fault. */
export type CallStatusOverride = { readonly status: 2; readonly temporaryX?: string | undefined } | { readonly status: 3 } | { readonly status: null }

export interface BindingView extends Pick<Binding, "subsId" | "poolKey" | "mode" | "phoneNoA" | "phoneNoB" | "phoneNoX" | "extension" | "callFault"> {
  readonly status: "in-effect" | "expired"
  /** Emulator seconds until expiry; negative once expired. */
  readonly expiresInSeconds: number
  /** As QuerySubscriptionDetail shows them: Beijing wall-clock time. */
  readonly expireDate: string
  readonly gmtCreate: string
}

export interface StateView {
  readonly accessKeyId: string
  readonly verifySignatures: boolean
  readonly seed: number
  readonly clock: ClockView
  readonly pools: ReadonlyArray<{ readonly poolKey: string; readonly size: number; readonly numbers: ReadonlyArray<string> }>
  readonly bindings: { readonly count: number; readonly truncated: boolean; readonly items: ReadonlyArray<BindingView> }
  readonly faults: Readonly<Record<string, FaultSpec>>
  readonly rememberedNonces: number
}

const STATE_VIEW_LIMIT = 1000

export class EmulatorCore {
  readonly options: ResolvedOptions
  readonly clock = new EmulatorClock()
  readonly state: BindingState
  /** ChatApp sender numbers by CustSpaceId (cams, served beside Dyplsapi). */
  readonly chatapp = new ChatappState()
  readonly faultTable: FaultTable
  readonly nonces: NonceStore
  readonly stats = new Stats()
  /** Actions the emulator plays as not served (InvalidAction.NotFound), like Aliyun's withdrawn QueryCallStatus. */
  readonly withdrawn = new Set<string>()
  random: () => number

  constructor(options: ResolvedOptions) {
    this.options = options
    this.state = new BindingState({ pools: options.pools, expiredRetentionMs: options.expiredRetentionMs })
    this.nonces = new NonceStore(TIMESTAMP_WINDOW_MS, options.maxNonces)
    this.random = makeRandom(options.seed)
    this.faultTable = new FaultTable(options.faults, faultTargetError)
    for (const action of options.withdrawnActions) this.withdrawn.add(action)
  }

  /** Back to just-started: no bindings, start faults, clock offset 0, fresh PRNG, nonces and stats. */
  reset(): void {
    this.state.clear()
    this.chatapp.clear()
    this.faultTable.reset()
    this.nonces.clear()
    this.clock.reset()
    this.random = makeRandom(this.options.seed)
    this.stats.reset()
    this.withdrawn.clear()
    for (const action of this.options.withdrawnActions) this.withdrawn.add(action)
  }

  /** Serves an action again, or withdraws it (it then answers InvalidAction.NotFound). */
  setServed(action: string, served: boolean): { readonly action: string; readonly served: boolean } {
    if (!ACTION_NAMES.includes(action)) throw new EmulatorControlError(404, "UnknownAction", `unknown action ${JSON.stringify(action)}`)
    if (served) this.withdrawn.delete(action)
    else this.withdrawn.add(action)
    return { action, served }
  }

  /** Locks (2) or freezes (3) an X as QuerySecretNoDetail reports it, or with null makes it usable again. */
  setSecretStatus(secretNo: string, status: 2 | 3 | null): { readonly secretNo: string; readonly secretStatus: 2 | 3 | null } {
    const r = this.state.setSecretStatus(secretNo, status ?? undefined)
    if (!r.ok) throw new EmulatorControlError(404, r.code, r.message)
    return { secretNo, secretStatus: status }
  }

  /** Adds a WhatsApp sender number to a CustSpaceId, or changes its states. */
  setChatappNumber(custSpaceId: string, phoneNumber: string, patch: ChatappNumberPatch): ChatappNumber {
    const r = this.chatapp.setNumber(custSpaceId, phoneNumber, patch)
    if (!r.ok) throw new EmulatorControlError(400, r.code, r.message)
    return r.value
  }

  removeChatappNumber(custSpaceId: string, phoneNumber: string): void {
    const r = this.chatapp.removeNumber(custSpaceId, phoneNumber)
    if (!r.ok) throw new EmulatorControlError(404, r.code, r.message)
  }

  chatappNumbers(custSpaceId: string): ReadonlyArray<ChatappNumber> {
    const numbers = this.chatapp.numbers(custSpaceId)
    if (numbers === undefined) throw new EmulatorControlError(404, "Unknown.ResourceOwnerId", `no ChatApp space ${JSON.stringify(custSpaceId)}`)
    return numbers
  }

  setFault(action: string, spec: unknown): FaultSpec {
    return this.faultTable.set(action, spec)
  }

  clearFaults(action?: string): void {
    this.faultTable.clear(action)
  }

  createBinding(input: CreateBindingInput): CreatedBinding {
    const now = this.clock.now()
    const bound = this.state.bindFor(
      {
        mode: input.mode,
        poolKey: input.poolKey ?? DEMO_POOL_KEY,
        phoneNoA: input.phoneNoA,
        phoneNoB: input.phoneNoB,
        phoneNoX: input.phoneNoX,
        extension: input.extension
      },
      input.ttlSeconds * 1000,
      now
    )
    if (!bound.ok) throw new EmulatorControlError(bound.code === "isv.NO_AVAILABLE_NUMBER" || bound.code === "isv.BIND_CONFLICT" ? 409 : 400, bound.code, bound.message)
    const { subsId, secretNo, extension, expiresAt } = bound.value
    return { subsId, poolKey: input.poolKey ?? DEMO_POOL_KEY, phoneNoX: secretNo, extension, expireDate: formatBeijing(expiresAt - this.clock.offset) }
  }

  setCallStatus(subsId: string, override: CallStatusOverride): CallFault | undefined {
    const fault = override.status === null ? undefined : override.status === 3 ? { status: 3 as const } : { status: 2 as const, temporaryX: override.temporaryX }
    const r = this.state.setCallFault(subsId, fault, this.clock.now())
    if (!r.ok) throw new EmulatorControlError(r.code === "isv.SUBS_NOT_EXIST" ? 404 : r.code === "isv.NO_AVAILABLE_NUMBER" ? 409 : 400, r.code, r.message)
    return r.value
  }

  advanceClock(seconds: number): ClockView {
    this.clock.advanceBy(seconds)
    return this.clockView()
  }

  clockView(): ClockView {
    return this.clock.view()
  }

  binding(subsId: string): BindingView {
    const now = this.clock.now()
    const b = this.state.get(subsId, now)
    if (b === undefined) throw new EmulatorControlError(404, "isv.SUBS_NOT_EXIST", `no binding ${subsId}`)
    return bindingView(b, now, this.clock.offset)
  }

  stateView(): StateView {
    const now = this.clock.now()
    const items = this.state.list(now, STATE_VIEW_LIMIT + 1)
    return {
      accessKeyId: this.options.accessKeyId,
      verifySignatures: this.options.verifySignatures,
      seed: this.options.seed,
      clock: this.clockView(),
      pools: this.state.poolList().map((p) => ({ poolKey: p.poolKey, size: p.numbers.length, numbers: p.numbers })),
      bindings: {
        count: this.state.bindingCount(),
        truncated: items.length > STATE_VIEW_LIMIT,
        items: items.slice(0, STATE_VIEW_LIMIT).map((b) => bindingView(b, now, this.clock.offset))
      },
      faults: Object.fromEntries(this.faultTable.specs),
      rememberedNonces: this.nonces.size
    }
  }

  statsView(): StatsView {
    return this.stats.view()
  }
}

const bindingView = (b: Binding, now: number, wireOffsetMs: number): BindingView => ({
  subsId: b.subsId,
  poolKey: b.poolKey,
  mode: b.mode,
  phoneNoA: b.phoneNoA,
  phoneNoB: b.phoneNoB,
  phoneNoX: b.phoneNoX,
  extension: b.extension,
  status: now < b.expiresAt ? "in-effect" : "expired",
  expiresInSeconds: Math.round((b.expiresAt - now) / 1000),
  expireDate: formatBeijing(b.expiresAt - wireOffsetMs),
  gmtCreate: formatBeijing(b.createdAt - wireOffsetMs),
  callFault: b.callFault
})
