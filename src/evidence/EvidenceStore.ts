/**
 * What precall learns between decisions, kept where every instance sees it: X status from provider
 * pushes, the binding cache (written at bind / modify, expiry computed), the last call outcome per
 * binding, and per-X health from a sliding window of call-outcome classes. A push or an outcome
 * received by one instance informs the next decision of every instance.
 *
 * Redis when configured (through SharedRedis, so a Redis outage falls back to memory like the status
 * cache does), bounded memory otherwise. Every write also lands in this instance's memory, so an
 * instance that loses Redis still knows what it was told itself. Redis keys are HMAC digests and
 * values are sealed (src/redis/sealed.ts): a value written by anyone without the secret is rejected
 * and counted (`precall_shared_state_rejected_total{kind}`).
 * Times come from effect's Clock.
 */
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"
import * as Redis from "effect/persistence/Redis"
import { randomUUID } from "node:crypto"
import type { Settings } from "../policy/settings.ts"
import { rejectedSharedValue } from "../redis/sealed.ts"
import { SharedRedis, type SharedRedisShape, unavailable } from "../redis/SharedRedis.ts"
import { makeTtlMap } from "../cache/TtlMap.ts"
import { normalizePhone } from "../domain/phone.ts"
import { marksX, OutcomeClass } from "./classes.ts"

/**
 * - available: the X works
 * - unavailable: no calls, no new bindings (Huawei status 9 paused / 10 unavailable)
 * - bindings-frozen: existing bindings still call, but the X takes no new binding (Huawei status 11)
 */
export const XAvailability = Schema.Literals(["available", "unavailable", "bindings-frozen"])
export type XAvailability = typeof XAvailability.Type

/** The last status pushed for an X. */
export const XStatusRecord = Schema.Struct({
  availability: XAvailability,
  /** The provider's own status code (Huawei `numStatus` `status`, e.g. "10"). */
  status: Schema.String,
  /** The provider's cause code, when it sent one (Huawei: "1" deleted ... "9" busy forwarding). */
  cause: Schema.NullOr(Schema.String),
  /** Epoch ms when precall received it. */
  at: Schema.Number
})
export type XStatusRecord = typeof XStatusRecord.Type

/** A binding as precall made or changed it. No party numbers: the shared store never holds a real number. */
export const BindingRecord = Schema.Struct({
  provider: Schema.String,
  subsId: Schema.String,
  phoneNoX: Schema.String,
  /** The provider's mode name, e.g. `AXB`, `AX`. */
  mode: Schema.String,
  /** Epoch ms of the bind or of the last modify that set a duration (Huawei restarts the clock then). */
  boundAt: Schema.Number,
  /** Lifetime in seconds from `boundAt`; 0 never expires. */
  durationS: Schema.Number,
  /** Epoch ms; null when it never expires. */
  expiresAt: Schema.NullOr(Schema.Number)
})
export type BindingRecord = typeof BindingRecord.Type

/** How the last call on a binding ended. */
export const CallOutcomeRecord = Schema.Struct({
  outcomeClass: OutcomeClass,
  /** The code it was classified from, e.g. `q850:17`, `stateCode:8014`, `reasonCode:5`. */
  code: Schema.String,
  at: Schema.Number
})
export type CallOutcomeRecord = typeof CallOutcomeRecord.Type

export interface XHealth {
  /** True when `numberFailures` reached the threshold within the window: rebind onto another X. */
  readonly unhealthy: boolean
  readonly numberFailures: number
  readonly threshold: number
  readonly windowS: number
  /** Outcomes in the window by class. */
  readonly counts: Readonly<Record<OutcomeClass, number>>
}

export interface BindingInput {
  readonly provider: string
  readonly subsId: string
  readonly phoneNoX: string
  readonly mode: string
  /** Seconds; 0 or absent: never expires. */
  readonly durationS?: number | undefined
  /** Epoch ms of the bind or modify; default now. */
  readonly at?: number | undefined
}

