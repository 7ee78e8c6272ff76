/**
 * Sharing across instances: two precall instances (createPrecall) with the same Redis and prefix,
 * against the Aliyun emulator, over the Redis at 127.0.0.1:6379 (a fresh key prefix per test, removed
 * after). Redis down: a second redis-server that the test starts and kills.
 */
import { Effect, Metric } from "effect"
import { randomUUID } from "node:crypto"
import { createClient } from "redis"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest"
import { flightKeys } from "../../src/cache/SharedFlight.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { sharingKeys } from "../../src/engine/DecisionSharing.ts"
import { createPrecall, decodeRequest, type Precall } from "../../src/precall.ts"
import type { SettingsInput } from "../../src/policy/settings.ts"
import { deriveKey, makeSealer, sharedStateRejectedTotal } from "../../src/redis/sealed.ts"
import { ownRedisServer } from "../limits/support.ts"

const REDIS_URL = "redis://127.0.0.1:6379"
const A = "13800138000"
const B = "13900139000"

let emulator: RunningAliyunEmulator
const redis = createClient({ url: REDIS_URL })
beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 11 })
  await redis.connect()
})
afterAll(async () => {
  await emulator.close()
  redis.destroy()
})

let prefix: string
const instances: Array<Precall> = []
beforeEach(() => {
  emulator.reset()
  prefix = `precall-test:${randomUUID()}:`
})
afterEach(async () => {
  await Promise.all(instances.splice(0).map((p) => p.close()))
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await redis.del(keys)
})

/**
 * A precall instance on the emulator, sharing Redis and prefix with the others of the test. The
 * Redis timeout is roomier than the 10 ms default: on a loaded test machine a slow reply runs that
 * operation in memory and would turn a sharing test into a fallback test.
 */
const instance = async (settings: SettingsInput = {}) => {
  const p = await createPrecall({ aliyunEndpoint: emulator.url, redisUrl: REDIS_URL, redisPrefix: prefix, redisTimeoutMs: 200, redisKeySecret: SECRET, ...settings })
  instances.push(p)
  return p
}
const statusRequests = () => emulator.stats().actions["QueryCallStatus"]?.requests ?? 0
const axb = () => {
  const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 3600 })
  return { b, req: { poolKey: "FC100000000001", subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: A } }
}
/** The secret the instances of a test share (PRECALL_REDIS_KEY_SECRET). */
const SECRET = "test-shared-secret-0123456789"
const { requestKey, statusKey } = sharingKeys(deriveKey(SECRET, "precall/redis-keys"))
/** Shared values rejected so far in this process, all kinds. */
const rejected = async () => {
  let total = 0
  for (const kind of ["status", "flight"]) total += (await Effect.runPromise(Metric.value(Metric.withAttributes(sharedStateRejectedTotal, { kind })))).count
  return total
}
const lockOf = async (req: unknown) => flightKeys(prefix, requestKey(await Effect.runPromise(decodeRequest(req)))).lock

