/**
 * The provider's quotas as local limits: calls per second per account and action (`rateLimitsOf`),
 * taken before every attempt. Aliyun counts a quota over every key and app of an account, so with a
 * Redis configured the limits live there and all instances share them; without one, or while it is
 * down, each instance keeps them in memory (SharedRedis.use decides, within a few ms).
 */
import { Duration, Effect, Metric } from "effect"
import { RateLimiter } from "effect/persistence"
import { LocalCodes, ProviderError } from "../domain/errors.ts"
import type { GuardedCall } from "../engine/ProviderGuard.ts"
import { rateLimitsOf, type Settings } from "../policy/settings.ts"
import { RedisUnavailable, SharedRedis } from "../redis/SharedRedis.ts"
import { makeRedisRateLimiterStore } from "./RedisRateLimiterStore.ts"
import { memorySlowDown, redisSlowDown, type SlowDownStore } from "./SlowDown.ts"
import { type Bucket, bucketOf, takeTurn, type TokenBucketStore, type Turn, turnAfterAsking } from "./turn.ts"

export interface ProviderLimitsShape {
  /**
   * Runs `next` once the call has its turn under its action's limit, waiting for the turn when the
   * wait leaves the call a full attempt's time before its deadline; fails with `Local.RateLimited`
   * otherwise.
   */
  readonly withTurn: <A>(call: GuardedCall, next: Effect.Effect<A, ProviderError>) => Effect.Effect<A, ProviderError>
  /** A throttling reply from the provider: slows the action down for everyone sharing the account. */
  readonly throttled: (call: GuardedCall, retryAfterMs: number | undefined) => Effect.Effect<void>
  /** Whether the action has a limit; without one `withTurn` runs `next` at once and `throttled` does nothing. */
  readonly limited: (action: string) => boolean
}

export const rateLimitedTotal = Metric.counter("precall_rate_limited_total", {
  description: "Provider calls that met the local rate limit, by provider, action and outcome (waited or rejected)"
})
export const slowDownsTotal = Metric.counter("precall_rate_limit_slowdowns_total", {
  description: "Halvings of a local rate limit after throttling replies, by provider and action (made by this instance)"
})

/** The account whose quota the limits share: Aliyun sums every key of an account. */
export const accountOf = (settings: Settings): string => settings.aliyunAccountId ?? settings.aliyunAccessKeyId ?? "default"

/**
 * `limit:{aliyun:<account>}:<action>`: the hash tag keeps an account's keys in one Redis Cluster slot.
 * The account is given as a key name (SharedRedis' sealer.keyName): an AccessKey ID never appears in Redis.
 */
export const limitKey = (provider: string, account: string, action: string): string => `limit:{${provider}:${account}}:${action}`

/** The action's limit in calls per second (actions as the provider names them); undefined or 0: none. */
export const perSecondOf = (limits: Readonly<Record<string, number>>, action: string): number | undefined => limits[action]

interface Stores {
  readonly buckets: TokenBucketStore
  readonly slowDown: SlowDownStore
}

/** A limited action of one provider: its key in the stores and its bucket, made once. */
interface Limit {
  readonly key: string
  readonly perSecond: number
  readonly bucket: Bucket
}

const turnWith = (stores: Stores, limit: Limit, wait: { readonly maxWaitMs: number; readonly deadlineMs: number }) =>
  Effect.flatMap(stores.slowDown.level(limit.key), (level) =>
    Effect.map(takeTurn(stores.buckets, limit.bucket, wait, level), (turn) => ({ turn, level })))

const rateText = (perSecond: number): string => `${Number(perSecond.toFixed(2))}/s`