export interface OutcomeInput {
  readonly provider: string
  readonly phoneNoX: string
  readonly subsId?: string | undefined
  readonly outcomeClass: OutcomeClass
  readonly code: string
  /** When the call ended (epoch ms); default now. Outcomes older than the window do not count. */
  readonly at?: number | undefined
  /** Identity of the call (CDR session, CEC serial); the same call counted once. Default: a fresh id. */
  readonly callId?: string | undefined
}

export interface EvidenceStoreShape {
  readonly recordXStatus: (provider: string, phoneNoX: string, status: Omit<XStatusRecord, "at"> & { readonly at?: number }) => Effect.Effect<void>
  /** Undefined when no push was ever received for the X (Huawei: assume normal). */
  readonly xStatus: (provider: string, phoneNoX: string) => Effect.Effect<XStatusRecord | undefined>
  readonly rememberBinding: (binding: BindingInput) => Effect.Effect<BindingRecord>
  readonly binding: (provider: string, subsId: string) => Effect.Effect<BindingRecord | undefined>
  readonly forgetBinding: (provider: string, subsId: string) => Effect.Effect<void>
  /** Adds an outcome to its X's window and keeps it as its binding's last call. */
  readonly recordOutcome: (outcome: OutcomeInput) => Effect.Effect<void>
  /**
   * The X's health from the outcomes in the window that ends at `now`: the caller's clock reading
   * when it has one (the engine does), else the fiber's Clock. Kept in memory only (no shared
   * Redis), it is answered at once, as an exit, which lets the engine read a decision that needs no
   * provider call without running it as a fiber (engine/timeout.ts).
   */
  readonly xHealth: (provider: string, phoneNoX: string, now?: number) => Effect.Effect<XHealth>
  readonly lastCall: (provider: string, subsId: string) => Effect.Effect<CallOutcomeRecord | undefined>
  /** True the first time an event id is offered within `ttlMs`, false for a repeat (re-push). */
  readonly firstSeen: (eventId: string, ttlMs: number) => Effect.Effect<boolean>
  /** Values rejected because their seal did not verify, since start. */
  readonly forgedRejected: Effect.Effect<number>
}

export class EvidenceStore extends Context.Service<EvidenceStore, EvidenceStoreShape>()("precall/EvidenceStore") {}

export interface EvidenceOptions {
  /** Number-class failures on an X within the window that make it unhealthy (PRECALL_X_FAILURE_THRESHOLD). */
  readonly xFailureThreshold: number
  /** The window, in seconds (PRECALL_X_FAILURE_WINDOW_S). */
  readonly xFailureWindowS: number
}

/** Entries kept in memory per kind; every entry is small (< 300 bytes). */
const memoryCapacity = 10_000
/** Outcomes kept per X: far above any sensible threshold. */
const windowCapacity = 100
const day = 24 * 3600 * 1000
/** An X status is kept this long after its push: pushes come only on change. */
const xStatusTtlMs = 30 * day
/** A binding record outlives its expiry by a day (so "expired" is known), or this long when it never expires. */
const openBindingTtlMs = 90 * day
const lastCallTtlMs = day

/** Reads a payload; one that does not decode (another version's) is absent. */
type Decode<A> = (payload: string) => A | undefined
const XStatusJson: Decode<XStatusRecord> = (p) => Option.getOrUndefined(Schema.decodeUnknownOption(Schema.fromJsonString(XStatusRecord))(p))
const BindingJson: Decode<BindingRecord> = (p) => Option.getOrUndefined(Schema.decodeUnknownOption(Schema.fromJsonString(BindingRecord))(p))
const LastCallJson: Decode<CallOutcomeRecord> = (p) => Option.getOrUndefined(Schema.decodeUnknownOption(Schema.fromJsonString(CallOutcomeRecord))(p))

interface WindowEntry {
  readonly outcomeClass: OutcomeClass
  readonly at: number
  readonly id: string
}

