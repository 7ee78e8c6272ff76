/**
 * Wire-level behaviour of the emulator over loopback, with hand-signed requests: the three request
 * shapes, gateway checks (timestamp, nonce, signature, version, action, parameters), XML, limits and
 * every fault kind.
 */
import { request as httpRequest } from "node:http"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import type { RunningAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { aliyunTimestamp, stringToSignV1 } from "../../src/providers/aliyun/signature.ts"
import { expirationIn, json, signedParams, v1, v3 } from "./support.ts"

const POOL = "FC100000000001"
let emu: RunningAliyunEmulator

beforeAll(async () => {
  emu = await startAliyunEmulator({ accessKeyId: "wire-key", accessKeySecret: "wire-secret", seed: 42 })
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const bindAxb = () => emu.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })

describe("request shapes", () => {
  it("GET with every parameter in the query", async () => {
    const { subsId, phoneNoX } = bindAxb()
    const res = await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: subsId, CallNo: "13800138000" })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("application/json;charset=utf-8")
    const body = await json(res)
    expect(body).toMatchObject({ Code: "OK", Message: "OK", SecretCallStatusDTO: { Status: 1, CalledNo: phoneNoX } })
    expect(body["RequestId"]).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
    expect(res.headers.get("x-acs-request-id")).toBe(body["RequestId"])
  })

  it("POST / with every parameter in a form body, including characters that need encoding", async () => {
    const res = await v1(emu, "BindAxb", {
      PoolKey: POOL, PhoneNoA: "13800138000", PhoneNoB: "13900139000", Expiration: expirationIn(3600),
      ExpectCity: "杭州", OutId: "a*b~c d!'()"
    }, { method: "POST" })
    const body = await json(res)
    expect(body).toMatchObject({ Code: "OK", SecretBindDTO: { SecretNo: "17000000000" } })
    expect(body["SecretBindDTO"]["SubsId"]).toMatch(/^\d{16}$/)
    expect(body["SecretBindDTO"]).not.toHaveProperty("Extension")
  })

  it("V3: POST with the query and ACS3-HMAC-SHA256 headers", async () => {
    const { subsId, phoneNoX } = bindAxb()
    const res = await v3(emu, "QueryCallStatus", { query: { PoolKey: POOL, SubsId: subsId } })
    expect(await json(res)).toMatchObject({ Code: "OK", SecretCallStatusDTO: { Status: 1, CalledNo: phoneNoX } })
  })

  it("V3: query and form body are merged", async () => {
    const { subsId } = bindAxb()
    const res = await v3(emu, "QueryCallStatus", { query: { PoolKey: POOL }, form: { SubsId: subsId } })
    expect(await json(res)).toMatchObject({ Code: "OK", SecretCallStatusDTO: { Status: 1 } })
  })

  it("V3: a body that does not match x-acs-content-sha256 fails the signature", async () => {
    const res = await v3(emu, "QueryCallStatus", { query: { PoolKey: POOL }, form: { SubsId: "1" }, contentSha256: "0".repeat(64) })
    expect(res.status).toBe(400)
    expect((await json(res))["Code"]).toBe("SignatureDoesNotMatch")
  })
})

