/**
 * Outcomes change decisions: through createPrecall against the Aliyun emulator, number-class
 * outcomes on an X crossing the threshold make the next decision rebind onto another X, callee ones
 * never do; and with two instances on the machine's Redis (a fresh key prefix, removed after), the
 * outcomes reported to one change the other's next decision.
 */
import { randomUUID } from "node:crypto"
import { createClient } from "redis"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import type { SettingsInput } from "../../src/policy/settings.ts"
import { createPrecall, type Precall } from "../../src/precall.ts"

const REDIS_URL = "redis://127.0.0.1:6379"
const A = "13800138000"
const B = "13900139000"

let emulator: RunningAliyunEmulator
const redis = createClient({ url: REDIS_URL })
const prefix = `precall-test:${randomUUID()}:`
const instances: Array<Precall> = []
beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 7 })
  await redis.connect()
})
afterEach(async () => {
  await Promise.all(instances.splice(0).map((p) => p.close()))
  emulator.reset()
})
afterAll(async () => {
  await emulator.close()
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await redis.del(keys)
  redis.destroy()
})

const instance = async (settings: SettingsInput = {}) => {
  const p = await createPrecall({ aliyunEndpoint: emulator.url, ...settings })
  instances.push(p)
  return p
}
const onRedis = { redisUrl: REDIS_URL, redisPrefix: prefix, redisTimeoutMs: 200, redisKeySecret: "instances-share-this" } as const

const binding = () => {
  const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 3600 })
  const request = { poolKey: "FC100000000001", subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: A, binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" as const } }
  const outcome = (q850: number) => ({ provider: "aliyun" as const, subsId: b.subsId, phoneNoX: b.phoneNoX, q850 })
  return { b, request, outcome }
}

describe("outcomes change the next decision", () => {
  it("callee-class outcomes never move the call off X; the third number-class one does", async () => {
    const precall = await instance()
    const { b, request, outcome } = binding()
    expect(await precall.decide(request)).toMatchObject({ decision: "use-x", dial: b.phoneNoX })
    for (const q850 of [17, 18, 19, 20, 21, 26, 17, 17]) expect(await precall.reportOutcome(outcome(q850))).toMatchObject({ marksX: false })
    expect(await precall.decide(request)).toMatchObject({ decision: "use-x", dial: b.phoneNoX })
    await precall.reportOutcome(outcome(1))
    await precall.reportOutcome(outcome(28))
    expect(await precall.decide(request)).toMatchObject({ decision: "use-x", dial: b.phoneNoX })
    expect(await precall.reportOutcome(outcome(3))).toMatchObject({ outcomeClass: "number", marksX: true })
    const moved = await precall.decide(request)
    expect(moved).toMatchObject({ decision: "rebind", previousSubsId: b.subsId })
    expect(moved.dial).not.toBe(b.phoneNoX)
    expect(moved.reason).toMatch(/3 number-class call failures on X/)
  })

  it("a threshold of 1 moves the call after one number-class outcome (PRECALL_X_FAILURE_THRESHOLD)", async () => {
    const precall = await instance({ xFailureThreshold: 1 })
    const { b, request, outcome } = binding()
    await precall.reportOutcome(outcome(1))
    expect(await precall.decide(request)).toMatchObject({ decision: "rebind", previousSubsId: b.subsId })
  })

  it("a bad report rejects with INVALID_REQUEST and every problem", async () => {
    const precall = await instance()
    await expect(precall.reportOutcome({ provider: "aliyun", subsId: "s", phoneNoX: "1", q850: 500 } as never)).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      issues: expect.arrayContaining([expect.objectContaining({ path: "phoneNoX" }), expect.objectContaining({ path: "q850" })])
    })
  })
})

describe("two instances on one Redis", () => {
  it("outcomes reported to one instance change the other instance's next decision", async () => {
    const [one, two] = [await instance(onRedis), await instance(onRedis)]
    const { b, request, outcome } = binding()
    expect(await two.decide(request)).toMatchObject({ decision: "use-x", dial: b.phoneNoX })
    for (const q850 of [1, 1, 22]) await one.reportOutcome(outcome(q850))
    const moved = await two.decide(request)
    expect(moved).toMatchObject({ decision: "rebind", previousSubsId: b.subsId })
    expect(moved.dial).not.toBe(b.phoneNoX)
  })
})