/** A window member: class and call id (its time is the score); the same call reported again is the same member. */
const memberOf = (e: WindowEntry): string => `${e.outcomeClass}|${e.id}`
const entryOf = (member: string, at: number): WindowEntry | undefined => {
  const bar = member.indexOf("|")
  const outcomeClass = Schema.decodeUnknownOption(OutcomeClass)(member.slice(0, bar))
  return bar > 0 && Option.isSome(outcomeClass) && Number.isFinite(at) ? { outcomeClass: outcomeClass.value, at, id: member.slice(bar + 1) } : undefined
}

/** A WITHSCORES reply: pairs under RESP3, a flat member-score list under RESP2. */
type WithScores = ReadonlyArray<string | number | readonly [string, string | number]>
const pairsOf = (reply: WithScores): ReadonlyArray<readonly [string, string | number]> => {
  if (reply.every((r) => Array.isArray(r))) return reply as ReadonlyArray<readonly [string, string | number]>
  const out: Array<readonly [string, string | number]> = []
  for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), reply[i + 1] as string | number])
  return out
}

/** Adds a member, drops those out of the window or beyond the cap, and sets the key's lifetime. */
const addToWindow = Redis.script(
  (key: string, score: number, member: string, cutoff: number, cap: number, ttlMs: number) => [key, score, member, cutoff, cap, ttlMs],
  {
    numberOfKeys: 1,
    lua: `redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`
  }
)

const px = (ms: number): string => String(Math.max(1, Math.ceil(ms)))

const bindingRecordOf = (b: BindingInput, now: number): BindingRecord => {
  const boundAt = b.at ?? now
  const durationS = b.durationS ?? 0
  return { provider: b.provider, subsId: b.subsId, phoneNoX: b.phoneNoX, mode: b.mode, boundAt, durationS, expiresAt: durationS > 0 ? boundAt + durationS * 1000 : null }
}

const emptyCounts = (): Record<OutcomeClass, number> => ({ number: 0, callee: 0, transient: 0, normal: 0, other: 0 })

const noEntries: ReadonlyArray<WindowEntry> = Object.freeze([])

/** A bounded map of windows; the X written longest ago makes room. */
const makeWindows = () => {
  const windows = new Map<string, Array<WindowEntry>>()
  return {
    add: (key: string, entry: WindowEntry, cutoff: number) => {
      const kept = (windows.get(key) ?? []).filter((e) => e.at >= cutoff && memberOf(e) !== memberOf(entry))
      kept.push(entry)
      windows.delete(key)
      windows.set(key, kept.slice(-windowCapacity))
      if (windows.size > memoryCapacity) windows.delete(windows.keys().next().value!)
    },
    get: (key: string, cutoff: number): ReadonlyArray<WindowEntry> => windows.get(key)?.filter((e) => e.at >= cutoff) ?? noEntries
  }
}