describe("gateway checks", () => {
  const query = () => ({ PoolKey: POOL, SubsId: bindAxb().subsId })

  it("error bodies carry RequestId, Code, Message, HostId and Recommend", async () => {
    const res = await v1(emu, "QueryCallStatus", query(), { secret: "wrong" })
    expect(res.status).toBe(400)
    const body = await json(res)
    expect(Object.keys(body).sort()).toEqual(["Code", "HostId", "Message", "Recommend", "RequestId"])
    expect(body).toMatchObject({ Code: "SignatureDoesNotMatch", HostId: "dyplsapi.aliyuncs.com" })
    expect(body["Recommend"]).toContain(`q=SignatureDoesNotMatch&product=Dyplsapi&requestId=${body["RequestId"]}`)
  })

  it("SignatureDoesNotMatch shows the server's string to sign", async () => {
    const params = signedParams(emu, "QueryCallStatus", query(), { secret: "wrong" })
    const res = await fetch(`${emu.url}/?${new URLSearchParams(params).toString().replaceAll("+", "%20")}`)
    const body = await json(res)
    expect(body["Message"]).toBe(
      `Specified signature is not matched with our calculation. server string to sign is:${stringToSignV1("GET", params)}`
    )
  })

  it("V3 with a wrong secret is SignatureDoesNotMatch with the V3 string to sign", async () => {
    const res = await v3(emu, "QueryCallStatus", { query: query(), secret: "wrong" })
    const body = await json(res)
    expect([res.status, body["Code"]]).toEqual([400, "SignatureDoesNotMatch"])
    expect(body["Message"]).toMatch(/server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/)
  })

  it("a timestamp more than 15 minutes off the wall clock is expired, either way", async () => {
    for (const skew of [-16 * 60_000, 16 * 60_000]) {
      const res = await v1(emu, "QueryCallStatus", query(), { timestamp: aliyunTimestamp(Date.now() + skew) })
      expect([res.status, (await json(res))["Code"]]).toEqual([400, "InvalidTimeStamp.Expired"])
    }
    const v3res = await v3(emu, "QueryCallStatus", { query: query(), date: aliyunTimestamp(Date.now() - 16 * 60_000) })
    expect((await json(v3res))["Code"]).toBe("InvalidTimeStamp.Expired")
  })

  it("14 minutes of skew is still accepted", async () => {
    const res = await v1(emu, "QueryCallStatus", query(), { timestamp: aliyunTimestamp(Date.now() - 14 * 60_000) })
    expect((await json(res))["Code"]).toBe("OK")
  })

  it("fractional seconds or local-time formats are InvalidTimeStamp.Format", async () => {
    for (const timestamp of [new Date().toISOString(), "2026-01-02 03:04:05", "2026-13-02T03:04:05Z"]) {
      const res = await v1(emu, "QueryCallStatus", query(), { timestamp })
      expect([res.status, (await json(res))["Code"]]).toEqual([400, "InvalidTimeStamp.Format"])
    }
  })

  it("a nonce is refused the second time (v1 and V3)", async () => {
    const q = query()
    expect((await json(await v1(emu, "QueryCallStatus", q, { nonce: "nonce-1" })))["Code"]).toBe("OK")
    const replay = await v1(emu, "QueryCallStatus", q, { nonce: "nonce-1" })
    expect([replay.status, (await json(replay))["Code"]]).toEqual([400, "SignatureNonceUsed"])
    expect((await json(await v3(emu, "QueryCallStatus", { query: q, nonce: "nonce-2" })))["Code"]).toBe("OK")
    expect((await json(await v3(emu, "QueryCallStatus", { query: q, nonce: "nonce-2" })))["Code"]).toBe("SignatureNonceUsed")
  })

  it("a request with a bad signature does not burn its nonce", async () => {
    const q = query()
    await v1(emu, "QueryCallStatus", q, { nonce: "nonce-3", secret: "wrong" })
    expect((await json(await v1(emu, "QueryCallStatus", q, { nonce: "nonce-3" })))["Code"]).toBe("OK")
  })

  it.each([
    ["an unknown AccessKeyId", { accessKeyId: "nobody" }, "QueryCallStatus", 404, "InvalidAccessKeyId.NotFound"],
    ["a wrong Version", { version: "2019-01-01" }, "QueryCallStatus", 400, "InvalidVersion"],
    // cams (2020-06-06) shares the port; its version does not serve Dyplsapi's actions
    ["a Dyplsapi action under cams' Version", { version: "2020-06-06" }, "QueryCallStatus", 404, "InvalidAction.NotFound"],
    ["an unknown Action", {}, "SendSms", 404, "InvalidAction.NotFound"],
    ["an unknown Format", { format: "YAML" }, "QueryCallStatus", 400, "InvalidParameter.Format"]
  ] as const)("%s", async (_name, o, action, status, code) => {
    const res = await v1(emu, action, query(), o)
    expect([res.status, (await json(res))["Code"]]).toEqual([status, code])
  })

  it("a missing required parameter is Missing<Param>", async () => {
    const res = await v1(emu, "QueryCallStatus", { PoolKey: POOL })
    const body = await json(res)
    expect([res.status, body["Code"], body["Message"]]).toEqual([400, "MissingSubsId", "SubsId is mandatory for this action."])
    const bind = await json(await v1(emu, "BindAxb", { PoolKey: POOL, PhoneNoA: "13800138000", Expiration: expirationIn(3600) }, { method: "POST" }))
    expect(bind["Code"]).toBe("MissingPhoneNoB")
  })

  it("business errors are HTTP 200 with Code != OK", async () => {
    const res = await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: "1000000000009999" })
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ Code: "isv.SUBS_NOT_EXIST" })
    const bad = await json(await v1(emu, "BindAxb", { PoolKey: POOL, PhoneNoA: "138", PhoneNoB: "13900139000", Expiration: expirationIn(3600) }))
    expect(bad["Code"]).toBe("isv.MOBILE_NUMBER_ILLEGAL")
  })

  it("Expiration is Beijing time and must be at least a minute ahead", async () => {
    const bind = (Expiration: string) => v1(emu, "BindAxn", { PoolKey: POOL, PhoneNoA: "13800138000", Expiration }).then(json)
    expect((await bind(expirationIn(30)))["Code"]).toBe("isv.EXPIRE_DATE_ILLEGAL")
    // The same wall time written as UTC is 8 hours in the past for the emulator.
    const utcWritten = new Date(Date.now() + 3600_000).toISOString().slice(0, 19).replace("T", " ")
    expect(await bind(utcWritten)).toMatchObject({ Code: "isv.EXPIRE_DATE_ILLEGAL", Message: "expireDate less than 1 minutes from now" })
    expect((await bind("2026/01/02 12:00:00"))["Code"]).toBe("isv.EXPIRE_DATE_ILLEGAL")
    expect((await bind(expirationIn(120)))["Code"]).toBe("OK")
  })

  it("verifySignatures: false accepts unsigned calls", async () => {
    const open = await startAliyunEmulator({ verifySignatures: false })
    try {
      const { subsId } = open.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 600 })
      const res = await fetch(`${open.url}/?Action=QueryCallStatus&Version=2017-05-25&PoolKey=${POOL}&SubsId=${subsId}`)
      expect(await json(res)).toMatchObject({ Code: "OK", SecretCallStatusDTO: { Status: 1 } })
    } finally {
      await open.close()
    }
  })
})

