/**
 * The Redis that shared state (limits, status cache, coalescing) lives in, and the switch to
 * in-memory state when it is not there.
 *
 * Why not `NodeRedis.layer` from @effect/platform-node: it fails the whole layer when the first
 * connect fails and logs every socket error; precall must start and keep deciding without Redis and
 * go back to it by itself. So this module builds effect's `Redis` service (`Redis.make`) on a
 * node-redis client that never gives up reconnecting and never queues commands while disconnected.
 *
 * Every operation goes through `use`: bounded by `redisTimeoutMs`, and run in memory instead when it
 * fails or times out. A failed operation (connection lost) marks Redis down at once, an error reply
 * (Redis refused that one command) does not; slow
 * replies do so after `SLOW_REPLIES_TO_DOWN` in a row, so one GC pause does not switch every instance
 * to memory. While down (logged once), operations go straight to their fallback, and a background
 * probe (PING every second) marks Redis up again (logged once).
 */
import { Clock, Context, Data, Duration, Effect, Layer, Metric, Redacted, Schedule } from "effect"
import * as Redis from "effect/persistence/Redis"
import { createClient, ErrorReply } from "redis"
import { randomBytes } from "node:crypto"
import type { Settings } from "../policy/settings.ts"
import { makeSealer, type Sealer, sharedStateSecret } from "./sealed.ts"

/** A Redis operation did not complete: down, slow, or a reply we could not use. */
export class RedisUnavailable extends Data.TaggedError("RedisUnavailable")<{ readonly cause: unknown }> {}

export interface RedisHealth {
  readonly configured: boolean
  readonly up: boolean
  /** Epoch ms of the last change between up and down. */
  readonly since: number
  readonly lastError: string | undefined
}

export interface SharedRedisShape {
  /** The effect Redis service, for effect's own Redis stores; undefined when no Redis is configured. */
  readonly redis: Redis.Redis["Service"] | undefined
  readonly prefix: string
  /**
   * Runs `op` on Redis within the operation timeout; when Redis is not configured, is down, or the
   * operation fails with RedisUnavailable, runs `fallback` instead. Never fails, never waits long.
   */
  readonly use: <A, R>(
    op: (redis: Redis.Redis["Service"]) => Effect.Effect<A, RedisUnavailable, R>,
    fallback: Effect.Effect<A, never, R>
  ) => Effect.Effect<A, never, R>
  readonly health: Effect.Effect<RedisHealth>
  /** Seals values written to Redis and opens what is read back (src/redis/sealed.ts). */
  readonly sealer: Sealer
}

export class SharedRedis extends Context.Service<SharedRedis, SharedRedisShape>()("precall/SharedRedis") {}

export const redisUp = Metric.gauge("precall_redis_up", { description: "1 when the shared Redis is in use, 0 when precall runs on in-memory state" })
export const redisFallbacksTotal = Metric.counter("precall_redis_fallbacks_total", {
  description: "Shared-state operations run in memory instead of Redis, by reason: down (Redis marked down), slow (reply later than PRECALL_REDIS_TIMEOUT_MS), failed (error)"
})
const fellBack = (reason: "down" | "slow" | "failed") => Metric.update(Metric.withAttributes(redisFallbacksTotal, { reason }), 1)
const fallbackDown = fellBack("down")
const fallbackSlow = fellBack("slow")
const fallbackFailed = fellBack("failed")

/** No Redis configured: every operation runs its in-memory fallback. */
export const noRedis: SharedRedisShape = {
  redis: undefined,
  prefix: "",
  use: (_op, fallback) => fallback,
  health: Effect.succeed({ configured: false, up: false, since: 0, lastError: undefined }),
  sealer: makeSealer(randomBytes(32))
}

/** Slow replies in a row after which Redis counts as down. */
const SLOW_REPLIES_TO_DOWN = 3

/** The cause a timed-out operation carries, to tell it from a failed one. */
const SLOW = Symbol("slow reply")

/** An error reply (a script or argument Redis refused) says Redis is there: that operation alone falls back. */
const isErrorReply = (cause: unknown): boolean =>
  cause instanceof ErrorReply || (cause instanceof Redis.RedisError && cause.cause instanceof ErrorReply)

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause)).slice(0, 200)

