/**
 * The status cache: a status-1 answer ("binding normal, dial X") for (poolKey, subsId, callerNo) is
 * reused for `statusTtlMs`. Only status 1: a fault (2, 3) or an expiry (4) must be seen the moment it
 * changes, and an error says nothing about the binding.
 *
 * Two levels: this instance's memory first (free), then the shared Redis (`GET`; written with
 * `SET key value PX ttl`, sealed: src/redis/sealed.ts), so an answer one instance got serves the others. When Redis is down or not
 * configured, SharedRedis.use runs the memory-only path, and the cache keeps working per instance.
 */
import { Effect, Option, Schema } from "effect"
import type { StatusAnswer } from "../domain/status.ts"
import { isPhoneNumber } from "../domain/phone.ts"
import { rejectedSharedValue } from "../redis/sealed.ts"
import { type SharedRedisShape, unavailable } from "../redis/SharedRedis.ts"
import { makeTtlMap } from "./TtlMap.ts"

/**
 * `now` is the caller's Clock reading (effect's Clock, so the TTL runs on the TestClock in tests): the
 * engine has it at hand, and reading it here again would be an Effect step per decision.
 */
export interface StatusCache {
  /** A status-1 answer for the key younger than the TTL at `now`, if any. */
  readonly get: (key: string, now: number) => Effect.Effect<StatusAnswer | undefined>
  /** Keeps a status-1 answer from `now`; any other answer drops what was kept, since it is now out of date. */
  readonly offer: (key: string, answer: StatusAnswer, now: number) => Effect.Effect<void>
}

/** Entries kept in memory per instance: about 440 bytes each with key and bookkeeping (measured), 4.5 MB when full. */
const memoryCapacity = 10_000

/** The value stored in Redis (JSON has no undefined, hence the nulls). */
const Stored = Schema.fromJsonString(Schema.Struct({
  status: Schema.Literal(1),
  calledNo: Schema.NullOr(Schema.String),
  extension: Schema.NullOr(Schema.String),
  requestId: Schema.NullOr(Schema.String)
}))
const encode = (a: StatusAnswer): string =>
  JSON.stringify({ status: 1, calledNo: a.calledNo ?? null, extension: a.extension ?? null, requestId: a.requestId ?? null })
/** A value that does not decode (another version's, or tampered with) is a miss, not an error. */
const decode = (raw: string): StatusAnswer | undefined =>
  Option.match(Schema.decodeUnknownOption(Stored)(raw), {
    onNone: () => undefined,
    onSome: (s) =>
      s.calledNo !== null && !isPhoneNumber(s.calledNo)
        ? undefined
        : { status: s.status, calledNo: s.calledNo ?? undefined, extension: s.extension ?? undefined, requestId: s.requestId ?? undefined }
  })

const disabled: StatusCache = { get: () => Effect.succeed(undefined), offer: () => Effect.void }

/** `ttlMs` 0 disables the cache. */
export const makeStatusCache = (ttlMs: number, shared: SharedRedisShape, capacity = memoryCapacity): StatusCache => {
  if (ttlMs === 0) return disabled
  const memory = makeTtlMap<StatusAnswer>(capacity)
  const redisKey = (key: string) => `${shared.prefix}status:${key}`
  /** What Redis holds for `key`, if its seal verifies and it decodes; anything else is counted and ignored. */
  const fromRedis = (key: string) =>
    shared.use((redis) =>
      unavailable(redis.send<string | null>("GET", redisKey(key))).pipe(Effect.flatMap((raw) => {
        if (raw === null) return Effect.undefined
        const opened = shared.sealer.open(redisKey(key), raw)
        const answer = opened === undefined ? undefined : decode(opened)
        return answer === undefined ? Effect.as(rejectedSharedValue("status"), undefined) : Effect.succeed(answer)
      })), Effect.undefined)
  return {
    get: (key, now) => {
      const local = memory.get(key, now)
      return local !== undefined ? Effect.succeed(local) : fromRedis(key)
    },
    offer: (key, answer, now) => {
      if (answer.status !== 1) {
        memory.delete(key)
        return shared.use((redis) => unavailable(redis.send("DEL", redisKey(key))).pipe(Effect.asVoid), Effect.void)
      }
      memory.set(key, answer, now + ttlMs)
      return shared.use((redis) => unavailable(redis.send("SET", redisKey(key), shared.sealer.seal(redisKey(key), encode(answer)), "PX", String(ttlMs))).pipe(Effect.asVoid), Effect.void)
    }
  }
}
