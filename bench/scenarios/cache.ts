/**
 * Scenario (f): the status cache on and off, on the HTTP service under autocannon at 64 connections,
 * where bindings repeat: 16 bindings over 64 connections (4 connections ask about each), so a status-1
 * answer can be reused. Side by side, each service in a fresh process:
 *
 * - cache off: PRECALL_STATUS_TTL_MS=0;
 * - cache on: PRECALL_STATUS_TTL_MS=2000 (the default), in the instance's memory;
 * - cache on + Redis: the same with PRECALL_REDIS_URL (answers written to Redis too; lookups go to
 *   memory first), to show what Redis costs a single instance;
 * - the same with PRECALL_REDIS_TIMEOUT_MS=50: at 64 connections the service's event loop is
 *   saturated, replies from Redis are read late, and the default 10 ms marks Redis down (the row
 *   says how often it was in use).
 *
 * No client-side rate limit (PRECALL_RATE_LIMITS=QueryCallStatus=0), as in (b). Coalescing of
 * identical in-flight requests cannot be turned off: with the cache off, the 4 connections of a
 * binding still share a decision when their requests overlap, so *provider calls per decision* is
 * below 1 there too.
 */
import type { Target } from "../contenders.ts"
import type { EmulatorProcess } from "../emulator.ts"
import type { Child } from "../procs.ts"
import type { Progress } from "../progress.ts"
import { BENCH_REDIS_KEY_SECRET, BENCH_REDIS_URL } from "../redis.ts"
import { decisionBodies, decisionCounts, load, startServiceProcess } from "./service.ts"

export const CACHE_BINDINGS = 16

export interface CacheOptions {
  readonly connections: number
  readonly durationS: number
  readonly warmupS: number
}

export interface CacheRow {
  readonly name: "cache off" | "cache on" | "cache on + Redis" | "cache on + Redis, timeout 50 ms"
  readonly statusTtlMs: number
  readonly redis: boolean
  /** PRECALL_REDIS_TIMEOUT_MS (rows with Redis). */
  readonly redisTimeoutMs?: number
  /** `redis` or `memory`, from the service's /readyz after the run. */
  readonly sharedStore: string
  /**
   * With Redis: its `precall_redis_up` gauge sampled every 100 ms during the measured phase: samples
   * with Redis in use, all samples, and changes to down (SharedRedis marks Redis down after 3 replies
   * in a row slower than PRECALL_REDIS_TIMEOUT_MS, and a probe marks it up within a second).
   */
  readonly redisUpSamples?: { readonly up: number; readonly total: number; readonly downs: number }
  readonly connections: number
  readonly bindings: number
  readonly requests: number
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
  readonly errors: number
  readonly serverCpuMicrosPerRequest: number
  /** Emulator requests per decision. */
  readonly providerCallsPerDecision: number
  /** The decisions by `decision/source`, from /metrics. */
  readonly decisions: Readonly<Record<string, number>>
}

export interface CacheResult {
  readonly rows: ReadonlyArray<CacheRow>
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly why: string }>
}

export const cacheSteps = (redisOk: boolean) => (redisOk ? 4 : 2)

type Variant = { name: CacheRow["name"]; statusTtlMs: number; redis: boolean; redisTimeoutMs?: number }

const sharedStore = async (url: string): Promise<string> => {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })
    const body = (await res.json()) as { checks?: { sharedState?: { store?: string } } }
    return body.checks?.sharedState?.store ?? "unknown"
  } catch (e) {
    return `unknown (${e instanceof Error ? e.message : String(e)})`
  }
}