export const makeProviderLimits = (settings: Settings) =>
  Effect.gen(function*() {
    const shared = yield* SharedRedis
    const limits = rateLimitsOf(settings)
    const account = shared.sealer.keyName(`account:${accountOf(settings)}`)
    const cooldownMs = settings.throttleCooldownMs

    const memory = { buckets: yield* Effect.provide(Effect.service(RateLimiter.RateLimiterStore), RateLimiter.layerStoreMemory), slowDown: memorySlowDown() }
    const redis: Stores | undefined = shared.redis === undefined ? undefined : {
      buckets: yield* makeRedisRateLimiterStore(shared.redis, shared.prefix),
      slowDown: redisSlowDown(shared.redis, shared.prefix)
    }
    /** Runs `f` on the Redis stores while Redis is up, else (or when it fails) on the memory stores. */
    const onStores = <A, E>(f: (stores: Stores) => Effect.Effect<A, E>): Effect.Effect<A> =>
      redis === undefined
        ? Effect.orDie(f(memory))
        : shared.use(() => Effect.mapError(f(redis), (cause) => new RedisUnavailable({ cause })), Effect.orDie(f(memory)))

    const limited = (action: string): boolean => (perSecondOf(limits, action) ?? 0) > 0
    /** provider → action → its limit; undefined: the action has none. */
    const known = new Map<string, Map<string, Limit | undefined>>()
    const limitOf = (call: GuardedCall): Limit | undefined => {
      let actions = known.get(call.provider)
      if (actions === undefined) known.set(call.provider, actions = new Map())
      if (actions.has(call.action)) return actions.get(call.action)
      const key = limitKey(call.provider, account, call.action)
      const perSecond = perSecondOf(limits, call.action) ?? 0
      const limit = perSecond > 0 ? { key, perSecond, bucket: bucketOf(key, perSecond) } : undefined
      actions.set(call.action, limit)
      return limit
    }
    const counted = (call: GuardedCall, outcome: "waited" | "rejected") =>
      Metric.update(Metric.withAttributes(rateLimitedTotal, { provider: call.provider, action: call.action, outcome }), 1)

    /** Runs `next` on its turn (at once, or after the turn's delay), or fails: no turn in time. */
    const onTurn = <A>(call: GuardedCall, limit: Limit, level: number, turn: Turn, next: Effect.Effect<A, ProviderError>): Effect.Effect<A, ProviderError> => {
      if (turn._tag === "Go") {
        return turn.delayMs <= 0 ? next : counted(call, "waited").pipe(Effect.andThen(Effect.sleep(Duration.millis(turn.delayMs))), Effect.andThen(next))
      }
      const { perSecond } = limit
      const slowed = level === 0 ? "" : ` (the configured ${rateText(perSecond)} halved ${level}x after throttling replies)`
      return Effect.andThen(
        counted(call, "rejected"),
        Effect.fail(
          new ProviderError({
            provider: call.provider,
            action: call.action,
            code: LocalCodes.rateLimited,
            errorClass: "local",
            message: `the local limit for ${call.action} was hit: ${rateText(perSecond / 2 ** level)}${slowed}; ` +
              `the next turn is ${Math.ceil(turn.waitMs)} ms away, too late for this call's deadline`
          })
        )
      )
    }

    /** Built when the attempt runs (the guard is called inside it), so the store and level it picks are current. */
    const withTurn = <A>(call: GuardedCall, next: Effect.Effect<A, ProviderError>): Effect.Effect<A, ProviderError> => {
      const limit = limitOf(call)
      if (limit === undefined) return next
      // A turn later than this would leave the call less than an attempt's time before the deadline:
      // quota spent on a call the deadline is likely to cut short.
      const wait = { maxWaitMs: call.budgetMs - settings.attemptTimeoutMs, deadlineMs: call.budgetMs }
      // Without a Redis and with nothing slowed down, every level is 0: the turn is the bucket's
      // answer alone (the memory store does not fail), with no store to choose and no level to read,
      // and a turn free now runs `next` in the same step (takeTurn's answer would cost two more).
      if (redis === undefined && memory.slowDown.allAtFullRate()) {
        return Effect.matchEffect(memory.buckets.tokenBucket(limit.bucket.ask), {
          onFailure: Effect.die,
          onSuccess: (asked) =>
            asked[0] >= 0 ? next : Effect.matchEffect(turnAfterAsking(memory.buckets, limit.bucket, wait, asked), {
              onFailure: Effect.die,
              onSuccess: (turn) => onTurn(call, limit, 0, turn, next)
            })
        })
      }
      return Effect.flatMap(onStores((s) => turnWith(s, limit, wait)), ({ level, turn }) => onTurn(call, limit, level, turn, next))
    }

    const throttled = (call: GuardedCall, retryAfterMs: number | undefined): Effect.Effect<void> => {
      const limit = limitOf(call)
      if (limit === undefined) return Effect.void
      const { perSecond } = limit
      const cooldown = Math.max(cooldownMs, retryAfterMs ?? 0)
      return Effect.flatMap(onStores((s) => s.slowDown.throttled(limit.key, cooldown)), ({ after, before }) =>
        after === before ? Effect.void : Effect.andThen(
          Metric.update(Metric.withAttributes(slowDownsTotal, { provider: call.provider, action: call.action }), 1),
          Effect.logWarning(
            `${call.provider} throttled ${call.action}: its limit is now ${rateText(perSecond / 2 ** after)} ` +
              `(${rateText(perSecond)} halved ${after}x) until ${cooldown} ms pass without a throttling reply`
          )
        ))
    }

    return { withTurn, throttled, limited } satisfies ProviderLimitsShape
  })
