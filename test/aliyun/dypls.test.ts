/**
 * The Dyplsapi actions of the adapter (src/providers/aliyun/dypls.ts) over real HTTP against the
 * emulator, with both signatures: every action's reply decoded, business errors typed and classified.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { ProviderError } from "../../src/domain/errors.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { makeAliyunRpc } from "../../src/providers/aliyun/client.ts"
import { type Dypls, DYPLS_VERSION, makeDypls } from "../../src/providers/aliyun/dypls.ts"

const A = "13800138000"
const B = "13900139000"
const POOL = "FC100000000001"
let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 5 })
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const run = <A, E>(signature: "v1" | "v3", f: (dypls: Dypls) => Effect.Effect<A, E>) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const rpc = yield* makeAliyunRpc({
        endpoint: emulator.url, signature, version: DYPLS_VERSION,
        credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: Redacted.make(emulator.accessKeySecret) }
      })
      return yield* f(makeDypls(rpc))
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

const failure = <A>(signature: "v1" | "v3", f: (dypls: Dypls) => Effect.Effect<A, ProviderError>): Promise<ProviderError> =>
  run(signature, (d) => Effect.flip(f(d)))

const inAnHour = () => Date.now() + 3600_000

describe.each(["v3", "v1"] as const)("Dypls actions, signature %s", (signature) => {
  it("BindAxb, BindAxn and BindAxnExtension make bindings of their mode", async () => {
    const axb = await run(signature, (d) => d.bind({ mode: "AXB", poolKey: POOL, phoneNoA: A, phoneNoB: B, expiresAt: inAnHour() }))
    const axn = await run(signature, (d) => d.bind({ mode: "AXN", poolKey: POOL, phoneNoA: "13700137000", expiresAt: inAnHour() }))
    const ext = await run(signature, (d) =>
      d.bind({ mode: "AXN_EXTENSION", poolKey: POOL, phoneNoA: "13600136000", phoneNoX: "17000000050", extension: "123", expiresAt: inAnHour() }))
    expect(emulator.binding(axb.SecretBindDTO.SubsId)).toMatchObject({ mode: "AXB", phoneNoA: A, phoneNoB: B, phoneNoX: axb.SecretBindDTO.SecretNo })
    expect(emulator.binding(axn.SecretBindDTO.SubsId)).toMatchObject({ mode: "AXN", phoneNoA: "13700137000" })
    expect(ext.SecretBindDTO).toMatchObject({ SecretNo: "17000000050", Extension: "123" })
    expect(emulator.binding(ext.SecretBindDTO.SubsId)).toMatchObject({ mode: "AXN_EXTENSION", extension: "123" })
    // Expiration went out in Beijing time: the binding lives about an hour
    expect(emulator.binding(axb.SecretBindDTO.SubsId).expiresInSeconds).toBeGreaterThan(3500)
    expect(emulator.binding(axb.SecretBindDTO.SubsId).expiresInSeconds).toBeLessThanOrEqual(3600)
  })

  it("QueryCallStatus and QuerySubscriptionDetail decode their DTOs", async () => {
    const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 600 })
    const status = await run(signature, (d) => d.queryCallStatus({ poolKey: POOL, subsId: b.subsId, callNo: A }))
    expect(status.SecretCallStatusDTO).toMatchObject({ Status: 1, CalledNo: b.phoneNoX })
    const detail = await run(signature, (d) => d.querySubscriptionDetail({ poolKey: POOL, subsId: b.subsId, phoneNoX: b.phoneNoX }))
    expect(detail.SecretBindDetailDTO).toMatchObject({ SubsId: b.subsId, PhoneNoA: A, PhoneNoB: B, PhoneNoX: b.phoneNoX, Status: 1 })
  })

  it("UpdateSubscription changes B and the expiry; UnbindSubscription ends the binding", async () => {
    const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 600 })
    const ref = { poolKey: POOL, subsId: b.subsId, phoneNoX: b.phoneNoX }
    await run(signature, (d) => d.updateSubscription({ ...ref, operation: { operateType: "updateNoB", phoneNoB: "13500135000" } }))
    expect(emulator.binding(b.subsId).phoneNoB).toBe("13500135000")
    await run(signature, (d) => d.updateSubscription({ ...ref, operation: { operateType: "updateExpire", expiresAt: Date.now() + 7200_000 } }))
    expect(emulator.binding(b.subsId).expiresInSeconds).toBeGreaterThan(7000)
    await run(signature, (d) => d.unbindSubscription({ poolKey: POOL, subsId: b.subsId, secretNo: b.phoneNoX }))
    const gone = await failure(signature, (d) => d.queryCallStatus({ poolKey: POOL, subsId: b.subsId }))
    expect(gone).toMatchObject({ code: "isv.SUBS_NOT_EXIST", errorClass: "binding", action: "QueryCallStatus" })
  })

  it("business errors are typed, classified and keep the provider's code and request id", async () => {
    const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 60 })
    emulator.advanceClock(120)
    const expired = await failure(signature, (d) =>
      d.updateSubscription({ poolKey: POOL, subsId: b.subsId, phoneNoX: b.phoneNoX, operation: { operateType: "updateExpire", expiresAt: inAnHour() } }))
    expect(expired).toBeInstanceOf(ProviderError)
    expect(expired).toMatchObject({ code: "isv.FORBIDDEN_ACTION", errorClass: "binding", httpStatus: 200 })
    expect(expired.requestId).toMatch(/^[0-9A-F-]{36}$/)
    const tooSoon = await failure(signature, (d) => d.bind({ mode: "AXB", poolKey: POOL, phoneNoA: A, phoneNoB: B, expiresAt: Date.now() + 10_000 }))
    expect(tooSoon).toMatchObject({ code: "isv.EXPIRE_DATE_ILLEGAL", errorClass: "bad-input" })
    const badNumber = await failure(signature, (d) => d.bind({ mode: "AXB", poolKey: POOL, phoneNoA: "12345", phoneNoB: B, expiresAt: inAnHour() }))
    expect(badNumber).toMatchObject({ code: "isv.MOBILE_NUMBER_ILLEGAL", errorClass: "bad-input" })
    const noPool = await failure(signature, (d) => d.queryCallStatus({ poolKey: "FCNOPE", subsId: b.subsId }))
    expect(noPool).toMatchObject({ code: "isv.POOLKEY_NOT_EXISTS", errorClass: "configuration" })
  })
})
