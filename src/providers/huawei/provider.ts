/**
 * The Huawei privacy-call adapter behind the provider interface (shared/providers/huawei.md §3, §6).
 * Huawei has no status query: `evidence` gathers what precall knows locally (the binding cache
 * written at bind, the X status from `numStatus` pushes, the binding's last call, the last
 * account-level refusal) and asks the platform only when the binding is not cached or about to
 * expire; the pure table in evidence.ts reads the facts. Numbers go out as E.164 `+86` and come back
 * in precall's national form, so a decision dials what the request and the binding used.
 */
import { Clock, Effect, Layer, Option, Ref } from "effect"
import type { HttpClient } from "effect/http"
import type { BindingMode } from "../../domain/binding.ts"
import { type ErrorClass, LocalCodes, ProviderError } from "../../domain/errors.ts"
import { maskPhone } from "../../domain/phone.ts"
import { EvidenceStore, type EvidenceStoreShape, makeEvidenceStore } from "../../evidence/EvidenceStore.ts"
import { defaults } from "../../policy/settings.ts"
import { noRedis } from "../../redis/SharedRedis.ts"
import type { BindingDetail, BindingRef, BindRequest, EvidenceProvider, NewBinding, StatusQuery } from "../Provider.ts"
import { PrivacyNumberProvider } from "../Provider.ts"
import { HUAWEI_PROVIDER, huaweiActions, type HuaweiClient, type HuaweiClientConfig, makeHuaweiClient } from "./client.ts"
import { huaweiCodeKind } from "./codes.ts"
import { type BindingQueryFact, huaweiEvidence, needsBindingQuery, X_REFUSED_STATUS } from "./evidence.ts"
import { fromHuaweiNumber, toHuaweiNumber } from "./numbers.ts"

export interface HuaweiProviderConfig extends HuaweiClientConfig {
  /**
   * City code (`0755`, `010`) whose X numbers a new binding takes when no X is given
   * (PRECALL_HUAWEI_AREA_CODE). Sent with `areaMatchMode` "1": same province, then any X of the app,
   * rather than failing, or staying on the broken X being moved away from.
   */
  readonly areaCode?: string | undefined
}

/** Huawei's longest AXB binding (§3.1): 90 days. */
const MAX_DURATION_S = 7_776_000
/**
 * A sign that the account is blocked (a refusal 1010007 / 1010008 / 1010029, or a call torn down with
 * stateCode 7108) is believed this long; after it the next decision asks the platform again, and a
 * successful reply outdates it. Without the re-check a blocked account would never be seen paid: no
 * call is placed while nothing is dialable, so no newer call would ever replace the 7108.
 */
export const ACCOUNT_RECHECK_MS = 60_000
/** A direction fix is claimed per refused call for as long as the store keeps a binding's last call. */
const DIRECTION_CLAIM_MS = 24 * 3600 * 1000

/**
 * The account's state in the shared evidence store, so every instance knows what one instance's
 * call was told: kept as the "X status" of the AXB app key under this provider name (one record:
 * the last refusal code, or `ok` once a re-check succeeded).
 */
const ACCOUNT_STORE = "huawei-account"
const ACCOUNT_OK = "ok"

/** A sign that the account is blocked: the code and when it came. */
interface AccountSignal {
  readonly code: string
  readonly at: number
}

/** Huawei's two binding APIs: AX serves Aliyun's AXN too (X dedicated to A). */
type HuaweiMode = "AXB" | "AX"
const huaweiModeOf = (mode: BindingMode | string | undefined): HuaweiMode | undefined =>
  mode === "AXB" ? "AXB" : mode === "AX" || mode === "AXN" ? "AX" : undefined

/** What a binding query found. */
type Lookup =
  | {
    readonly _tag: "Found"
    readonly mode: HuaweiMode
    readonly phoneNoX: string
    readonly phoneNoA: string | undefined
    readonly phoneNoB: string | undefined
    /** Seconds; 0 never expires (AX always). */
    readonly durationS: number | undefined
  }
  | { readonly _tag: "Gone"; readonly code: string }

/** Our code for a successful query that lists no binding (Huawei documents 1012007 for no match; an empty list is read the same). */
const NO_BINDING = "Reply.NoBinding"

const refusal = (action: string, code: string, errorClass: ErrorClass, message: string) =>
  new ProviderError({ provider: HUAWEI_PROVIDER, action, code, errorClass, message })