export const makeEvidenceStore = (options: EvidenceOptions, shared: SharedRedisShape): EvidenceStoreShape => {
  // key names and seals under the instances' shared secret, as every shared value (src/redis/sealed.ts)
  const { sealer } = shared
  const windowMs = options.xFailureWindowS * 1000
  // Without Redis nothing leaves the process, so the in-memory maps are keyed by the plain text
  // (an HMAC per lookup, on every decision's X-health check, buys nothing there): each part after
  // its length, which keeps keys of different parts apart as JSON did, for a tenth of its cost.
  const key = shared.redis === undefined
    ? (kind: string, ...parts: ReadonlyArray<string>) => {
      let k = `ev:${kind}`
      for (const part of parts) k += `:${part.length}:${part}`
      return k
    }
    : (kind: string, ...parts: ReadonlyArray<string>) => `${shared.prefix}ev:${kind}:${sealer.keyName(`evidence|${kind}|${parts.join("|")}`)}`
  /** An X is the same X however it is written (+86..., 86..., national digits). */
  const xKey = (kind: string, provider: string, phoneNoX: string) => key(kind, provider, normalizePhone(phoneNoX))
  const xStatuses = makeTtlMap<XStatusRecord>(memoryCapacity)
  const bindings = makeTtlMap<BindingRecord>(memoryCapacity)
  const lastCalls = makeTtlMap<CallOutcomeRecord>(memoryCapacity)
  const seen = makeTtlMap<true>(memoryCapacity)
  const windows = makeWindows()
  let forged = 0

  const rejected = (kind: string) =>
    Effect.andThen(Effect.sync(() => forged++), rejectedSharedValue(`evidence-${kind}`))

  /** Opens a sealed value; a forged one counts and reads as absent, an unreadable one reads as absent. */
  const openAs = <A>(decode: Decode<A>, kind: string, redisKey: string, raw: string | null) =>
    Effect.gen(function*() {
      if (raw === null) return undefined
      const payload = sealer.open(redisKey, raw)
      if (payload === undefined) {
        yield* rejected(kind)
        return undefined
      }
      return decode(payload)
    })

  const put = (redisKey: string, payload: string, ttlMs: number) =>
    shared.use((redis) => unavailable(redis.send("SET", redisKey, sealer.seal(redisKey, payload), "PX", px(ttlMs))).pipe(Effect.asVoid), Effect.void)

  const get = <A>(decode: Decode<A>, kind: string, redisKey: string, fallback: () => A | undefined) =>
    shared.use(
      (redis) => unavailable(redis.send<string | null>("GET", redisKey)).pipe(Effect.flatMap((raw) => openAs(decode, kind, redisKey, raw))),
      Effect.sync(fallback)
    )

  /** What a window of call outcomes says about an X. */
  const tally = (entries: ReadonlyArray<WindowEntry>): XHealth => {
    const counts = emptyCounts()
    let numberFailures = 0
    for (const e of entries) {
      counts[e.outcomeClass]++
      if (marksX(e.outcomeClass)) numberFailures++
    }
    return {
      unhealthy: numberFailures >= options.xFailureThreshold,
      numberFailures,
      threshold: options.xFailureThreshold,
      windowS: options.xFailureWindowS,
      counts
    }
  }
  /** An X with no outcomes in its window, the usual answer: one frozen value, not two objects per decision. */
  const healthy: XHealth = Object.freeze({ ...tally(noEntries), counts: Object.freeze(emptyCounts()) })
  const healthOf = (entries: ReadonlyArray<WindowEntry>): XHealth => (entries.length === 0 ? healthy : tally(entries))

  const xHealthAt = (provider: string, phoneNoX: string, now: number): Effect.Effect<XHealth> => {
    const cutoff = now - windowMs
    const k = xKey("h", provider, phoneNoX)
    const inMemory = () => healthOf(windows.get(k, cutoff))
    // without Redis the fallback is the answer: given as a value, not as an effect to run
    if (shared.redis === undefined) return Effect.succeed(inMemory())
    return shared.use(
      (redis) =>
        unavailable(redis.send<WithScores>("ZRANGEBYSCORE", k, String(cutoff), "+inf", "WITHSCORES")).pipe(Effect.flatMap((reply) =>
          Effect.gen(function*() {
            const out: Array<WindowEntry> = []
            for (const [raw, score] of pairsOf(reply)) {
              const member = sealer.open(k, raw)
              if (member === undefined) yield* rejected("x-health")
              else {
                const entry = entryOf(member, Number(score))
                if (entry !== undefined) out.push(entry)
              }
            }
            return healthOf(out)
          })
        )),
      Effect.sync(inMemory)
    )
  }

  return {
    recordXStatus: (provider, phoneNoX, status) =>
      Effect.gen(function*() {
        const record: XStatusRecord = { availability: status.availability, status: status.status, cause: status.cause, at: status.at ?? (yield* Clock.currentTimeMillis) }
        const k = xKey("x", provider, phoneNoX)
        xStatuses.set(k, record, record.at + xStatusTtlMs)
        yield* put(k, JSON.stringify(record), xStatusTtlMs)
      }),

    xStatus: (provider, phoneNoX) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const k = xKey("x", provider, phoneNoX)
        return get(XStatusJson, "x-status", k, () => xStatuses.get(k, now))
      }),

    rememberBinding: (input) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const record = bindingRecordOf(input, now)
        const k = key("b", record.provider, record.subsId)
        const keepUntil = record.expiresAt === null ? now + openBindingTtlMs : Math.max(record.expiresAt + day, now + 1)
        bindings.set(k, record, keepUntil)
        yield* put(k, JSON.stringify(record), keepUntil - now)
        return record
      }),

    binding: (provider, subsId) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const k = key("b", provider, subsId)
        return get(BindingJson, "binding", k, () => bindings.get(k, now))
      }),

    forgetBinding: (provider, subsId) =>
      Effect.suspend(() => {
        const k = key("b", provider, subsId)
        bindings.delete(k)
        return shared.use((redis) => unavailable(redis.send("DEL", k)).pipe(Effect.asVoid), Effect.void)
      }),

    recordOutcome: (outcome) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const at = Math.min(outcome.at ?? now, now)
        if (outcome.subsId !== undefined) {
          const k = key("s", outcome.provider, outcome.subsId)
          const last: CallOutcomeRecord = { outcomeClass: outcome.outcomeClass, code: outcome.code, at }
          const current = yield* get(LastCallJson, "last-call", k, () => lastCalls.get(k, now))
          // a late delivery of an older call does not replace what a newer call said
          if (current === undefined || current.at <= at) {
            lastCalls.set(k, last, now + lastCallTtlMs)
            yield* put(k, JSON.stringify(last), lastCallTtlMs)
          }
        }
        const cutoff = now - windowMs
        if (at < cutoff) return
        const entry: WindowEntry = { outcomeClass: outcome.outcomeClass, at, id: outcome.callId ?? randomUUID() }
        const k = xKey("h", outcome.provider, outcome.phoneNoX)
        windows.add(k, entry, cutoff)
        yield* shared.use(
          (redis) => unavailable(redis.eval(addToWindow)(k, at, sealer.seal(k, memberOf(entry)), cutoff, windowCapacity, windowMs)).pipe(Effect.asVoid),
          Effect.void
        )
      }),

    xHealth: (provider, phoneNoX, now) =>
      now === undefined ? Effect.clockWith((clock) => xHealthAt(provider, phoneNoX, clock.currentTimeMillisUnsafe())) : xHealthAt(provider, phoneNoX, now),

    lastCall: (provider, subsId) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const k = key("s", provider, subsId)
        return get(LastCallJson, "last-call", k, () => lastCalls.get(k, now))
      }),

    firstSeen: (eventId, ttlMs) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const k = key("seen", eventId)
        const locally = seen.get(k, now) === undefined
        seen.set(k, true, now + ttlMs)
        return yield* shared.use(
          (redis) => unavailable(redis.send<string | null>("SET", k, "1", "NX", "PX", px(ttlMs))).pipe(Effect.map((reply) => reply !== null)),
          Effect.succeed(locally)
        )
      }),

    forgedRejected: Effect.sync(() => forged)
  }
}

/** The options of the settings. */
export const evidenceOptions = (settings: Settings): EvidenceOptions => ({
  xFailureThreshold: settings.xFailureThreshold,
  xFailureWindowS: settings.xFailureWindowS
})

/** The evidence store over the shared Redis (in memory when none is configured). */
export const evidenceStoreLayer = (settings: Settings): Layer.Layer<EvidenceStore, never, SharedRedis> =>
  Layer.effect(EvidenceStore, Effect.map(SharedRedis, (shared) => makeEvidenceStore(evidenceOptions(settings), shared)))