const measure = async (
  v: Variant,
  server: Child,
  emulator: EmulatorProcess,
  bodies: ReadonlyArray<string>,
  o: CacheOptions,
  progress: Progress
): Promise<CacheRow> => {
  if (o.warmupS > 0) await load(server.url, bodies, o.connections, o.warmupS, progress, "warm-up")
  const before = await decisionCounts(server.url)
  await emulator.resetStats()
  const cpu0 = await server.cpuMicros()
  const sampler = v.redis ? sampleRedisUp(server.url) : undefined
  const r = await load(server.url, bodies, o.connections, o.durationS, progress, "measure")
  const redisUpSamples = await sampler?.stop()
  const cpu = (await server.cpuMicros()) - cpu0
  const stats = await emulator.stats()
  const after = await decisionCounts(server.url)
  const decisions = Object.fromEntries([...after].map(([k, n]) => [k, n - (before.get(k) ?? 0)]).filter(([, n]) => n !== 0))
  const total = r.requests.total
  return {
    ...v, sharedStore: await sharedStore(server.url), connections: o.connections, bindings: bodies.length, requests: total,
    throughput: total / r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors,
    serverCpuMicrosPerRequest: total === 0 ? 0 : cpu / total,
    providerCallsPerDecision: total === 0 ? 0 : stats.totalRequests / total, decisions,
    ...(redisUpSamples === undefined ? {} : { redisUpSamples })
  }
}

/** Samples the service's `precall_redis_up` every 100 ms until stopped (bounded: at most 10 minutes). */
const sampleRedisUp = (url: string) => {
  let up = 0
  let total = 0
  let downs = 0
  let last: number | undefined
  let running = true
  const until = Date.now() + 600_000
  const loop = (async () => {
    while (running && Date.now() < until) {
      try {
        const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })
        const m = /^precall_redis_up(?:\{[^}]*\})?\s+(\S+)/m.exec(await res.text())
        if (m !== null) {
          const value = Number(m[1])
          total++
          if (value === 1) up++
          if (value !== 1 && last === 1) downs++
          last = value
        }
      } catch {
        // a slow answer under load: no sample
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return { up, total, downs }
    }
  }
}

export const describeCache = (r: CacheRow): string =>
  `${r.throughput.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.providerCallsPerDecision.toFixed(4)} provider calls/decision, ` +
  `${r.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req, store ${r.sharedStore}` +
  (r.redisUpSamples === undefined ? "" : ` (Redis in use in ${r.redisUpSamples.up}/${r.redisUpSamples.total} samples, ${r.redisUpSamples.downs} times marked down)`) + (r.non2xx + r.errors > 0 ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : "")

export const runCache = async (
  emulator: EmulatorProcess,
  targets: ReadonlyArray<Target>,
  o: CacheOptions,
  prefix: string,
  redisProblem: string | undefined,
  progress: Progress
): Promise<CacheResult> => {
  const bodies = decisionBodies(targets.slice(0, CACHE_BINDINGS))
  const variants: Array<Variant> = [
    { name: "cache off", statusTtlMs: 0, redis: false },
    { name: "cache on", statusTtlMs: 2000, redis: false },
    { name: "cache on + Redis", statusTtlMs: 2000, redis: true, redisTimeoutMs: 10 },
    { name: "cache on + Redis, timeout 50 ms", statusTtlMs: 2000, redis: true, redisTimeoutMs: 50 }
  ]
  const rows: Array<CacheRow> = []
  const skipped: Array<{ name: string; why: string }> = []
  await emulator.clearFaults()
  for (const v of variants) {
    if (v.redis && redisProblem !== undefined) {
      skipped.push({ name: v.name, why: redisProblem })
      continue
    }
    progress.step(`cache: service, ${v.name} (PRECALL_STATUS_TTL_MS=${v.statusTtlMs}), ${o.connections} connections over ${bodies.length} bindings`)
    const service = await startServiceProcess(emulator.url, undefined, {
      PRECALL_STATUS_TTL_MS: String(v.statusTtlMs),
      // Empty counts as unset: a PRECALL_REDIS_URL in the caller's environment must not leak into the memory rows.
      PRECALL_REDIS_URL: v.redis ? BENCH_REDIS_URL : "",
      PRECALL_REDIS_KEY_SECRET: v.redis ? BENCH_REDIS_KEY_SECRET : "",
      PRECALL_REDIS_PREFIX: `${prefix}f-cache:`,
      PRECALL_REDIS_TIMEOUT_MS: String(v.redisTimeoutMs ?? 10)
    })
    try {
      rows.push(await measure(v, service, emulator, bodies, o, progress))
    } finally {
      await service.stop()
    }
    progress.done(describeCache(rows[rows.length - 1]!))
  }
  return { rows, skipped }
}