describe("two instances, one Redis", () => {
  it("a status-1 answer one instance got serves the other", async () => {
    const [one, two] = [await instance(), await instance()]
    const { b, req } = axb()
    expect(await one.decide(req)).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "provider", attempts: 1 })
    expect(await two.decide(req)).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "cache", attempts: 0, requestIds: [] })
    expect(statusRequests()).toBe(1)
    // keys are hashes: no number in clear
    const keys = await redis.keys(`${prefix}*`)
    expect(keys.filter((k) => k.startsWith(`${prefix}status:`))).toHaveLength(1)
    // (the test's own prefix is a random UUID, which may hold a run of digits: only what precall wrote counts)
    expect(keys.map((k) => k.slice(prefix.length)).join()).not.toMatch(/\d{11}/)
  })

  it("a cached value that does not decode is a miss, not an error", async () => {
    const one = await instance()
    const { req } = axb()
    const decoded = await Effect.runPromise(decodeRequest(req))
    await redis.set(`${prefix}status:${statusKey(decoded.poolKey, decoded.subsId, decoded.callerNo, "aliyun")}`, "{not json", { PX: 10_000 })
    expect(await one.decide(req)).toMatchObject({ decision: "use-x", source: "provider", attempts: 1 })
  })

  it("write access to Redis cannot steer a decision: forged status and flight values are ignored and counted", async () => {
    // a fresh instance for each probe, so that its own memory holds nothing and it must read Redis
    const fresh = () => instance({ deadlineMs: 1000 })
    const { b, req } = axb()
    const decoded = await Effect.runPromise(decodeRequest(req))
    const statusAt = `${prefix}status:${statusKey(decoded.poolKey, decoded.subsId, decoded.callerNo, "aliyun")}`
    const rejectedBefore = await rejected()
    // a status-1 answer that points the call at the attacker's number, unsealed
    await redis.set(statusAt, JSON.stringify({ status: 1, calledNo: "13912345678", extension: null, requestId: "r" }), { PX: 10_000 })
    expect(await (await fresh()).decide(req)).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "provider" })
    // the same, sealed under another secret
    const foreign = makeSealer("not-the-instances-secret")
    await redis.set(statusAt, foreign.seal(statusAt, JSON.stringify({ status: 1, calledNo: "13912345678", extension: null, requestId: "r" })), { PX: 10_000 })
    expect(await (await fresh()).decide(req)).toMatchObject({ dial: b.phoneNoX, source: "provider" })
    // a flight result handing waiters a fallback-real, under a lock the attacker holds
    const lock = await lockOf(req)
    const token = "attacker-token"
    await redis.set(lock, token, { PX: 10_000 })
    await redis.set(flightKeys(prefix, requestKey(decoded)).result(token), JSON.stringify({
      decision: "fallback-real", dial: "13912345678", extension: null, subsId: b.subsId, poolKey: "FC100000000001", status: 3, source: "provider",
      reason: "forged", providerCode: null, attempts: 1, elapsedMs: 1, requestIds: []
    }), { PX: 10_000 })
    await redis.del(statusAt)
    const d = await (await fresh()).decide(req)
    expect(d).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "provider" })
    expect(JSON.stringify(d)).not.toContain("13912345678")
    expect((await rejected()) - rejectedBefore).toBeGreaterThanOrEqual(3)
  })

  it("values are sealed: the stored status is not plain JSON and carries no number", async () => {
    const one = await instance()
    const { req } = axb()
    await one.decide(req)
    const decoded = await Effect.runPromise(decodeRequest(req))
    const raw = await redis.get(`${prefix}status:${statusKey(decoded.poolKey, decoded.subsId, decoded.callerNo, "aliyun")}`)
    expect(raw).toMatch(/^v1\.[A-Za-z0-9_-]{43}\./)
  })

  it("identical requests on both instances at once: one provider call, the same decision", async () => {
    const settings = { statusTtlMs: 0 } // so that only coalescing can save the calls
    const [one, two] = [await instance(settings), await instance(settings)]
    const { b, req } = axb()
    emulator.setFault("QueryCallStatus", { latency: { kind: "fixed", ms: 200 } })
    const ds = await Promise.all([one.decide(req), two.decide(req), one.decide(req), two.decide(req)])
    expect(statusRequests()).toBe(1)
    for (const d of ds) expect(d).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "provider", status: 1, requestIds: ds[0]!.requestIds })
    expect(ds.map((d) => d.attempts).sort()).toEqual([0, 0, 0, 1])
    // the flight leaves nothing behind but its short-lived result; the holder releases its lock just
    // after answering (off the caller's path), so give it a moment, bounded
    const lock = await lockOf(req)
    for (let i = 0; i < 50 && (await redis.get(lock)) !== null; i++) await new Promise((r) => setTimeout(r, 10))
    expect(await redis.get(lock)).toBeNull()
  })

  it("the holder died (its lock left behind, no result): the waiter decides itself within its deadline", async () => {
    const deadlineMs = 1000
    const two = await instance({ deadlineMs })
    const { b, req } = axb()
    await redis.set(await lockOf(req), "a-holder-that-died", { PX: 10_000 })
    const started = performance.now()
    const d = await two.decide(req)
    const took = performance.now() - started
    expect(d).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "provider", attempts: 1 })
    // it waited half its budget for the holder, then asked the provider itself
    expect(took).toBeGreaterThanOrEqual(deadlineMs / 2 - 20)
    expect(took).toBeLessThan(deadlineMs)
    expect(statusRequests()).toBe(1)
  })

  it("the holder died and the provider hangs: the waiter still decides within its own deadline", async () => {
    const deadlineMs = 600
    const two = await instance({ deadlineMs, attemptTimeoutMs: 200 })
    const { req } = axb()
    emulator.setFault("QueryCallStatus", { hang: { rate: 1 } })
    await redis.set(await lockOf(req), "a-holder-that-died", { PX: 10_000 })
    const started = performance.now()
    const d = await two.decide(req)
    expect(performance.now() - started).toBeLessThan(deadlineMs + 100)
    expect(d).toMatchObject({ decision: "use-x", source: "degraded" })
    // elapsedMs counts from arrival: the wait for the dead holder, then its own (degraded) attempt
    expect(d.elapsedMs).toBeGreaterThanOrEqual(deadlineMs / 2)
    expect(d.elapsedMs).toBeLessThanOrEqual(deadlineMs + 20)
  })

  it("the holder's lock released with no result (holder interrupted): the waiter decides at once", async () => {
    const two = await instance({ deadlineMs: 1000 })
    const { req } = axb()
    const lock = await lockOf(req)
    await redis.set(lock, "a-holder-that-gave-up", { PX: 10_000 })
    setTimeout(() => void redis.del(lock), 50)
    const started = performance.now()
    expect(await two.decide(req)).toMatchObject({ source: "provider", attempts: 1 })
    expect(performance.now() - started).toBeLessThan(400)
  })

  it("fallback-real is not shared: no real number is written to Redis", async () => {
    // fallback-real is audited (docs/audit.md): into a file of this test
    const auditDir = mkdtempSync(join(tmpdir(), "precall-shared-"))
    const settings = { statusTtlMs: 0, allowRealFallback: true, auditHashSecret: "shared-audit-secret-0123456789", auditFile: join(auditDir, "exposures.jsonl") }
    onTestFinished(() => rmSync(auditDir, { recursive: true, force: true }))
    const [one, two] = [await instance(settings), await instance(settings)]
    const { b, req } = axb()
    emulator.setCallStatus(b.subsId, { status: 3 })
    emulator.setFault("QueryCallStatus", { latency: { kind: "fixed", ms: 200 } })
    const seen: Array<string> = []
    // every key under the prefix, whatever its type (the rate limits keep hashes there too)
    const watch = setInterval(() => void redis.keys(`${prefix}*`).then(async (keys) => {
      for (const k of keys) {
        const type = await redis.type(k)
        seen.push(type === "string" ? (await redis.get(k)) ?? "" : type === "hash" ? JSON.stringify(await redis.hGetAll(k)) : "")
      }
    }).catch((e: unknown) => seen.push(`watch failed: ${String(e)}`)), 20)
    const ds = await Promise.all([one.decide({ ...req, realCallee: B }), two.decide({ ...req, realCallee: B })])
    clearInterval(watch)
    for (const d of ds) expect(d).toMatchObject({ decision: "fallback-real", dial: B, attempts: 1 })
    expect(statusRequests()).toBe(2)
    expect(seen.join()).not.toContain(B)
    expect(seen.join()).not.toContain("watch failed")
  })
})

describe("Redis down", () => {
  it("no decision fails; the in-memory cache and coalescing keep working", async () => {
    const redisServer = await ownRedisServer()
    try {
      const p = await createPrecall({ aliyunEndpoint: emulator.url, redisUrl: redisServer.url, redisPrefix: prefix, redisKeySecret: SECRET })
      instances.push(p)
      const first = axb()
      expect(await p.decide(first.req)).toMatchObject({ source: "provider", status: 1 })

      await redisServer.stop()

      // written to memory as well as Redis: still served
      expect(await p.decide(first.req)).toMatchObject({ decision: "use-x", source: "cache", attempts: 0 })
      // a new binding: asked once, then reused from memory
      const second = axb()
      emulator.setFault("QueryCallStatus", { latency: { kind: "fixed", ms: 100 } })
      const burst = await Promise.all([p.decide(second.req), p.decide(second.req), p.decide(second.req)])
      for (const d of burst) expect(d).toMatchObject({ decision: "use-x", dial: second.b.phoneNoX, source: "provider" })
      expect(await p.decide(second.req)).toMatchObject({ source: "cache" })
      expect(statusRequests()).toBe(2)
    } finally {
      await redisServer.stop()
    }
  })
})