describe("XML", () => {
  it("Format=XML gives XML replies and XML errors", async () => {
    const { subsId, phoneNoX } = bindAxb()
    const ok = await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: subsId }, { format: "XML" })
    expect(ok.headers.get("content-type")).toBe("text/xml;charset=utf-8")
    const text = await ok.text()
    expect(text).toMatch(/^<\?xml version='1.0' encoding='UTF-8'\?><QueryCallStatusResponse><RequestId>[0-9A-F-]{36}<\/RequestId><Code>OK<\/Code>/)
    expect(text).toContain(`<SecretCallStatusDTO><Status>1</Status><CalledNo>${phoneNoX}</CalledNo></SecretCallStatusDTO></QueryCallStatusResponse>`)
    const err = await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: subsId }, { format: "xml", secret: "wrong" })
    expect(err.status).toBe(400)
    expect(await err.text()).toMatch(/<Error><RequestId>.*<\/RequestId><HostId>dyplsapi.aliyuncs.com<\/HostId><Code>SignatureDoesNotMatch<\/Code>/s)
  })
})

describe("bad input never crashes the emulator", () => {
  it("a body over 64 KiB is a 413", async () => {
    const res = await fetch(`${emu.url}/`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `Pad=${"x".repeat(70 * 1024)}` })
    expect([res.status, (await json(res))["Code"]]).toEqual([413, "EntityTooLarge"])
  })

  it("malformed percent-encoding is InvalidParameter", async () => {
    const res = await fetch(`${emu.url}/?Action=QueryCallStatus&SubsId=%E0%A4%A`)
    expect([res.status, (await json(res))["Code"]]).toEqual([400, "InvalidParameter"])
  })

  it.each(["PUT", "DELETE", "PATCH", "OPTIONS"])("%s is UnsupportedHTTPMethod", async (method) => {
    const res = await fetch(`${emu.url}/?Action=QueryCallStatus`, { method })
    expect([res.status, (await json(res))["Code"]]).toEqual([400, "UnsupportedHTTPMethod"])
  })

  it("another path is InvalidApi.NotFound, and the emulator still answers afterwards", async () => {
    const res = await fetch(`${emu.url}/favicon.ico`)
    expect([res.status, (await json(res))["Code"]]).toEqual([404, "InvalidApi.NotFound"])
    expect((await fetch(`${emu.url}/_emulator/health`)).status).toBe(200)
  })
})