const makeShared = (settings: Settings, redisUrl: string) =>
  Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        createClient({
          url: redisUrl,
          disableOfflineQueue: true,
          socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) }
        })
      ),
      (c) => Effect.sync(() => c.destroy())
    )
    let health: RedisHealth = { configured: true, up: false, since: yield* Clock.currentTimeMillis, lastError: "connecting" }
    let settled = false // the first probe's answer is logged whichever it is
    const mark = (up: boolean, cause?: unknown) =>
      Effect.gen(function*() {
        if (settled && health.up === up) return
        settled = true
        health = { configured: true, up, since: yield* Clock.currentTimeMillis, lastError: up ? undefined : describe(cause) }
        yield* Metric.update(redisUp, up ? 1 : 0)
        yield* up
          ? Effect.logInfo("shared Redis in use: limits, status cache and coalescing are shared")
          : Effect.logWarning(`shared Redis unavailable (${health.lastError}): deciding with in-memory limits and cache`)
      })
    // node-redis emits socket errors as events; without a listener they would crash the process.
    client.on("error", () => {})
    // Start-up waits a moment for the first connection, so a healthy Redis is used from the first
    // decision; an absent one costs at most that moment, then reconnecting goes on in the background.
    const connected = client.connect().then(() => true, () => false)
    yield* Effect.promise(() => connected).pipe(Effect.timeoutOption(Duration.seconds(1)))

    const send = <A = unknown>(command: string, ...args: ReadonlyArray<string>): Effect.Effect<A, Redis.RedisError> =>
      Effect.tryPromise({
        try: () => client.sendCommand([command, ...args]) as Promise<A>,
        catch: (cause) => new Redis.RedisError({ cause })
      })
    const redis = yield* Redis.make({
      send,
      subscribe: (channel, onMessage) =>
        Effect.acquireRelease(
          Effect.tryPromise({
            try: async () => {
              const subscriber = client.duplicate()
              subscriber.on("error", () => {})
              await subscriber.connect()
              await subscriber.subscribe(channel, (message) => onMessage({ channel, message }))
              return subscriber
            },
            catch: (cause) => new Redis.RedisError({ cause })
          }),
          (subscriber) => Effect.sync(() => subscriber.destroy())
        ).pipe(Effect.as(Effect.void)),
      connect: Effect.tryPromise({
        try: async () => {
          const connection = client.duplicate({ socket: { connectTimeout: 1000, reconnectStrategy: false } })
          connection.on("error", () => {})
          await connection.connect()
          return connection
        },
        catch: (cause) => new Redis.RedisError({ cause })
      }).pipe(Effect.map((connection) => ({
        send: <A = unknown>(command: string, ...args: ReadonlyArray<string>): Effect.Effect<A, Redis.RedisError> =>
          Effect.tryPromise({ try: () => connection.sendCommand([command, ...args]) as Promise<A>, catch: (cause) => new Redis.RedisError({ cause }) }),
        close: Effect.sync(() => connection.destroy())
      })))
    })

    const timeout = Duration.millis(settings.redisTimeoutMs)
    let slowInARow = 0
    const onUnavailable = (cause: unknown) =>
      Effect.andThen(
        cause === SLOW ? fallbackSlow : fallbackFailed,
        (cause === SLOW && ++slowInARow < SLOW_REPLIES_TO_DOWN) || isErrorReply(cause)
          ? Effect.void
          : mark(false, cause === SLOW ? `${SLOW_REPLIES_TO_DOWN} replies in a row slower than ${settings.redisTimeoutMs} ms` : cause)
      )
    const probe = send("PING").pipe(
      Effect.timeoutOrElse({ duration: Duration.seconds(1), orElse: () => Effect.fail(new Redis.RedisError({ cause: "PING timed out" })) }),
      Effect.matchEffect({ onSuccess: () => mark(true), onFailure: (e) => mark(false, e.cause) })
    )
    yield* probe
    yield* Effect.forkScoped(Effect.repeat(probe, Schedule.spaced(Duration.seconds(1))))

    return SharedRedis.of({
      redis,
      prefix: settings.redisPrefix,
      sealer: makeSealer(sharedStateSecret(settings)),
      use: (op, fallback) =>
        Effect.suspend(() =>
          !health.up
            ? Effect.andThen(fallbackDown, fallback)
            : op(redis).pipe(
              Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(new RedisUnavailable({ cause: SLOW })) }),
              Effect.tap(() => Effect.sync(() => (slowInARow = 0))),
              Effect.catchTag("RedisUnavailable", (e) => Effect.andThen(onUnavailable(e.cause), fallback))
            )
        ),
      health: Effect.sync(() => health)
    })
  })

/** The shared Redis of the settings (PRECALL_REDIS_URL), or in-memory state when none is set. */
export const sharedRedisLayer = (settings: Settings): Layer.Layer<SharedRedis> => {
  const url = settings.redisUrl
  return url === undefined ? Layer.succeed(SharedRedis, noRedis) : Layer.effect(SharedRedis, makeShared(settings, Redacted.value(url)))
}

/** Maps a RedisError to RedisUnavailable, for operations passed to `use`. */
export const unavailable = <A, R>(effect: Effect.Effect<A, Redis.RedisError, R>): Effect.Effect<A, RedisUnavailable, R> =>
  Effect.mapError(effect, (e) => new RedisUnavailable({ cause: e.cause }))
