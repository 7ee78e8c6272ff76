/**
 * Limits across instances, for real: precall instances (each with its own Redis connection, same
 * Redis and prefix) deciding concurrently against the Aliyun emulator, counted at the emulator per
 * wall-clock second. Open-loop load at three times the limit.
 *
 * The account's quota is 10/s and precall is configured at 9/s, the headroom docs/scale-out.md asks
 * for: calls leave exactly 1000/limit ms apart, but reach the provider a few ms early or late, and at
 * exactly the quota that jitter alone puts an 11th call into some second now and then.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPrecall } from "../../src/precall.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import type { Decision } from "../../src/domain/decision.ts"
import {
  bindings,
  deleteKeysUnder,
  fullSeconds,
  isLocalLimit,
  keysUnder,
  load,
  ownRedisServer,
  precallInstance,
  REDIS_URL,
  settingsSync,
  uniquePrefix,
  waitUntil
} from "./support.ts"

const QUOTA = 10
const LIMIT = 9
/** The secret the instances share (PRECALL_REDIS_KEY_SECRET). */
const SECRET = "test-shared-secret-0123456789"
const prefix = uniquePrefix()
/**
 * Here the instances, the emulator and the test share one event loop, where GC pauses now and then
 * outlast SharedRedis's 10 ms default; each such operation runs in memory, outside the shared limit,
 * and this test counts exact calls per second.
 */
