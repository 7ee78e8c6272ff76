/**
 * effect's Redis `RateLimiterStore` with its token bucket replaced by one on the server's clock.
 *
 * Why not effect's token bucket as it is (both shown in test/limits/effectRateLimiter.test.ts):
 * - its script takes `now` from the calling instance's Clock. Instances whose clocks differ do not
 *   share one timeline: an instance running ahead refills the bucket for itself (a second full burst
 *   on top of the limit), and one running behind sees no refill at all until its clock catches up;
 * - it keeps the bucket in two keys (`key`, `key:refill`). Redis Cluster runs a script only when all
 *   its keys hash to one slot; precall's keys carry a hash tag (`limit:{aliyun:<account>}:...`), but a
 *   store should not depend on its callers for that.
 * Ours reads the time with `redis.call("TIME")` inside the script and keeps the bucket in one hash, with
 * effect's arithmetic otherwise unchanged (same `[remaining, elapsedMillis]` contract). The fixed window
 * (whose window is a key's PTTL, so on the server's clock already) and the adaptive scripts (TIME, one
 * key) are effect's own.
 */
import { Duration, Effect } from "effect"
import { RateLimiter } from "effect/persistence"
import * as Redis from "effect/persistence/Redis"

const tokenBucketScript = Redis.script(
  (key: string, tokens: number, refillMillis: number, limit: number, overflow: 0 | 1) => [key, tokens, refillMillis, limit, overflow],
  {
    numberOfKeys: 1,
    lua: `
local key = KEYS[1]
local tokens = tonumber(ARGV[1])
local refill_ms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local overflow = ARGV[4] == "1"
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call("HMGET", key, "tokens", "refilledAt")
local current = tonumber(state[1]) or limit
local last_refill = tonumber(state[2]) or now

local elapsed = now - last_refill
local refill_amount = math.floor(elapsed / refill_ms)
if refill_amount > 0 then
  current = math.min(current + refill_amount, limit)
  last_refill = last_refill + (refill_amount * refill_ms)
end
if current >= limit then
  last_refill = now
end

local next = current - tokens
local stored = current
if next >= 0 or overflow then
  stored = next
end

elapsed = math.max(0, now - last_refill)
local ttl = math.ceil(math.ceil(limit - stored) * refill_ms - elapsed)
if ttl < 1 then ttl = 1 end
redis.call("HSET", key, "tokens", string.format("%.17g", stored), "refilledAt", string.format("%.17g", last_refill))
redis.call("PEXPIRE", key, ttl)
return { string.format("%.17g", next), string.format("%.17g", elapsed) }
`
  }
).withReturnType<readonly [remaining: string, elapsedMillis: string]>()

/** A RateLimiterStore on `redis` whose keys are `prefix` + the limiter's key. */
export const makeRedisRateLimiterStore = (redis: Redis.Redis["Service"], prefix: string) =>
  Effect.gen(function*() {
    const effectStore = yield* RateLimiter.makeStoreRedis({ prefix }).pipe(Effect.provideService(Redis.Redis, redis))
    const tokenBucket = redis.eval(tokenBucketScript)
    return RateLimiter.RateLimiterStore.of({
      ...effectStore,
      tokenBucket: (options) =>
        tokenBucket(`${prefix}${options.key}`, options.tokens, Duration.toMillis(options.refillRate), options.limit, options.allowOverflow ? 1 : 0).pipe(
          Effect.map(([remaining, elapsed]) => [Number(remaining), Number(elapsed)] as const),
          Effect.mapError((e) =>
            new RateLimiter.RateLimiterError({
              reason: new RateLimiter.RateLimitStoreError({ message: "Failed to execute tokenBucket rate limiting command", cause: e.cause })
            })
          )
        )
    })
  })
