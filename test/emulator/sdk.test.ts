/**
 * Aliyun's own SDKs, unchanged, against the emulator over loopback: pop-core (v1, GET and POST form)
 * and openapi-core (V3 by default, and v1 via signatureAlgorithm "v2").
 */
import RPCClient from "@alicloud/pop-core"
import type OpenApiModule from "@alicloud/openapi-core"
import { createRequire } from "node:module"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import type { RunningAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { expirationIn } from "./support.ts"

// require(), because vitest's and Node's ESM interop disagree on what a default import of this
// __esModule-flagged CommonJS package is; require() is module.exports in both.
const OpenApi = createRequire(import.meta.url)("@alicloud/openapi-core") as typeof OpenApiModule

const POOL = "FC100000000001"
const VERSION = "2017-05-25"
let emu: RunningAliyunEmulator

beforeAll(async () => {
  emu = await startAliyunEmulator({ seed: 7 })
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

type Reply = Record<string, any>

describe("@alicloud/pop-core RPCClient", () => {
  const client = (secret = emu.accessKeySecret) =>
    new RPCClient({ accessKeyId: emu.accessKeyId, accessKeySecret: secret, endpoint: emu.url, apiVersion: VERSION })

  it("binds, queries, updates and unbinds over POST and GET", async () => {
    const c = client()
    const bound = await c.request<Reply>("BindAxb", {
      PoolKey: POOL, PhoneNoA: "13800138000", PhoneNoB: "13900139000", Expiration: expirationIn(3600),
      ExpectCity: "杭州", OutId: "a*b~c d!'()"
    }, { method: "POST" })
    expect(bound).toMatchObject({ Code: "OK", SecretBindDTO: { SecretNo: "17000000000" } })
    const subsId: string = bound["SecretBindDTO"]["SubsId"]

    for (const method of ["GET", "POST"]) {
      const status = await c.request<Reply>("QueryCallStatus", { PoolKey: POOL, SubsId: subsId, CallNo: "13800138000" }, { method })
      expect(status["SecretCallStatusDTO"]).toEqual({ Status: 1, CalledNo: "17000000000" })
    }

    const updated = await c.request<Reply>("UpdateSubscription", {
      PoolKey: POOL, SubsId: subsId, PhoneNoX: "17000000000", OperateType: "updateNoB", PhoneNoB: "13700137000"
    }, { method: "POST" })
    expect(updated["Code"]).toBe("OK")
    const detail = await c.request<Reply>("QuerySubscriptionDetail", { PoolKey: POOL, SubsId: subsId, PhoneNoX: "17000000000" }, { method: "POST" })
    expect(detail["SecretBindDetailDTO"]).toMatchObject({ SubsId: subsId, PhoneNoA: "13800138000", PhoneNoB: "13700137000", PhoneNoX: "17000000000", Status: 1 })
    expect(detail["SecretBindDetailDTO"]["ExpireDate"]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)

    expect((await c.request<Reply>("UnbindSubscription", { PoolKey: POOL, SubsId: subsId, SecretNo: "17000000000" }, { method: "POST" }))["Code"]).toBe("OK")
    const gone = await c.request("QueryCallStatus", { PoolKey: POOL, SubsId: subsId }, { method: "GET" }).catch((e: unknown) => e)
    expect(gone).toMatchObject({ name: "isv.SUBS_NOT_EXISTError", code: "isv.SUBS_NOT_EXIST" })
  })

  it("AXN extension binding with a given X and extension", async () => {
    const bound = await client().request<Reply>("BindAxnExtension", {
      PoolKey: POOL, PhoneNoA: "13800138000", PhoneNoX: "17000000042", Extension: "130", Expiration: expirationIn(600)
    }, { method: "POST" })
    expect(bound["SecretBindDTO"]).toMatchObject({ SecretNo: "17000000042", Extension: "130" })
    const status = await client().request<Reply>("QueryCallStatus", { PoolKey: POOL, SubsId: bound["SecretBindDTO"]["SubsId"] })
    expect(status["SecretCallStatusDTO"]).toEqual({ Status: 1, CalledNo: "17000000042", Extension: "130" })
  })

  it("a wrong secret is SignatureDoesNotMatch", async () => {
    const err = await client("not-the-secret").request("QueryCallStatus", { PoolKey: POOL, SubsId: "1" }, { method: "GET" }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: "SignatureDoesNotMatchError", code: "SignatureDoesNotMatch" })
    expect((err as { data: Reply }).data["Message"]).toContain("server string to sign is:GET&%2F&AccessKeyId%3D")
  })
})

describe("@alicloud/openapi-core callApi", () => {
  const Client = OpenApi.default
  type CallArgs = Parameters<InstanceType<typeof Client>["callApi"]>
  const client = (o: { secret?: string; signatureAlgorithm?: string } = {}) =>
    new Client(new OpenApi.$OpenApiUtil.Config({
      accessKeyId: emu.accessKeyId,
      accessKeySecret: o.secret ?? emu.accessKeySecret,
      endpoint: new URL(emu.url).host,
      protocol: "http",
      ...(o.signatureAlgorithm === undefined ? {} : { signatureAlgorithm: o.signatureAlgorithm })
    }))
  const params = (action: string) => new OpenApi.$OpenApiUtil.Params({
    action, version: VERSION, protocol: "HTTP", pathname: "/", method: "POST", authType: "AK", style: "RPC", reqBodyType: "formData", bodyType: "json"
  })
  const call = (c: InstanceType<typeof Client>, action: string, query: Record<string, string>, body?: Record<string, string>): Promise<Reply> =>
    c.callApi(params(action), new OpenApi.$OpenApiUtil.OpenApiRequest({ query, ...(body === undefined ? {} : { body }) }), {} as CallArgs[2])

  for (const signatureAlgorithm of [undefined, "v2"]) {
    const style = signatureAlgorithm === undefined ? "V3 (default)" : "v1 (signatureAlgorithm v2)"

    it(`${style}: BindAxn then QueryCallStatus`, async () => {
      const c = client(signatureAlgorithm === undefined ? {} : { signatureAlgorithm })
      const bound = await call(c, "BindAxn", { PoolKey: POOL, PhoneNoA: "13800138000", Expiration: expirationIn(600) })
      expect(bound["statusCode"]).toBe(200)
      const subsId: string = bound["body"]["SecretBindDTO"]["SubsId"]
      const status = await call(c, "QueryCallStatus", { PoolKey: POOL, SubsId: subsId })
      expect(status["body"]).toMatchObject({ Code: "OK", SecretCallStatusDTO: { Status: 1, CalledNo: bound["body"]["SecretBindDTO"]["SecretNo"] } })
    })

    it(`${style}: parameters in a form body are merged with the query`, async () => {
      const c = client(signatureAlgorithm === undefined ? {} : { signatureAlgorithm })
      const { subsId } = emu.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 600 })
      const status = await call(c, "QueryCallStatus", { PoolKey: POOL }, { SubsId: subsId })
      expect(status["body"]["SecretCallStatusDTO"]["Status"]).toBe(1)
    })

    it(`${style}: a business error comes back as a normal HTTP 200 result`, async () => {
      const reply = await call(client(signatureAlgorithm === undefined ? {} : { signatureAlgorithm }), "QueryCallStatus", { PoolKey: POOL, SubsId: "1000000000009999" })
      expect([reply["statusCode"], reply["body"]["Code"]]).toEqual([200, "isv.SUBS_NOT_EXIST"])
    })

    it(`${style}: a wrong secret is a ClientError SignatureDoesNotMatch`, async () => {
      const err = await call(client({ secret: "not-the-secret", ...(signatureAlgorithm === undefined ? {} : { signatureAlgorithm }) }), "QueryCallStatus", { PoolKey: POOL, SubsId: "1" })
        .catch((e: unknown) => e)
      expect(err).toMatchObject({ name: "ClientError", code: "SignatureDoesNotMatch", statusCode: 400 })
      // The server's string to sign shows which signature the SDK really used.
      expect((err as { data: Reply }).data["Message"]).toContain(
        signatureAlgorithm === undefined ? "server string to sign is:ACS3-HMAC-SHA256\n" : "server string to sign is:POST&%2F&AccessKeyId%3D"
      )
    })
  }

  it("throttling surfaces as the SDK's ThrottlingError with retryAfter", async () => {
    emu.setFault("QueryCallStatus", { throttle: { qps: 1 } })
    const c = client()
    await call(c, "QueryCallStatus", { PoolKey: POOL, SubsId: "1" })
    const err = await call(c, "QueryCallStatus", { PoolKey: POOL, SubsId: "1" }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: "ThrottlingError", code: "Throttling.User", statusCode: 400 })
    expect((err as { retryAfter: number }).retryAfter).toBeGreaterThan(0)
  })
})