describe("faults", () => {
  const query = () => ({ PoolKey: POOL, SubsId: bindAxb().subsId })

  it("fixed latency delays the reply", async () => {
    emu.setFault("QueryCallStatus", { latency: { kind: "fixed", ms: 150 } })
    const q = query()
    const started = performance.now()
    expect((await json(await v1(emu, "QueryCallStatus", q)))["Code"]).toBe("OK")
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
  })

  it.each([
    ["isp.SYSTEM_ERROR", 200],
    ["isv.FLOW_LIMIT", 200],
    ["InternalError", 500],
    ["ServiceUnavailable", 503],
    ["Throttling.User", 400]
  ] as const)("injected %s answers HTTP %i", async (code, status) => {
    emu.setFault("QueryCallStatus", { errors: [{ code, rate: 1 }] })
    const res = await v1(emu, "QueryCallStatus", query())
    expect([res.status, (await json(res))["Code"]]).toEqual([status, code])
  })

  it("a fault on <action>@<SubsId> hits that binding's calls alone, over the action's own fault", async () => {
    const faulty = query()
    const healthy = query()
    emu.setFault("QueryCallStatus", { latency: { kind: "fixed", ms: 1 } })
    emu.setFault(`QueryCallStatus@${faulty.SubsId}`, { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] })
    expect((await json(await v1(emu, "QueryCallStatus", faulty)))["Code"]).toBe("isp.SYSTEM_ERROR")
    expect((await json(await v1(emu, "QueryCallStatus", healthy)))["Code"]).toBe("OK")
    expect(() => emu.setFault("QueryCallStatus@bad id", { hang: { rate: 1 } })).toThrow(/invalid SubsId/)
    const viaControl = await fetch(`${emu.url}/_emulator/faults/QueryCallStatus@${healthy.SubsId}`, {
      method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ errors: [{ code: "isv.FLOW_LIMIT", rate: 1 }] })
    })
    expect(viaControl.status).toBe(200)
    expect((await json(await v1(emu, "QueryCallStatus", healthy)))["Code"]).toBe("isv.FLOW_LIMIT")
  })

  it("error draws are seeded: the same seed gives the same sequence", async () => {
    const run = async () => {
      emu.reset()
      emu.setFault("*", { errors: [{ code: "isp.SYSTEM_ERROR", rate: 0.5 }] })
      const q = query()
      const codes: Array<string> = []
      for (let i = 0; i < 12; i++) codes.push((await json(await v1(emu, "QueryCallStatus", q)))["Code"])
      return codes
    }
    const first = await run()
    expect(first).toContain("OK")
    expect(first).toContain("isp.SYSTEM_ERROR")
    expect(await run()).toEqual(first)
  })

  it("an action's own fault overrides `*`; other actions keep `*`", async () => {
    emu.setFault("*", { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] })
    emu.setFault("QueryCallStatus", { latency: { kind: "fixed", ms: 0 }, errors: [] })
    const q = query()
    expect((await json(await v1(emu, "QueryCallStatus", q)))["Code"]).toBe("OK")
    expect((await json(await v1(emu, "BindAxn", { PoolKey: POOL, PhoneNoA: "13800138000", Expiration: expirationIn(600) })))["Code"]).toBe("isp.SYSTEM_ERROR")
    emu.clearFaults()
    expect((await json(await v1(emu, "BindAxn", { PoolKey: POOL, PhoneNoA: "13800138000", Expiration: expirationIn(600) })))["Code"]).toBe("OK")
  })

  it("a hang never answers; the client gives up and the emulator keeps serving", async () => {
    emu.setFault("QueryCallStatus", { hang: { rate: 1 } })
    const q = query()
    await expect(v1(emu, "QueryCallStatus", q, {}, { signal: AbortSignal.timeout(200) })).rejects.toThrow()
    emu.clearFaults()
    expect((await json(await v1(emu, "QueryCallStatus", q)))["Code"]).toBe("OK")
    expect(emu.stats().actions["QueryCallStatus"]?.codes["(hang)"]).toBe(1)
  })

  it("close() ends hanging requests instead of waiting for them", async () => {
    const own = await startAliyunEmulator({ verifySignatures: false, faults: { QueryCallStatus: { hang: { rate: 1 } } } })
    const outcome = new Promise<string>((resolve) => {
      const req = httpRequest(`${own.url}/?Action=QueryCallStatus&Version=2017-05-25&PoolKey=${POOL}&SubsId=1`, (res) => resolve(`answered ${res.statusCode}`))
      req.on("error", (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`))
      req.end()
    })
    await new Promise((r) => setTimeout(r, 50))
    const started = performance.now()
    await own.close()
    expect(performance.now() - started).toBeLessThan(1000)
    expect(await outcome).toMatch(/^error (ECONNRESET|ECONNREFUSED|EPIPE)$/)
  })

  it("a reset destroys the connection", async () => {
    emu.setFault("QueryCallStatus", { reset: { rate: 1 } })
    await expect(v1(emu, "QueryCallStatus", query())).rejects.toThrow()
    expect(emu.stats().actions["QueryCallStatus"]?.codes["(reset)"]).toBe(1)
  })

  it("malformed replies: truncated JSON (after doing the work), an HTML 502 page, an empty body", async () => {
    emu.setFault("BindAxn", { malformed: { rate: 1, kind: "truncated-json" } })
    const truncated = await v1(emu, "BindAxn", { PoolKey: POOL, PhoneNoA: "13800138000", Expiration: expirationIn(600) })
    expect(truncated.status).toBe(200)
    const text = await truncated.text()
    expect(text.startsWith('{"RequestId":')).toBe(true)
    expect(() => JSON.parse(text)).toThrow()
    expect(emu.state().bindings.count).toBe(1)

    emu.setFault("QueryCallStatus", { malformed: { rate: 1, kind: "html-502" } })
    const html = await v1(emu, "QueryCallStatus", query())
    expect([html.status, html.headers.get("content-type")]).toEqual([502, "text/html"])
    expect(await html.text()).toContain("<h1>502 Bad Gateway</h1>")

    emu.setFault("QueryCallStatus", { malformed: { rate: 1, kind: "empty" } })
    const empty = await v1(emu, "QueryCallStatus", query())
    expect([empty.status, await empty.text()]).toEqual([200, ""])
  })

  it("throttling above a QPS: Throttling.User with x-acs-retry-after", async () => {
    emu.setFault("QueryCallStatus", { throttle: { qps: 5 } })
    const q = query()
    const replies = []
    for (let i = 0; i < 10; i++) replies.push(await v1(emu, "QueryCallStatus", q))
    const codes = await Promise.all(replies.map(async (r) => [r.status, (await json(r))["Code"]]))
    expect(codes.slice(0, 5)).toEqual(Array(5).fill([200, "OK"]))
    expect(codes.slice(5)).toEqual(Array(5).fill([400, "Throttling.User"]))
    const retryAfter = Number(replies[9]!.headers.get("x-acs-retry-after"))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(1000)
  })

  it("a `*` throttle is one limiter over every action", async () => {
    emu.setFault("*", { throttle: { qps: 2 } })
    const q = query()
    const codes = []
    for (const action of ["QueryCallStatus", "QueryCallStatus", "UnbindSubscription"]) {
      codes.push((await json(await v1(emu, action, action === "QueryCallStatus" ? q : { ...q, SecretNo: "17000000000" })))["Code"])
    }
    expect(codes).toEqual(["OK", "OK", "Throttling.User"])
  })
})
