/**
 * One precall library instance in its own process, driven at a fixed rate (open loop): request k is
 * sent at t0 + offsetMs + k · 1000/rate whatever the earlier ones are doing, as independent callers
 * would send them. Built as `createPrecall` builds it (`PrecallLive` on a ManagedRuntime, request
 * decoding then `engine.decide`), but keeps hold of `SharedRedis` and `ProviderBreakers` so the run
 * can say whether Redis was in use and when the breaker opened.
 *
 * Protocol (IPC): the job comes in BENCH_PACED; after the warm-up the worker sends `{ ready }`, waits
 * for `{ go: t0 }` (epoch ms), runs, and sends `{ result }`. Bounded in count (rate × duration) and in
 * time (every decision ends within its deadline; the wait for stragglers is capped).
 */
import { Effect, ManagedRuntime } from "effect"
import { performance } from "node:perf_hooks"
import { ProviderBreakers } from "../src/breaker/ProviderBreakers.ts"
import { decodeRequest, type DecideRequestInput, Engine, PrecallLive, settingsFromObject } from "../src/index.ts"
import { SharedRedis } from "../src/redis/SharedRedis.ts"
import type { PacedJob, PacedMessage, PacedResult, PacedRow, RedisSeen } from "./paced.ts"

process.on("disconnect", () => process.exit(1))
const job = JSON.parse(process.env["BENCH_PACED"] ?? "null") as PacedJob
const send = (m: PacedMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()))
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)))

/** Request k: the job's requests in turn; with `uniqueCallers`, each with a caller number of its own (no two identical, so nothing coalesces). */
const requestFor = (k: number): DecideRequestInput => {
  const base = job.requests[k % job.requests.length]!
  return job.uniqueCallers === true ? { ...base, callerNo: `13${String(job.callerBase + k).padStart(9, "0")}` } : base
}

try {
  const settings = await Effect.runPromise(settingsFromObject(job.settings))
  const runtime = ManagedRuntime.make(PrecallLive(settings))
  const engine = await runtime.runPromise(Effect.service(Engine))
  const shared = await runtime.runPromise(Effect.service(SharedRedis))
  const breakers = await runtime.runPromise(Effect.service(ProviderBreakers))
  const redisSeen = async (): Promise<RedisSeen> => {
    const h = await runtime.runPromise(shared.health)
    return { configured: h.configured, up: h.up, ...(h.lastError === undefined ? {} : { lastError: h.lastError }) }
  }
  const decide = (input: DecideRequestInput) => runtime.runPromise(Effect.flatMap(decodeRequest(input), (r) => engine.decide(r)))

  // Warm-up (JIT, connections): sequential, on the job's own requests, before the measured phase.
  for (let i = 0; i < job.warmup; i++) await decide(job.requests[i % job.requests.length]!)
  await send({ ready: { redis: await redisSeen() } })

  const t0 = await new Promise<number>((resolve) => {
    const onMessage = (m: { go?: number }) => {
      if (typeof m.go === "number") {
        process.off("message", onMessage)
        resolve(m.go)
      }
    }
    process.on("message", onMessage)
  })

  // Every 5 ms while the load runs: the breaker's state (when it opened, half-opened, closed) and
  // whether Redis was in use (SharedRedis marks it down after a failure or 3 slow replies in a row).
  const breakerStates: Array<{ atMs: number; state: string }> = []
  const redisStates: Array<{ atMs: number; up: boolean }> = []
  let watching = true
  const watch = (async () => {
    await sleep(t0 - Date.now())
    let lastState = ""
    let lastUp: boolean | undefined
    while (watching) {
      if (job.watchBreaker === true) {
        const state = (await runtime.runPromise(breakers.breakerStates))[0]?.state ?? "closed"
        if (state !== lastState) breakerStates.push({ atMs: Date.now() - t0, state })
        lastState = state
      }
      const up = (await redisSeen()).up
      if (up !== lastUp) redisStates.push({ atMs: Date.now() - t0, up })
      lastUp = up
      await sleep(5)
    }
  })()

  const n = Math.floor((job.ratePerSecond * job.durationMs) / 1000)
  const period = 1000 / job.ratePerSecond
  const rows: Array<PacedRow | undefined> = Array.from({ length: n })
  const pending: Array<Promise<void>> = []
  let errors = 0
  let firstError: string | undefined
  let maxLagMs = 0
  for (let k = 0; k < n; k++) {
    const due = t0 + job.offsetMs + k * period
    const wait = due - Date.now()
    if (wait > 0) await sleep(wait)
    const startedAt = Date.now()
    maxLagMs = Math.max(maxLagMs, startedAt - due)
    const s = performance.now()
    pending.push(decide(requestFor(k)).then(
      (d) => {
        rows[k] = {
          atMs: startedAt - t0, ms: Math.round((performance.now() - s) * 1000) / 1000, decision: d.decision, source: d.source,
          code: d.providerCode, attempts: d.attempts,
          // Local.RateLimited under a limit slowed down by throttling replies says so in its reason.
          ...(d.providerCode === "Local.RateLimited" && /halved (\d)x/.test(d.reason) ? { halvings: Number(/halved (\d)x/.exec(d.reason)![1]) } : {})
        }
      },
      (e: unknown) => {
        errors++
        firstError ??= e instanceof Error ? e.message : String(e)
      }
    ))
  }
  // Every decision ends within its deadline; stragglers past it (plus 5 s) are counted, not awaited.
  await Promise.race([Promise.all(pending), sleep(settings.deadlineMs + 5000)])
  watching = false
  await watch
  const done = rows.filter((r): r is PacedRow => r !== undefined)
  const result: PacedResult = {
    name: job.name, scheduled: n, rows: done, unfinished: n - done.length - errors, errors, ...(firstError === undefined ? {} : { firstError }),
    maxLagMs, t0, redis: await redisSeen(), redisStates, breakerStates
  }
  await send({ result })
  await runtime.dispose()
} catch (e) {
  await send({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) })
}
process.exit(0)
