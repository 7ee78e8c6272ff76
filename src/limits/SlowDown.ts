/**
 * The adaptive part of the limits: after a throttling reply (isv.FLOW_LIMIT, Throttling.*) an action
 * runs at half its limit, halved again for each further throttling reply at least a second later (at
 * most `maxHalvings` times), until no throttling reply has come for the cooldown. The state is a
 * level per limit key: in Redis (shared by every instance, expiring on the server's clock) or in memory.
 *
 * Why not effect's `adaptiveConsume` / `adaptiveFeedback`: they stop every call for the whole
 * Retry-After on one throttling reply (and Aliyun throttles even single calls now and then), and in
 * their learned phase every consume counts, also the calls that then give up at their deadline, so
 * while demand stays above the learned rate the wait grows without bound and no call goes out until
 * the state expires. Halving keeps calls flowing at a lower rate, and the limiter's own wait stays
 * bounded by each call's budget.
 */
import { Clock, Effect } from "effect"
import * as Redis from "effect/persistence/Redis"

export const maxHalvings = 4

/** At most one halving per this many ms: replies to calls sent before a halving must not halve again. */
const reactionMs = 1000

export interface SlowDownStore {
  /** Halvings in force for `key`: 0 when the action runs at its configured limit. */
  readonly level: (key: string) => Effect.Effect<number, Redis.RedisError>
  /** Records a throttling reply; returns the level before and after. */
  readonly throttled: (key: string, cooldownMs: number) => Effect.Effect<{ readonly before: number; readonly after: number }, Redis.RedisError>
}

const throttledScript = Redis.script(
  (key: string, cooldownMs: number, max: number, reaction: number) => [key, cooldownMs, max, reaction],
  {
    numberOfKeys: 1,
    lua: `
local key = KEYS[1]
local cooldown = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local reaction = tonumber(ARGV[3])
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call("HMGET", key, "level", "since")
local before = tonumber(state[1]) or 0
local after = before
if before < max and now - (tonumber(state[2]) or 0) >= reaction then
  after = before + 1
  redis.call("HSET", key, "level", after, "since", now)
end
redis.call("PEXPIRE", key, math.max(1, math.ceil(cooldown)))
return { before, after }
`
  }
).withReturnType<readonly [before: number, after: number]>()

/**
 * Levels are read from Redis at most every `levelFreshMs` per key: a level changes at most once a
 * second, and skipping the read keeps most turns at one Redis call, well inside the few ms SharedRedis
 * allows an operation.
 */
const levelFreshMs = 250

/** Under `<prefix><limit key>:slowdown`: the same hash tag as the limit's bucket, a key of its own. */
export const redisSlowDown = (redis: Redis.Redis["Service"], prefix: string): SlowDownStore => {
  const throttled = redis.eval(throttledScript)
  const redisKey = (key: string) => `${prefix}${key}:slowdown`
  const seen = new Map<string, { readonly level: number; readonly at: number }>()
  const remember = (key: string, level: number, at: number) => {
    seen.set(key, { level, at })
    return level
  }
  return {
    level: (key) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const cached = seen.get(key)
        return cached !== undefined && now - cached.at < levelFreshMs
          ? Effect.succeed(cached.level)
          : Effect.map(redis.send<string | null>("HGET", redisKey(key), "level"), (level) => remember(key, Number(level ?? 0), now))
      }),
    throttled: (key, cooldownMs) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.map(throttled(redisKey(key), cooldownMs, maxHalvings, reactionMs), ([before, after]) => ({ before, after: remember(key, after, now) })))
  }
}

const fullRate = Effect.succeed(0)

export interface MemorySlowDownStore extends SlowDownStore {
  /**
   * True while no limit of this process has been slowed down (or every slow-down has been read
   * since it expired): then every level is 0 and need not be read.
   */
  readonly allAtFullRate: () => boolean
}

/** The same in this process, on effect's Clock. */
export const memorySlowDown = (): MemorySlowDownStore => {
  const levels = new Map<string, { level: number; since: number; until: number }>()
  const current = (key: string, now: number) => {
    const entry = levels.get(key)
    if (entry !== undefined && entry.until <= now) levels.delete(key)
    return entry !== undefined && entry.until > now ? entry : undefined
  }
  return {
    allAtFullRate: () => levels.size === 0,
    // nothing slowed down (every limit at its configured rate): no clock to read
    level: (key) => levels.size === 0 ? fullRate : Effect.clockWith((clock) => Effect.succeed(current(key, clock.currentTimeMillisUnsafe())?.level ?? 0)),
    throttled: (key, cooldownMs) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const entry = current(key, now) ?? { level: 0, since: -Infinity, until: now }
        const before = entry.level
        if (entry.level < maxHalvings && now - entry.since >= reactionMs) {
          entry.level++
          entry.since = now
        }
        entry.until = now + cooldownMs
        levels.set(key, entry)
        return { before, after: entry.level }
      })
  }
}
