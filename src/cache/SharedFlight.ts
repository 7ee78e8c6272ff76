/**
 * Single-flight across instances, through the shared Redis.
 *
 * Design: one lock per request key, `SET lock token NX PX deadlineMs` (in a script that also returns
 * the current holder's token when the lock is taken). The holder decides, writes its decision under a
 * result key named by its own token, then releases the lock (only if still its own). The others poll
 * `MGET result lock` every `pollMs`. Polling rather than PUBLISH: no subscriber connection to keep
 * per instance, nothing lost while one reconnects, and each poll is an ordinary operation that
 * SharedRedis.use bounds to a few ms; a poll interval costs little next to a provider call. Keying
 * the result by token means a waiter only ever takes the decision of the flight it waited for.
 *
 * A waiter decides itself when the lock is gone with no result (the holder was interrupted, or died
 * and its lock expired), when Redis is down, or after half its budget, so that the other half is left
 * for its own decision. With no Redis at all every request holds its own flight.
 *
 * fallback-real decisions are not shared: they are the only ones that carry a real number, and none
 * is written to Redis in clear. Waiters see the lock released with no result and decide themselves.
 * Results are sealed (src/redis/sealed.ts); a result that does not verify, does not decode, is a
 * fallback-real or dials something that is not a phone number is counted and ignored, and the
 * waiter decides itself: write access to Redis cannot hand a caller a number to dial.
 */
import { Clock, Duration, Effect, Option, Schema } from "effect"
import * as Redis from "effect/persistence/Redis"
import { randomUUID } from "node:crypto"
import { Decision } from "../domain/decision.ts"
import { isPhoneNumber } from "../domain/phone.ts"
import { rejectedSharedValue } from "../redis/sealed.ts"
import { type SharedRedisShape, unavailable } from "../redis/SharedRedis.ts"
import type { Coalesce } from "./InFlight.ts"
import { joined } from "./joined.ts"

/** How often a waiter looks for the holder's decision. */
const pollMs = 10

/** The Redis keys of a flight; the hash tag keeps lock and results in one Cluster slot (MGET). */
export const flightKeys = (prefix: string, key: string) => ({
  lock: `${prefix}flight:{${key}}`,
  result: (token: string) => `${prefix}flight:{${key}}:${token}`
})

/** Takes the lock; returns null when taken, else the token of the holder. */
const acquire = Redis.script((lock: string, token: string, ttlMs: number) => [lock, token, ttlMs], {
  numberOfKeys: 1,
  lua: `local holder = redis.call('GET', KEYS[1])
if holder then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`
}).withReturnType<string | null>()

/** Deletes the lock if it is still this token's (it may have expired and been taken since). */
const release = Redis.script((lock: string, token: string) => [lock, token], {
  numberOfKeys: 1,
  lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`
})

const DecisionJson = Schema.fromJsonString(Decision)

/**
 * A flight result read back, if precall could have written it: the seal verifies for this key, it
 * decodes, it is not a fallback-real (never shared, so never written) and what it dials is a number.
 */
const trustedIn = (shared: SharedRedisShape) => (key: string, raw: string): Decision | undefined => {
  const opened = shared.sealer.open(key, raw)
  const decision = opened === undefined ? undefined : Option.getOrUndefined(Schema.decodeUnknownOption(DecisionJson)(opened))
  if (decision === undefined || decision.decision === "fallback-real") return undefined
  return decision.dial === null || isPhoneNumber(decision.dial) ? decision : undefined
}

type Seen = { readonly _tag: "Decided"; readonly decision: Decision } | { readonly _tag: "Pending" } | { readonly _tag: "Gone" }
const pending: Seen = { _tag: "Pending" }
const gone: Seen = { _tag: "Gone" }

/** Redis expiries are whole, positive milliseconds. */
const px = (ms: number): number => Math.max(1, Math.ceil(ms))

export const makeSharedFlight = (shared: SharedRedisShape): Coalesce => (key, budgetMs, decide) =>
  // No Redis configured, or no time left to share anything: decide alone with what is left. (Going
  // through the lock with the memory fallback would also fork a detached publisher per decision, which
  // piles up wherever nothing yields to the event loop: the soak row found 1 KB a decision.)
  shared.redis === undefined || budgetMs <= 0 ? decide(budgetMs) : Effect.gen(function*() {
    const startedAt = yield* Clock.currentTimeMillis
    const keys = flightKeys(shared.prefix, key)
    const trusted = trustedIn(shared)
    const token = randomUUID()
    // Without Redis, this instance holds the flight alone.
    const holder = yield* shared.use((redis) => unavailable(redis.eval(acquire)(keys.lock, token, px(budgetMs))), Effect.succeed(null))
    if (holder === null) {
      // Publishing the decision and releasing the lock happen after the caller has its answer: the
      // caller's deadline does not wait on Redis.
      return yield* decide(budgetMs - ((yield* Clock.currentTimeMillis) - startedAt)).pipe(Effect.onExit((exit) =>
        Effect.forkDetach(shared.use((redis) =>
          Effect.gen(function*() {
            if (exit._tag === "Success" && exit.value.decision !== "fallback-real") {
              yield* redis.send("SET", keys.result(token), shared.sealer.seal(keys.result(token), JSON.stringify(exit.value)), "PX", String(px(budgetMs)))
            }
            yield* redis.eval(release)(keys.lock, token)
          }).pipe(unavailable), Effect.void))
      ))
    }

    /** The holder's decision if written; Gone when the lock is no longer the holder's (or Redis fails). */
    const peek = shared.use(
      (redis) =>
        unavailable(redis.send<[string | null, string | null]>("MGET", keys.result(holder), keys.lock)).pipe(Effect.flatMap(([result, lock]) => {
          if (result === null) return Effect.succeed<Seen>(lock === holder ? pending : gone)
          const decision = trusted(keys.result(holder), result)
          // A result that is not precall's own: decide alone rather than wait on it.
          return decision === undefined ? Effect.as(rejectedSharedValue("flight"), gone) : Effect.succeed<Seen>({ _tag: "Decided", decision })
        })),
      Effect.succeed(gone)
    )
    const waitUntil = startedAt + budgetMs / 2
    while (true) {
      const seen = yield* peek
      if (seen._tag === "Decided") return yield* joined(seen.decision, startedAt)
      const left = waitUntil - (yield* Clock.currentTimeMillis)
      if (seen._tag === "Gone" || left <= 0) return yield* decide(startedAt + budgetMs - (yield* Clock.currentTimeMillis))
      yield* Effect.sleep(Duration.millis(Math.min(pollMs, left)))
    }
  })
