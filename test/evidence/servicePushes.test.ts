/**
 * Two HTTP service instances as runService assembles them (engine, evidence, routes), with a Huawei
 * app configured, on the machine's Redis (fresh prefix, removed after): a push received by one
 * instance is in the other instance's evidence store, and outcomes posted to one instance move the
 * other's next decision off the X. Without a Huawei app the push route is not served.
 */
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { huaweiPushOptions } from "../../src/service/pushes.ts"
import { API_KEY, type Instance, removeRedisKeys, serviceInstance } from "../pipeline/huaweiSupport.ts"
import { APP, numStatus, signedHeaders } from "./pushSupport.ts"

const REDIS_URL = "redis://127.0.0.1:6379"
const X = "+8617000000009"
const prefix = `precall-test:${randomUUID()}:`
let emulator: RunningAliyunEmulator
const instances: Array<Instance> = []

beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 21 })
})
afterAll(async () => {
  await Promise.all(instances.map((i) => i.dispose()))
  await emulator.close()
  await removeRedisKeys(prefix, REDIS_URL)
})

/** One service instance on a free loopback port (test/pipeline/huaweiSupport.ts), with or without a Huawei app. */
const instanceOf = async (huawei = true) => {
  const huaweiApp: SettingsInput = huawei ? { huaweiAppKey: APP.appKey, huaweiAppSecret: Redacted.value(APP.appSecret) } : {}
  const instance = await serviceInstance({
    aliyunEndpoint: emulator.url, redisUrl: REDIS_URL, redisPrefix: prefix, redisTimeoutMs: 200, redisKeySecret: "instances-share-this", ...huaweiApp
  })
  instances.push(instance)
  return instance
}

const post = async (url: string, body: unknown, headers: Record<string, string>) => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })
  return { status: res.status, text: await res.text() }
}
const bearer = { authorization: `Bearer ${API_KEY}` }

describe("two service instances on one Redis", () => {
  it("a Huawei push to one instance is in the other's evidence; a forged one is in neither", async () => {
    const [one, two] = [await instanceOf(), await instanceOf()]
    const events = `${one.url}/v1/providers/huawei/events`
    expect(await post(events, numStatus([{ number: X, status: "10", cause: "3" }]), signedHeaders({ secret: "guessed" }))).toMatchObject({ status: 401 })
    expect(await Effect.runPromise(two.store.xStatus("huawei", X))).toBeUndefined()
    expect(await post(events, numStatus([{ number: X, status: "10", cause: "3" }]), signedHeaders())).toEqual({ status: 200, text: "" })
    expect(await Effect.runPromise(two.store.xStatus("huawei", X))).toMatchObject({ availability: "unavailable", status: "10", cause: "3" })
    // pushes are not under the API keys: a bearer key alone is not a signature
    expect((await post(events, numStatus([{ number: X, status: "5" }]), bearer)).status).toBe(401)
  })

  it("outcomes posted to one instance move the other's next decision off the X", async () => {
    const [one, two] = [await instanceOf(), await instanceOf()]
    const b = emulator.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })
    const request = { poolKey: "FC100000000001", subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: "13800138000", binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" } }
    const decide = async (url: string) => (await fetch(`${url}/v1/decisions`, { method: "POST", headers: { "content-type": "application/json", ...bearer }, body: JSON.stringify(request) })).json() as Promise<{ readonly dial: string }>
    expect(await decide(two.url)).toMatchObject({ decision: "use-x", dial: b.phoneNoX })
    for (const q850 of [1, 1, 1]) {
      const res = await post(`${one.url}/v1/outcomes`, { provider: "aliyun", subsId: b.subsId, phoneNoX: b.phoneNoX, q850 }, bearer)
      expect(JSON.parse(res.text)).toEqual({ outcomeClass: "number", marksX: true, pending: false })
    }
    const moved = await decide(two.url)
    expect(moved).toMatchObject({ decision: "rebind", previousSubsId: b.subsId })
    expect(moved.dial).not.toBe(b.phoneNoX)
  })

  it("without a Huawei app configured the push route is not served", async () => {
    const settings = Effect.runSync(settingsFromObject({ aliyunEndpoint: emulator.url }))
    expect(huaweiPushOptions(settings)).toBeUndefined()
    const bare = await instanceOf(false)
    expect((await post(`${bare.url}/v1/providers/huawei/events`, numStatus([{ number: X, status: "5" }]), signedHeaders())).status).toBe(404)
  })
})
