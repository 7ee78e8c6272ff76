/**
 * Shared fixtures for the limit and breaker tests: a distinct Redis key prefix per run (deleted
 * afterwards), a redis-server of our own that a test can stop and start again, precall instances
 * assembled like PrecallLive but with their SharedRedis in reach, and a load loop against the emulator.
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { type AddressInfo, connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createClient } from "redis"
import { cacheLayer } from "../../src/cache/cacheLayer.ts"
import type { Decision } from "../../src/domain/decision.ts"
import type { DecideRequestInput } from "../../src/domain/request.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { guardLayer } from "../../src/engine/guard.ts"
import type { RunningAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { type Settings, settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { decide, providerLayer } from "../../src/precall.ts"
import { SharedRedis, sharedRedisLayer } from "../../src/redis/SharedRedis.ts"

export const REDIS_URL = "redis://127.0.0.1:6379"

export const uniquePrefix = (): string => `precall-test:${Math.random().toString(36).slice(2, 10)}:`

/** Settings for a test; with Redis, the instances share a key secret as PRECALL_REDIS_KEY_SECRET would give them. */
export const settingsSync = (input: SettingsInput): Settings =>
  Effect.runSync(settingsFromObject(input.redisUrl === undefined ? input : { redisKeySecret: "test-shared-secret-0123456789", ...input }))

/** Keys under `prefix` on the Redis at `url`. */
export const keysUnder = async (url: string, prefix: string): Promise<Array<string>> => {
  const client = createClient({ url })
  await client.connect()
  try {
    return await client.keys(`${prefix}*`)
  } finally {
    client.destroy()
  }
}

export const deleteKeysUnder = async (url: string, prefix: string): Promise<void> => {
  const client = createClient({ url })
  await client.connect()
  try {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(keys)
  } finally {
    client.destroy()
  }
}

const pings = async (url: string): Promise<boolean> => {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 200 } })
  client.on("error", () => {})
  try {
    await client.connect()
    return (await client.ping()) === "PONG"
  } catch {
    return false
  } finally {
    client.destroy()
  }
}

export const waitUntil = async (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> => {
  const until = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * A throwaway redis-server (no persistence) that a test may stop and start again. Its TCP port comes
 * from the OS: redis-server cannot listen on an OS-chosen port, so it listens on a unix socket of its
 * own and a proxy on port 0 forwards to it (no "find a free port, then reuse it" race). A connection
 * made while the server is stopped is closed at once, as a refused one would be.
 */
export const ownRedisServer = async () => {
  const dir = mkdtempSync(join(tmpdir(), "precall-redis-"))
  const socketPath = join(dir, "redis.sock")
  const proxy = createServer((client) => {
    const upstream = connect(socketPath)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    for (const side of [client, upstream]) {
      side.on("error", end)
      side.on("close", end)
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
  proxy.unref()
  const url = `redis://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn("redis-server", ["--port", "0", "--unixsocket", socketPath, "--save", "", "--appendonly", "no", "--daemonize", "no"], { stdio: "ignore" })
    await waitUntil(() => pings(url), 5000, `redis-server behind ${url}`)
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null) return resolve()
      running.once("exit", () => resolve())
      running.kill("SIGKILL")
    })
  await start()
  return { url, start, stop }
}

/**
 * One precall instance as PrecallLive assembles it (engine, Aliyun adapter, status cache, guard,
 * shared Redis), with its SharedRedis kept in the output so a test can read its health.
 */
export const precallInstance = (settings: Settings) => {
  const runtime = ManagedRuntime.make(
    engineLayer(settings).pipe(
      Layer.provide(providerLayer(settings)),
      Layer.provide(cacheLayer(settings)),
      Layer.provideMerge(guardLayer(settings)),
      Layer.provideMerge(sharedRedisLayer(settings))
    ).pipe(Layer.orDie)
  )
  return {
    decide: (request: DecideRequestInput): Promise<Decision> => runtime.runPromise(decide(request)),
    health: () => runtime.runPromise(Effect.flatMap(Effect.service(SharedRedis), (shared) => shared.health)),
    ready: () => runtime.runPromise(Effect.service(Engine)),
    close: () => runtime.dispose()
  }
}

/** `count` AXN bindings on the emulator's demo pool, one per A party. */
export const bindings = (emulator: RunningAliyunEmulator, count: number) =>
  Array.from({ length: count }, (_, i) => {
    const b = emulator.createBinding({ mode: "AXN", phoneNoA: `138${String(10_000_000 + i).slice(0, 8)}`, ttlSeconds: 3600 })
    return { poolKey: b.poolKey, subsId: b.subsId, phoneNoX: b.phoneNoX }
  })

/**
 * Open-loop load: starts a decision every 1000/perSecond ms, as calls arrive, whether or not earlier
 * ones have finished. Every request is different (its own caller), so neither the status cache nor
 * coalescing merges any. `stop` waits for those in flight and returns every decision; it rejects if
 * any decision did.
 */
export const load = (
  decide: (request: DecideRequestInput) => Promise<Decision>,
  refs: ReadonlyArray<{ readonly poolKey: string; readonly subsId: string; readonly phoneNoX: string }>,
  options: { readonly perSecond: number; readonly tag: number }
) => {
  const inFlight: Array<Promise<Decision>> = []
  let n = 0
  const timer = setInterval(() => {
    const i = n++
    const ref = refs[i % refs.length]!
    inFlight.push(decide({ ...ref, callerNo: `139${String(options.tag * 1_000_000 + i).padStart(8, "0")}` }))
  }, 1000 / options.perSecond)
  return {
    stop: async (): Promise<Array<Decision>> => {
      clearInterval(timer)
      return Promise.all(inFlight)
    }
  }
}

/** The emulator's requests per wall-clock second, for the seconds wholly inside [from, to). */
export const fullSeconds = (emulator: RunningAliyunEmulator, from: number, to: number): Array<number> =>
  emulator.stats().perSecond
    .filter((s) => {
      const start = Date.parse(s.second)
      return start >= from && start + 1000 <= to
    })
    .map((s) => s.requests)

export const isLocalLimit = (d: Decision) => d.source === "degraded" && d.providerCode === "Local.RateLimited"