const isGone = (e: ProviderError) => huaweiCodeKind(e.code) === "binding-gone"
const isAccountBlocked = (e: ProviderError) => huaweiCodeKind(e.code) === "account-blocked"
const isXBroken = (e: ProviderError) => huaweiCodeKind(e.code) === "x-broken"

/** The provider's names for its actions: the engine keys limits, breakers and metrics by them. */
export const huaweiProviderActions = {
  queryCallStatus: "BindingEvidence",
  bindingDetail: "BindingQuery",
  bind: (mode: BindingMode) => (huaweiModeOf(mode) === "AX" ? huaweiActions.axBind : huaweiActions.axbBind),
  unbind: "Unbind"
}

/** The provider interface, plus AXB modify; Huawei bindings can always be removed. */
export interface HuaweiProvider extends EvidenceProvider {
  readonly unbind: (ref: BindingRef) => Effect.Effect<void, ProviderError>
  readonly modify: (subsId: string, change: { readonly callDirection?: 0 | 1 | 2; readonly durationS?: number }) => Effect.Effect<void, ProviderError>
}

/**
 * The Huawei provider over the HttpClient in context. It keeps its binding cache in the
 * EvidenceStore in context (the one the engine and the push route share), or in one of its own
 * when none is provided.
 */
export const makeHuaweiProvider = (config: HuaweiProviderConfig): Effect.Effect<HuaweiProvider, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client: HuaweiClient = yield* makeHuaweiClient(config)
    const store: EvidenceStoreShape = Option.getOrUndefined(yield* Effect.serviceOption(EvidenceStore)) ??
      makeEvidenceStore({ xFailureThreshold: defaults.xFailureThreshold, xFailureWindowS: defaults.xFailureWindowS }, noRedis)
    const axConfigured = config.ax !== undefined
    /** What this instance's own calls said of the account: the last account-level refusal, and the time of the last success. */
    const account = yield* Ref.make<{ readonly refusal: AccountSignal | undefined; readonly okAt: number }>({ refusal: undefined, okAt: -Infinity })

    /** The account's state for every instance: the last refusal, or that a re-check succeeded. */
    const shareAccount = (status: string, at: number) =>
      store.recordXStatus(ACCOUNT_STORE, config.axb.appKey, { availability: status === ACCOUNT_OK ? "available" : "unavailable", status, cause: null, at })

    /**
     * Every call teaches whether the account is usable: a success outdates every earlier signal of
     * this instance; a refusal is remembered here and in the shared store.
     */
    const watched = <A>(effect: Effect.Effect<A, ProviderError>): Effect.Effect<A, ProviderError> =>
      effect.pipe(
        Effect.tap(() => Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(account, (a) => ({ ...a, okAt: at })))),
        Effect.tapError((e) =>
          isAccountBlocked(e)
            ? Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.andThen(Ref.update(account, (a) => ({ ...a, refusal: { code: e.code, at } })), shareAccount(e.code, at)))
            : Effect.void
        )
      )

    /**
     * §6 rule 3: a bind or modify refused with 1012102 says the X is abnormal or blacklisted. It is
     * recorded in the shared store as the X's status, so every later decision on it (any instance)
     * moves off it, until a `numStatus` push says otherwise.
     */
    const markingX = <A>(x: string | undefined, effect: Effect.Effect<A, ProviderError>): Effect.Effect<A, ProviderError> =>
      x === undefined ? effect : Effect.tapError(effect, (e) =>
        isXBroken(e) ? store.recordXStatus(HUAWEI_PROVIDER, x, { availability: "unavailable", status: X_REFUSED_STATUS, cause: null }) : Effect.void)

    const axbLookup = (subsId: string): Effect.Effect<Lookup, ProviderError> =>
      watched(client.axbQuery(subsId)).pipe(
        Effect.map(({ relationNumList: [b] }): Lookup =>
          b === undefined ? { _tag: "Gone", code: NO_BINDING } : {
            _tag: "Found", mode: "AXB", phoneNoX: fromHuaweiNumber(b.relationNum) ?? b.relationNum,
            phoneNoA: fromHuaweiNumber(b.callerNum ?? ""), phoneNoB: fromHuaweiNumber(b.calleeNum ?? ""), durationS: b.duration
          }),
        Effect.catchIf(isGone, (e) => Effect.succeed<Lookup>({ _tag: "Gone", code: e.code }))
      )
    const axLookup = (subsId: string): Effect.Effect<Lookup, ProviderError> =>
      watched(client.axQuery(subsId)).pipe(
        Effect.map(({ privateNumList: [b] }): Lookup =>
          b === undefined ? { _tag: "Gone", code: NO_BINDING } : {
            _tag: "Found", mode: "AX", phoneNoX: fromHuaweiNumber(b.privateNum) ?? b.privateNum,
            phoneNoA: fromHuaweiNumber(b.origNum ?? ""), phoneNoB: undefined, durationS: 0
          }),
        Effect.catchIf(isGone, (e) => Effect.succeed<Lookup>({ _tag: "Gone", code: e.code }))
      )
    /**
     * The binding by its subscriptionId, on the API of its mode when the cache knows it; else AXB
     * first and, when that knows no such binding and an AX app is configured, AX.
     */
    const lookup = (subsId: string, mode: HuaweiMode | undefined): Effect.Effect<Lookup, ProviderError> =>
      mode === "AX"
        ? axLookup(subsId)
        : mode === "AXB" || !axConfigured
        ? axbLookup(subsId)
        : Effect.flatMap(axbLookup(subsId), (r) => (r._tag === "Gone" ? axLookup(subsId) : Effect.succeed(r)))

    const evidence = (q: StatusQuery) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const [cached, xStatus, lastCall, mine, shared] = yield* Effect.all([
          store.binding(HUAWEI_PROVIDER, q.subsId),
          store.xStatus(HUAWEI_PROVIDER, q.phoneNoX),
          store.lastCall(HUAWEI_PROVIDER, q.subsId),
          Ref.get(account),
          store.xStatus(ACCOUNT_STORE, config.axb.appKey)
        ], { concurrency: "unbounded" })
        // what any instance learnt: a refusal, or a later successful re-check
        const known = {
          refusal: shared !== undefined && shared.status !== ACCOUNT_OK && (mine.refusal === undefined || shared.at > mine.refusal.at)
            ? { code: shared.status, at: shared.at }
            : mine.refusal,
          okAt: Math.max(mine.okAt, shared?.status === ACCOUNT_OK ? shared.at : -Infinity)
        }
        // the newest sign of a blocked account not outdated by a later success: a refusal, or a call torn down with 7108
        const signal = [known.refusal, lastCall?.code === "stateCode:7108" ? { code: lastCall.code, at: lastCall.at } : undefined]
          .filter((x): x is AccountSignal => x !== undefined && x.at > known.okAt)
          .sort((a, b) => b.at - a.at)[0]
        let accountBlocked = signal !== undefined && now - signal.at < ACCOUNT_RECHECK_MS ? signal.code : undefined
        let query: BindingQueryFact | undefined
        let mode = huaweiModeOf(cached?.mode)
        // an older sign is checked again with the one query, even when the cache needs none
        if (accountBlocked === undefined && (needsBindingQuery(cached, now) || signal !== undefined)) {
          const found = yield* lookup(q.subsId, huaweiModeOf(cached?.mode)).pipe(
            Effect.map((r) => ({ r, refusedWith: undefined })),
            Effect.catchIf(isAccountBlocked, (e) => Effect.succeed({ r: undefined, refusedWith: e.code }))
          )
          accountBlocked = found.refusedWith
          // a re-check the platform answered: every instance stops believing the older sign
          if (signal !== undefined && found.refusedWith === undefined) yield* shareAccount(ACCOUNT_OK, yield* Clock.currentTimeMillis)
          if (found.r?._tag === "Gone") query = { _tag: "Gone", code: found.r.code }
          else if (found.r?._tag === "Found") {
            query = { _tag: "InEffect" }
            mode = found.r.mode
            // A binding that never expires is cached from the query; a timed one is not, since the
            // timezone of `subscribeTime` is unconfirmed (§8) and a wrong expiry would rebind a live binding.
            if (cached === undefined && (found.r.durationS ?? 0) === 0) {
              yield* store.rememberBinding({ provider: HUAWEI_PROVIDER, subsId: q.subsId, phoneNoX: found.r.phoneNoX, mode: found.r.mode, durationS: 0 })
            }
          }
        }
        const read = huaweiEvidence({
          now, accountBlocked, query,
          cached: cached === undefined ? undefined : { expiresAt: cached.expiresAt },
          xStatus: xStatus === undefined ? undefined : { status: xStatus.status, cause: xStatus.cause, at: xStatus.at },
          lastCallCode: lastCall?.code
        }, undefined)
        // §6 rule 5: the last call was refused for its direction: open the AXB binding both ways, once
        // per such call (the claim is the call's time), then dial X. A failed PUT still dials X: the
        // next refused call tries again.
        if (
          read.verdict._tag !== "UseX" || lastCall?.code !== "stateCode:8016" || mode !== "AXB" ||
          !(yield* store.firstSeen(`huawei:direction:${q.subsId}:${lastCall.at}`, DIRECTION_CLAIM_MS))
        ) return read
        const opened = yield* modifyOn(q.subsId, { callDirection: 0 }, q.phoneNoX).pipe(
          Effect.as(true),
          Effect.catch((e) => Effect.as(Effect.logWarning({ msg: "callDirection 0 not set", provider: HUAWEI_PROVIDER, code: e.code }), false))
        )
        return { ...read, source: `${read.source}; last call: stateCode 8016 (direction not allowed), ${opened ? "callDirection set to 0" : "setting callDirection 0 failed"}` }
      })

    const bindingDetail = (ref: BindingRef): Effect.Effect<BindingDetail, ProviderError> =>
      Effect.gen(function*() {
        const cached = yield* store.binding(HUAWEI_PROVIDER, ref.subsId)
        const r = yield* lookup(ref.subsId, huaweiModeOf(cached?.mode))
        if (r._tag === "Gone") {
          return yield* refusal(huaweiProviderActions.bindingDetail, r.code, "binding", `binding query: no such binding (${r.code})`)
        }
        return {
          subsId: ref.subsId, phoneNoA: r.phoneNoA, phoneNoB: r.phoneNoB, phoneNoX: r.phoneNoX, extension: undefined,
          mode: r.mode, active: true, requestId: undefined
        }
      })

    /** A party as Huawei's E.164, or a bad-input refusal naming only its last digits. */
    const wire = (action: string, party: string, n: string | undefined) =>
      n !== undefined && toHuaweiNumber(n) !== undefined
        ? Effect.succeed(toHuaweiNumber(n)!)
        : Effect.fail(refusal(action, "Local.BadNumber", "bad-input", `${party} ${n === undefined ? "is missing" : `${maskPhone(n)} is not a mainland mobile or fixed-line number`}`))

    const bind = (req: BindRequest): Effect.Effect<NewBinding, ProviderError> =>
      Effect.gen(function*() {
        const mode = huaweiModeOf(req.mode)
        const action = huaweiProviderActions.bind(req.mode)
        if (mode === undefined) return yield* refusal(action, "Local.UnsupportedMode", "bad-input", `Huawei binds AXB and AX, not ${req.mode}`)
        const now = yield* Clock.currentTimeMillis
        const callerNum = yield* wire(action, "party A", req.phoneNoA)
        const avoided = req.avoidX ?? []
        // an X to bind on: one the request names and does not ask to avoid; else the platform picks by area
        const givenX = req.phoneNoX !== undefined && !avoided.includes(req.phoneNoX) ? toHuaweiNumber(req.phoneNoX) : undefined
        // §6 rule 2: an expired binding is made again on its own X while that X is healthy, so the parties keep the number they know
        const previousX = givenX === undefined && req.previousX !== undefined && !avoided.includes(req.previousX) && (yield* healthyX(req.previousX))
          ? toHuaweiNumber(req.previousX)
          : undefined
        const byArea = { areaCode: config.areaCode, areaMatchMode: "1" as const }
        /** On `x` when there is one; when the platform refuses it outright (taken, pair there already), once more by area. */
        const onXElseByArea = <A>(x: string | undefined, send: (x: string | undefined) => Effect.Effect<A, ProviderError>) =>
          x === undefined
            ? send(undefined)
            : givenX !== undefined
            ? send(x)
            : Effect.catchIf(send(x), (e) => e.errorClass === "pool" || e.errorClass === "binding", () => send(undefined))
        if (mode === "AXB") {
          const calleeNum = yield* wire(action, "party B", req.phoneNoB)
          const durationS = Math.min(MAX_DURATION_S, Math.max(1, Math.ceil((req.expiresAt - now) / 1000)))
          const r = yield* onXElseByArea(givenX ?? previousX, (x) =>
            markingX(x, watched(client.axbBind({ callerNum, calleeNum, relationNum: x, ...(x === undefined ? byArea : {}), duration: durationS }))))
          return yield* bound(action, "AXB", r.subscriptionId, r.relationNum, durationS, now)
        }
        // AX bindings never expire: a short second binding would outlive the break it stands in for
        if (req.temporary === true) {
          return yield* refusal(action, "Local.AxNeverExpires", "bad-input", "AX bindings never expire: no short second binding can stand in for a temporary X")
        }
        const r = yield* onXElseByArea(givenX ?? previousX, (x) =>
          markingX(x, watched(client.axBind({
            origNum: callerNum, privateNum: x, ...(x === undefined ? { ...byArea, privateNumType: "mobile-virtual" as const } : {}),
            calleeNumDisplay: "0" // carriers require X to be shown to A
          }))))
        return yield* bound(action, "AX", r.subscriptionId, r.privateNum, 0, now)
      })

    /** No push or refusal has marked the X unusable (none received: assume normal, §6 note 2). */
    const healthyX = (phoneNoX: string): Effect.Effect<boolean> =>
      Effect.map(store.xStatus(HUAWEI_PROVIDER, phoneNoX), (x) => x === undefined || x.availability === "available")

    /** The new binding, remembered with its computed expiry. */
    const bound = (action: string, mode: HuaweiMode, subsId: string, x: string, durationS: number, at: number) =>
      Effect.gen(function*() {
        const phoneNoX = fromHuaweiNumber(x)
        if (phoneNoX === undefined) return yield* refusal(action, LocalCodes.malformed, "transient", `bind reply: the X ${maskPhone(x)} is not a mainland number`)
        yield* store.rememberBinding({ provider: HUAWEI_PROVIDER, subsId, phoneNoX, mode, durationS, at })
        return { subsId, phoneNoX, extension: undefined, requestId: undefined }
      })

    /** Removes a binding; one Huawei no longer knows is gone already. */
    const unbind = (ref: BindingRef): Effect.Effect<void, ProviderError> =>
      Effect.gen(function*() {
        const cached = yield* store.binding(HUAWEI_PROVIDER, ref.subsId)
        const mode = huaweiModeOf(cached?.mode)
        const axb = watched(client.axbUnbind(ref.subsId)).pipe(Effect.as(true), Effect.catchIf(isGone, () => Effect.succeed(false)))
        const ax = watched(client.axUnbind(ref.subsId)).pipe(Effect.asVoid, Effect.catchIf(isGone, () => Effect.void))
        if (mode === "AX") yield* ax
        else if (mode === "AXB" || !axConfigured) yield* axb
        else if (!(yield* axb)) yield* ax
        yield* store.forgetBinding(HUAWEI_PROVIDER, ref.subsId)
      })

    /**
     * AXB modify (PUT): a new duration restarts the binding's clock from now (§3.1), and the cache says
     * so. A 1012102 refusal marks the binding's X (the cached one, else `x`) broken.
     */
    const modifyOn = (subsId: string, change: { readonly callDirection?: 0 | 1 | 2; readonly durationS?: number }, x: string | undefined) =>
      Effect.gen(function*() {
        const at = yield* Clock.currentTimeMillis
        const before = yield* store.binding(HUAWEI_PROVIDER, subsId)
        yield* markingX(
          before?.phoneNoX ?? x,
          watched(client.axbModify({ subscriptionId: subsId, callDirection: change.callDirection, duration: change.durationS }))
        )
        const cached = yield* store.binding(HUAWEI_PROVIDER, subsId)
        if (change.durationS !== undefined && cached !== undefined) {
          yield* store.rememberBinding({ provider: HUAWEI_PROVIDER, subsId, phoneNoX: cached.phoneNoX, mode: cached.mode, durationS: change.durationS, at })
        }
      })

    const modify = (subsId: string, change: { readonly callDirection?: 0 | 1 | 2; readonly durationS?: number }) => modifyOn(subsId, change, undefined)

    return {
      name: HUAWEI_PROVIDER,
      endpoint: config.endpoint,
      actions: huaweiProviderActions,
      evidence,
      bindingDetail,
      bind,
      unbind,
      modify
    }
  })

/** The Huawei provider as the default provider, over the HttpClient in context (provide NodeHttpClient.layerUndici). */
export const huaweiProviderLayer = (config: HuaweiProviderConfig): Layer.Layer<PrivacyNumberProvider, never, HttpClient.HttpClient> =>
  Layer.effect(PrivacyNumberProvider, makeHuaweiProvider(config))