const redisTimeoutMs = 100
let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 11 })
})
afterAll(async () => {
  await emulator.close()
  await deleteKeysUnder(REDIS_URL, prefix)
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Every decision is the provider's status-1 answer or degraded by the local limit (or `also`). */
const onlyAnswersAnd = (decisions: ReadonlyArray<Decision>, also: ReadonlyArray<string> = []) => {
  const odd = decisions.filter((d) => !(d.source === "provider" && d.decision === "use-x") && !isLocalLimit(d) && !also.includes(d.providerCode ?? ""))
  expect(odd.map((d) => d.reason)).toEqual([])
}

describe("shared limits across instances", () => {
  it("two instances share one limit on QueryCallStatus: the account's 10/s is never exceeded; the rest degrade as 'local limit'", async () => {
    const input = { aliyunEndpoint: emulator.url, redisUrl: REDIS_URL, redisKeySecret: SECRET, redisPrefix: `${prefix}two:`, redisTimeoutMs, rateLimits: { QueryCallStatus: LIMIT }, statusTtlMs: 0 }
    const [a, b] = await Promise.all([createPrecall(input), createPrecall(input)])
    try {
      const refs = bindings(emulator, 20)
      emulator.setFault("QueryCallStatus", { throttle: { qps: QUOTA } }) // the account's quota, over any sliding second
      emulator.resetStats()
      const start = Date.now()
      const loads = [load(a.decide, refs, { perSecond: 15, tag: 1 }), load(b.decide, refs, { perSecond: 15, tag: 2 })]
      await sleep(3200)
      const decisions = (await Promise.all(loads.map((l) => l.stop()))).flat()
      const seconds = fullSeconds(emulator, start, Date.now())

      emulator.clearFaults()

      expect(emulator.stats().actions["QueryCallStatus"]?.codes["Throttling.User"]).toBeUndefined()
      expect(seconds.length).toBeGreaterThanOrEqual(2)
      expect(Math.max(...seconds), `per second: ${seconds}`).toBeLessThanOrEqual(QUOTA)
      const used = seconds.reduce((a, b) => a + b, 0) / seconds.length
      expect(used, `per second: ${seconds}`).toBeGreaterThanOrEqual(LIMIT - 1) // the limit is used, not starved
      onlyAnswersAnd(decisions)
      const localShare = decisions.filter(isLocalLimit).length / decisions.length
      // offered 30/s, admitted 10/s: about two thirds degrade, each at once or after a wait within its budget
      expect(localShare).toBeGreaterThan(0.55)
      expect(localShare).toBeLessThan(0.85)
      for (const d of decisions.filter(isLocalLimit)) expect(d.reason).toContain("the local limit for QueryCallStatus was hit: 9/s")
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it("a throttling reply (Throttling.User) slows both instances down; once it stops, they recover", async () => {
    const settings = settingsSync({
      aliyunEndpoint: emulator.url, redisUrl: REDIS_URL, redisKeySecret: SECRET, redisPrefix: `${prefix}adaptive:`, redisTimeoutMs, rateLimits: { QueryCallStatus: LIMIT },
      statusTtlMs: 0, maxAttempts: 1, breakerOpenMs: 0, // the breaker would stop the calls the slow-down is about
      throttleCooldownMs: 1000
    })
    const instances = [precallInstance(settings), precallInstance(settings)]
    try {
      await Promise.all(instances.map((i) => i.ready()))
      const refs = bindings(emulator, 20)
      const loads = instances.map((i, k) => load(i.decide, refs, { perSecond: 15, tag: 10 + k }))
      const t0 = Date.now()
      await sleep(2000)
      const t1 = Date.now()
      emulator.setFault("QueryCallStatus", { errors: [{ code: "Throttling.User", rate: 1 }] })
      await sleep(3000)
      const t2 = Date.now()
      emulator.clearFaults()
      // Recovery takes up to about 3.3 s: the level falls back a cooldown (1 s) after the last
      // throttling reply, instances read it at most 250 ms late, and the turns reserved while slowed
      // down (each call at 2^3 turns, reserved only while the queue is under 700 ms) are up to about
      // 2 s of the bucket. The last two full seconds of 6 s begin past that.
      await sleep(6000)
      const t3 = Date.now()
      const decisions = (await Promise.all(loads.map((l) => l.stop()))).flat()

      const [before, throttled, after] = [fullSeconds(emulator, t0, t1), fullSeconds(emulator, t1, t2), fullSeconds(emulator, t2, t3)]
      const detail = `per second: before ${before}, throttled ${throttled}, after ${after}`
      expect(Math.max(...before), detail).toBeGreaterThanOrEqual(LIMIT - 2)
      // halved at once, again after a second: at most 4.5/s in the last full second of the throttling
      expect(throttled.at(-1), detail).toBeLessThanOrEqual(Math.ceil(LIMIT / 2))
      // recovered: one of the last two full seconds is back at the limit (one second of scheduling noise on 2 busy cores)
      expect(Math.max(...after.slice(-2)), detail).toBeGreaterThanOrEqual(LIMIT - 2)
      onlyAnswersAnd(decisions, ["Throttling.User"])
      expect(decisions.some((d) => isLocalLimit(d) && d.reason.includes("halved"))).toBe(true)
    } finally {
      await Promise.all(instances.map((i) => i.close()))
    }
  })

  it("Redis stopped mid-run: no decision fails, limits go on in memory, health says down; restarted, it is used again", async () => {
    const redis = await ownRedisServer()
    const settings = settingsSync({
      aliyunEndpoint: emulator.url, redisUrl: redis.url, redisKeySecret: SECRET, redisPrefix: prefix, redisTimeoutMs, rateLimits: { QueryCallStatus: LIMIT }, statusTtlMs: 0
    })
    const instance = precallInstance(settings)
    try {
      await instance.ready()
      expect((await instance.health()).up).toBe(true)
      const refs = bindings(emulator, 20)
      const running = load(instance.decide, refs, { perSecond: 30, tag: 20 })
      await sleep(1500)
      expect(await keysUnder(redis.url, prefix)).not.toEqual([])

      await redis.stop()
      const down = Date.now()
      await waitUntil(async () => !(await instance.health()).up, 2000, "health to say down")
      expect((await instance.health()).lastError).toBeDefined()
      await sleep(3000)
      // turns reserved in Redis before it went away still go out (within a deadline) while memory
      // starts afresh; after that, memory alone holds the limit
      const inMemory = fullSeconds(emulator, down + 1000, Date.now())

      await redis.start()
      await waitUntil(async () => (await instance.health()).up, 5000, "health to say up again")
      await sleep(500)
      expect(await keysUnder(redis.url, prefix)).not.toEqual([]) // a fresh redis-server: these were written after the restart

      const decisions = await running.stop()
      onlyAnswersAnd(decisions)
      expect(inMemory.length).toBeGreaterThanOrEqual(1)
      expect(Math.max(...inMemory), `per second in memory: ${inMemory}`).toBeLessThanOrEqual(QUOTA)
      expect(inMemory.at(-1), `per second in memory: ${inMemory}`).toBeGreaterThanOrEqual(LIMIT - 2)
    } finally {
      await instance.close()
      await redis.stop()
    }
  })
})
