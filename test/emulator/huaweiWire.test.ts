/**
 * Wire conformance of the Huawei emulator against shared/providers/huawei.md: the header checks and
 * their codes under both schemes, the worked example, skew and replay, URI/method/mode checks, and
 * every result code of the AXB and AX APIs reached through the state that causes it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { startHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import type { RunningHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import { createdOf, digestOf, newNonce } from "../../src/providers/huawei/signature.ts"
import { A, ax, AX_CALLEE_PATH, axb, AXB_PATH, B, C, D, hw, signed } from "./huaweiSupport.ts"

const AUTHORIZATION = (scheme: string) => `${scheme} realm="SDP",profile="UsernameToken",type="Appkey"`
const WORKED_AKSK = `UsernameToken Username="demoAppKey0001",PasswordDigest="yThjwmbxf4YAoqe4VWDT8Gzp446V9TniRUpl+foMXEY=",Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F",Created="2018-02-12T15:30:20Z"`
const WORKED_WSSE = `UsernameToken Username="demoAppKey0001", PasswordDigest="RBfys8yv8g/xUojgFzO+MBFa5K3pHOIzun+F7FQYVvI=", Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F", Created="2018-02-12T15:30:20Z"`

const X0755 = "+8617000000000"

let emu: RunningHuaweiEmulator
beforeAll(async () => {
  emu = await startHuaweiEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const query = (id = "none") => axb(emu, "GET", { subscriptionId: id })
const json = async (res: Response): Promise<Record<string, any>> => (await res.json()) as Record<string, any>
const code = async (p: Promise<{ body: Record<string, any> }>) => (await p).body["resultcode"]

describe("the worked example of huawei.md §2", () => {
  const far = { clockSkewSeconds: 20 * 365 * 86400 }

  it("is refused with 1010013 at the default ±300 s skew, and served when the window reaches 2018", async () => {
    const headers = { authorization: AUTHORIZATION("AKSK"), "x-aksk": WORKED_AKSK }
    const strict = await fetch(`${emu.url}${AXB_PATH}?subscriptionId=none`, { headers })
    expect([strict.status, (await json(strict))["resultcode"]]).toEqual([400, "1010013"])
    const lenient = await startHuaweiEmulator(far)
    try {
      const res = await fetch(`${lenient.url}${AXB_PATH}?subscriptionId=none`, { headers })
      expect((await json(res))["resultcode"]).toBe("1012007") // past authentication: the binding is unknown
      const again = await fetch(`${lenient.url}${AXB_PATH}?subscriptionId=none`, { headers })
      expect([again.status, await json(again)]).toEqual([401, { resultdesc: "Nonce has been used." }])
    } finally {
      await lenient.close()
    }
  })

  it("its WSSE digest (with `, ` between attributes) passes for a WSSE app only", async () => {
    const wsse = await startHuaweiEmulator({ ...far, apps: [{ appKey: "demoAppKey0001", appSecret: "demoAppSecret0001", mode: "AXB", auth: "wsse" }] })
    try {
      const res = await fetch(`${wsse.url}${AXB_PATH}?subscriptionId=none`, { headers: { authorization: AUTHORIZATION("WSSE"), "x-wsse": WORKED_WSSE } })
      expect((await json(res))["resultcode"]).toBe("1012007")
      const aksk = await fetch(`${wsse.url}${AXB_PATH}?subscriptionId=none`, { headers: { authorization: AUTHORIZATION("AKSK"), "x-aksk": WORKED_AKSK } })
      expect(aksk.status).toBe(401)
    } finally {
      await wsse.close()
    }
  })
})

describe("Authorization header checks", () => {
  it.each([
    [undefined, "1023006"],
    ["Bearer abc", "1023013"],
    ['AKSK profile="UsernameToken",type="Appkey"', "1023007"],
    ['AKSK realm="SDP",type="Appkey"', "1023008"],
    ['AKSK realm="sdp",profile="UsernameToken",type="Appkey"', "1023009"],
    ['AKSK realm="SDP",profile="Username",type="Appkey"', "1023010"],
    ['AKSK realm="SDP",profile="UsernameToken",type="AppKey"', "1023011"],
    ['AKSK realm="SDP",profile="UsernameToken"', "1023012"]
  ])("Authorization %j answers %s (HTTP 400)", async (authorization, expected) => {
    const res = await axb(emu, "GET", { subscriptionId: "none" }, { headers: { authorization } })
    expect([res.status, res.body["resultcode"]]).toEqual([400, expected])
  })

  const token = (fields: Readonly<Record<string, string>>) =>
    `UsernameToken ${Object.entries(fields).map(([k, v]) => `${k}="${v}"`).join(",")}`
  const fresh = () => ({ Username: "demoAppKey0001", PasswordDigest: "AAAA", Nonce: newNonce(), Created: createdOf(Date.now()) })
  const without = (k: string) => Object.fromEntries(Object.entries(fresh()).filter(([key]) => key !== k))

  it.each([
    ["AKSK", "x-aksk", ["1023033", "1023034", "1023035", "1023036", "1023037", "1023036"]],
    ["WSSE", "x-wsse", ["1023026", "1023027", "1023028", "1023029", "1023030", "1023031"]]
  ] as const)("%s token checks: header, Username, Nonce, Created, PasswordDigest, Created format", async (scheme, header, codes) => {
    const authorization = AUTHORIZATION(scheme)
    const cases: ReadonlyArray<string | undefined> = [
      undefined,
      token(without("Username")),
      token(without("Nonce")),
      token(without("Created")),
      token(without("PasswordDigest")),
      token({ ...fresh(), Created: new Date().toISOString() }) // millis left in Created
    ]
    const got = []
    for (const value of cases) {
      const res = await axb(emu, "GET", { subscriptionId: "none" }, { headers: { authorization, "x-aksk": undefined, "x-wsse": undefined, ...(value === undefined ? {} : { [header]: value }) } })
      got.push(res.body["resultcode"])
    }
    expect(got).toEqual(codes)
  })

  it("an unknown app key is 1010003; a wrong secret is 401 Invalid digest. without a resultcode", async () => {
    const unknown = await axb(emu, "GET", { subscriptionId: "none" }, {
      headers: { "x-aksk": `UsernameToken Username="nobody",PasswordDigest="AAAA",Nonce="${newNonce()}",Created="${createdOf(Date.now())}"` }
    })
    expect(unknown.body["resultcode"]).toBe("1010003")
    const wrong = await axb(emu, "GET", { subscriptionId: "none" }, { secret: "notTheSecret" })
    expect([wrong.status, wrong.body]).toEqual([401, { resultdesc: "Invalid digest." }])
  })

  it("the WSSE formula under the AKSK header is an invalid digest (huawei.md §7)", async () => {
    const nonce = newNonce()
    const created = createdOf(Date.now())
    const digest = digestOf("wsse", "demoAppSecret0001", nonce, created).toString("base64")
    const res = await axb(emu, "GET", { subscriptionId: "none" }, {
      headers: { "x-aksk": `UsernameToken Username="demoAppKey0001",PasswordDigest="${digest}",Nonce="${nonce}",Created="${created}"` }
    })
    expect(res.status).toBe(401)
  })

  it("Created in Beijing time instead of UTC is 1010013", async () => {
    const res = await axb(emu, "GET", { subscriptionId: "none" }, { created: createdOf(Date.now() + 8 * 3600_000) })
    expect(res.body["resultcode"]).toBe("1010013")
  })

  it("a replayed nonce is refused; a refused request does not use its nonce up", async () => {
    const nonce = newNonce()
    expect((await axb(emu, "GET", { subscriptionId: "none" }, { nonce, secret: "wrong" })).status).toBe(401)
    expect(await code(axb(emu, "GET", { subscriptionId: "none" }, { nonce }))).toBe("1012007")
    expect(await axb(emu, "GET", { subscriptionId: "none" }, { nonce })).toMatchObject({ status: 401, body: { resultdesc: "Nonce has been used." } })
    // the same nonce from another app is not a replay
    expect(await code(ax(emu, "GET", { subscriptionId: "none" }, { nonce }))).toBe("1012007")
  })
})

describe("both schemes, per app", () => {
  it("each app is verified under its own scheme only", async () => {
    const mixed = await startHuaweiEmulator({
      apps: [
        { appKey: "axbWsse", appSecret: "s1", mode: "AXB", auth: "wsse" },
        { appKey: "axAksk", appSecret: "s2", mode: "AX", auth: "aksk" }
      ]
    })
    try {
      expect(await code(axb(mixed, "POST", { callerNum: A, calleeNum: B }))).toBe("0")
      expect((await axb(mixed, "POST", { callerNum: C, calleeNum: D }, { auth: "aksk" })).status).toBe(401)
      expect(await code(ax(mixed, "POST", { origNum: A }))).toBe("0")
      expect((await ax(mixed, "POST", { origNum: C }, { auth: "wsse" })).status).toBe(401)
    } finally {
      await mixed.close()
    }
  })
})

describe("verifySignatures: false (benchmark floor)", () => {
  it("serves unsigned requests as the URI's first app", async () => {
    const open = await startHuaweiEmulator({ verifySignatures: false })
    try {
      const res = await fetch(`${open.url}${AXB_PATH}`, { method: "POST", body: JSON.stringify({ callerNum: A, calleeNum: B }) })
      expect(((await res.json()) as Record<string, unknown>)["resultcode"]).toBe("0")
      expect(open.state().bindings.items[0]).toMatchObject({ appKey: "demoAppKey0001" })
    } finally {
      await open.close()
    }
  })
})

describe("URI, method and mode", () => {
  it("every reply closes its connection (short connections)", async () => {
    expect((await query()).headers.get("connection")).toBe("close")
  })

  it("a method the URI does not serve is 1010006; an unknown URI is 404", async () => {
    expect(await code(hw(emu, "PATCH", AXB_PATH))).toBe("1010006")
    expect((await hw(emu, "GET", "/rest/caas/nothing/v1.0")).status).toBe(404)
  })

  it("an app key on the other mode's URI is 1010040", async () => {
    expect(await code(axb(emu, "GET", { subscriptionId: "x" }, { appKey: "demoAxAppKey0001" }))).toBe("1010040")
    expect(await code(ax(emu, "GET", { subscriptionId: "x" }, { appKey: "demoAppKey0001" }))).toBe("1010040")
  })
})

describe("AXB parameters (1010002)", () => {
  it.each([
    ["a number without +86", { callerNum: "13800000001", calleeNum: B }],
    ["a stray space", { callerNum: "+86 13800000001", calleeNum: B }],
    ["a trailing space", { callerNum: A, calleeNum: `${B} ` }],
    ["callerNum missing", { calleeNum: B }],
    ["A and B the same", { callerNum: A, calleeNum: A }],
    ["callDirection 3", { callerNum: A, calleeNum: B, callDirection: 3 }],
    ["duration over 90 days", { callerNum: A, calleeNum: B, duration: 7_776_001 }],
    ["maxDuration over 1440", { callerNum: A, calleeNum: B, maxDuration: 1441 }],
    ["lastMinVoice without maxDuration", { callerNum: A, calleeNum: B, lastMinVoice: "tone.wav" }],
    ["userData with {", { callerNum: A, calleeNum: B, userData: "{x}" }],
    ["areaMatchMode 2", { callerNum: A, calleeNum: B, areaMatchMode: "2" }],
    ["recordFlag as a boolean", { callerNum: A, calleeNum: B, recordFlag: true }]
  ])("bind with %s", async (_, fields) => {
    const res = await axb(emu, "POST", fields)
    expect([res.status, res.body["resultcode"]]).toEqual([403, "1010002"])
  })

  it("fixed lines are +86, the area code without its 0, and the local number", async () => {
    expect(await code(axb(emu, "POST", { callerNum: A, calleeNum: "+861062345678" }))).toBe("0") // Beijing 010
    expect(await code(axb(emu, "POST", { callerNum: C, calleeNum: "+8675528000001" }))).toBe("0") // Shenzhen 0755
    expect(await code(axb(emu, "POST", { callerNum: D, calleeNum: "+86075528000001" }))).toBe("1010002") // leading 0 kept
  })

  it("a body that is not JSON", async () => {
    const res = await fetch(`${emu.url}${AXB_PATH}`, { method: "POST", headers: signed(emu), body: "callerNum=+8613800000001" })
    expect((await json(res))["resultcode"]).toBe("1010002")
  })

  it("a raw + in a query string decodes to a space: 1010002; %2B works", async () => {
    const { relationNum } = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B }) as Record<string, any>
    const rawPlus = await fetch(`${emu.url}${AXB_PATH}?relationNum=${relationNum}`, { headers: signed(emu) })
    expect((await json(rawPlus))["resultcode"]).toBe("1010002")
    expect((await axb(emu, "GET", { relationNum })).body["totalCount"]).toBe(1)
  })

  it("query needs subscriptionId or relationNum; pageSize is 10-100", async () => {
    expect(await code(axb(emu, "GET", {}))).toBe("1010002")
    expect(await code(axb(emu, "GET", { relationNum: X0755, pageSize: 5 }))).toBe("1010002")
    expect(await code(axb(emu, "DELETE", {}))).toBe("1010002")
  })
})

describe("AXB bindings", () => {
  it("bind answers relationNum and subscriptionId; query answers the §3.1 fields", async () => {
    const bound = await axb(emu, "POST", { callerNum: A, calleeNum: B, areaCode: "0755", duration: 3600, maxDuration: 30, userData: "order-1", recordFlag: "true" })
    expect(bound.status).toBe(200)
    expect(Object.keys(bound.body).sort()).toEqual(["relationNum", "resultcode", "resultdesc", "subscriptionId"])
    expect(bound.body).toMatchObject({ resultcode: "0", resultdesc: "Success", relationNum: X0755 })
    const q = await query(bound.body["subscriptionId"])
    expect(q.body).toMatchObject({ resultcode: "0", totalCount: 1 })
    expect(q.body["relationNumList"][0]).toMatchObject({
      subscriptionId: bound.body["subscriptionId"], relationNum: X0755, callerNum: A, calleeNum: B, callDirection: 0,
      duration: 3600, maxDuration: 30, recordFlag: "true", userData: "order-1"
    })
    expect(q.body["relationNumList"][0]["subscribeTime"]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
  })

  it("one X carries many pairs, but the same A or B not twice (AXB + CXD ok, AXB + BXC not): 1012010", async () => {
    expect(await code(axb(emu, "POST", { callerNum: A, calleeNum: B, relationNum: X0755 }))).toBe("0")
    expect(await code(axb(emu, "POST", { callerNum: C, calleeNum: D, relationNum: X0755 }))).toBe("0")
    expect(await code(axb(emu, "POST", { callerNum: B, calleeNum: "+8613500000001", relationNum: X0755 }))).toBe("1012010")
    expect(await code(axb(emu, "POST", { callerNum: "+8613500000001", calleeNum: A, relationNum: X0755 }))).toBe("1012010")
    // by area, the platform picks the next X that fits
    expect((await axb(emu, "POST", { callerNum: A, calleeNum: "+8613500000001", areaCode: "0755" })).body["relationNum"]).toBe("+8617000000001")
  })

  it("areaMatchMode 0 is strict (the emulator's 1012008); 1 takes the same province, then any X", async () => {
    for (let i = 0; i < 3; i++) expect(await code(axb(emu, "POST", { callerNum: A, calleeNum: `+861390000001${i}`, areaCode: "020" }))).toBe("0")
    expect(await code(axb(emu, "POST", { callerNum: A, calleeNum: "+8613900000019", areaCode: "020" }))).toBe("1012008")
    const province = await axb(emu, "POST", { callerNum: A, calleeNum: "+8613900000019", areaCode: "020", areaMatchMode: "1" })
    expect(province.body["relationNum"]).toBe(X0755) // Shenzhen, Guangdong
    emu.setXStatus(X0755, "9", "2")
    for (const n of ["+8617000000001", "+8617000000002", "+8617000000003", "+8617000000004"]) emu.setXBlacklisted(n, true)
    const any = await axb(emu, "POST", { callerNum: A, calleeNum: "+8613900000018", areaCode: "020", areaMatchMode: "1" })
    expect(any.body["relationNum"]).toBe("+8617000000020") // Beijing: the province has nothing left
  })

  it("an X not in the pool is 1011001; another app's X is 1012001", async () => {
    expect(await code(axb(emu, "POST", { callerNum: A, calleeNum: B, relationNum: "+8617099999999" }))).toBe("1011001")
    expect(await code(axb(emu, "POST", { callerNum: A, calleeNum: B, relationNum: "+8617000000100" }))).toBe("1012001")
  })

  it("X status 9, 10 and 11 and the blacklist refuse new bindings with 1012102; existing ones stay", async () => {
    const { subscriptionId } = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B, relationNum: X0755 })
    for (const status of ["9", "10", "11"] as const) {
      emu.setXStatus(X0755, status, "3")
      expect(await code(axb(emu, "POST", { callerNum: C, calleeNum: D, relationNum: X0755 }))).toBe("1012102")
    }
    expect(await code(query(subscriptionId))).toBe("0")
    emu.setXStatus(X0755, "5")
    emu.setXBlacklisted(X0755, true)
    expect(await code(axb(emu, "POST", { callerNum: C, calleeNum: D, relationNum: X0755 }))).toBe("1012102")
    emu.setXBlacklisted(X0755, false)
    expect(await code(axb(emu, "POST", { callerNum: C, calleeNum: D, relationNum: X0755 }))).toBe("0")
  })

  it("a binding auto-unbinds at expiry on the emulator clock; 0 never expires", async () => {
    const { subscriptionId: short } = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B, relationNum: X0755, duration: 60 })
    const { subscriptionId: forever } = emu.createBinding({ mode: "AXB", callerNum: C, calleeNum: D, relationNum: X0755 })
    emu.advanceClock(59)
    expect(await code(query(short))).toBe("0")
    emu.advanceClock(1)
    expect(await code(query(short))).toBe("1012007")
    expect(await code(axb(emu, "DELETE", { subscriptionId: short }))).toBe("1012007")
    // its parties are free on that X again
    expect(await code(axb(emu, "POST", { callerNum: A, calleeNum: B, relationNum: X0755 }))).toBe("0")
    emu.advanceClock(200 * 86400)
    expect(await code(query(forever))).toBe("0")
  })

  it("modify with a new duration restarts the clock from the change", async () => {
    const { subscriptionId } = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B, duration: 60 })
    emu.advanceClock(50)
    expect(await code(axb(emu, "PUT", { subscriptionId, duration: 60 }))).toBe("0")
    emu.advanceClock(50)
    expect(await code(query(subscriptionId))).toBe("0")
    expect(await code(axb(emu, "PUT", { subscriptionId, userData: "later" }))).toBe("0") // no duration: the clock keeps running
    emu.advanceClock(10)
    expect(await code(query(subscriptionId))).toBe("1012007")
  })

  it("modify: unknown binding 1012007, a clash on the X 1012010, absent fields unchanged", async () => {
    expect(await code(axb(emu, "PUT", { subscriptionId: "none", callDirection: 1 }))).toBe("1012007")
    const { subscriptionId } = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B, relationNum: X0755 })
    emu.createBinding({ mode: "AXB", callerNum: C, calleeNum: D, relationNum: X0755 })
    expect(await code(axb(emu, "PUT", { subscriptionId, calleeNum: C }))).toBe("1012010")
    expect(await code(axb(emu, "PUT", { subscriptionId, callDirection: 1 }))).toBe("0")
    expect((await query(subscriptionId)).body["relationNumList"][0]).toMatchObject({ callerNum: A, calleeNum: B, callDirection: 1 })
  })

  it("query by X pages; unbind by X alone removes every binding on it", async () => {
    for (let i = 0; i < 12; i++) emu.createBinding({ mode: "AXB", callerNum: `+86138000001${String(i).padStart(2, "0")}`, calleeNum: `+86139000001${String(i).padStart(2, "0")}`, relationNum: X0755 })
    const page2 = await axb(emu, "GET", { relationNum: X0755, pageIndex: 2, pageSize: 10 })
    expect([page2.body["totalCount"], page2.body["relationNumList"].length]).toEqual([12, 2])
    const one = await axb(emu, "GET", { relationNum: X0755, callerNum: "+8613800000100" })
    expect(one.body["totalCount"]).toBe(1)
    expect(await code(axb(emu, "DELETE", { relationNum: X0755 }))).toBe("0")
    expect(await code(axb(emu, "GET", { relationNum: X0755 }))).toBe("1012007")
  })
})

describe("AX bindings", () => {
  it("bind answers origNum, privateNum and subscriptionId; query by subscriptionId, origNum or privateNum", async () => {
    const bound = await ax(emu, "POST", { origNum: A, areaCode: "010", privateNumType: "mobile-virtual", calleeNumDisplay: "0" })
    expect(bound.body).toMatchObject({ resultcode: "0", origNum: A, privateNum: "+8617000000120" })
    for (const q of [{ subscriptionId: bound.body["subscriptionId"] }, { origNum: A }, { privateNum: "+8617000000120" }]) {
      expect((await ax(emu, "GET", q)).body["privateNumList"]).toMatchObject([{ subscriptionId: bound.body["subscriptionId"], origNum: A, privateNum: "+8617000000120" }])
    }
  })

  it("one X holds one A (1011005); one A holds at most 5 X (1011003); another app's X is 1011004", async () => {
    expect(await code(ax(emu, "POST", { origNum: A, privateNum: "+8617000000100" }))).toBe("0")
    expect(await code(ax(emu, "POST", { origNum: B, privateNum: "+8617000000100" }))).toBe("1011005")
    for (let i = 0; i < 4; i++) expect(await code(ax(emu, "POST", { origNum: A }))).toBe("0")
    expect(await code(ax(emu, "POST", { origNum: A }))).toBe("1011003")
    expect(await code(ax(emu, "POST", { origNum: B, privateNum: X0755 }))).toBe("1011004")
  })

  it("temporary callee: AX app only (1010040), an existing binding (1012007), a +86 calleeNum (1010002)", async () => {
    const { subscriptionId, privateNum } = emu.createBinding({ mode: "AX", origNum: A }) as Record<string, any>
    expect(await code(hw(emu, "PUT", AX_CALLEE_PATH, { subscriptionId, calleeNum: B }))).toBe("1010040")
    expect(await code(hw(emu, "PUT", AX_CALLEE_PATH, { subscriptionId: "none", calleeNum: B }, { appKey: "demoAxAppKey0001" }))).toBe("1012007")
    expect(await code(hw(emu, "PUT", AX_CALLEE_PATH, { privateNum, calleeNum: "13900000001" }, { appKey: "demoAxAppKey0001" }))).toBe("1010002")
    expect(await code(hw(emu, "PUT", AX_CALLEE_PATH, { privateNum, calleeNum: B }, { appKey: "demoAxAppKey0001" }))).toBe("0")
    expect(await code(hw(emu, "GET", AX_CALLEE_PATH, { privateNum }, { appKey: "demoAxAppKey0001" }))).toBe("1010006")
  })

  it("never expires; modify and unbind by origNum + privateNum", async () => {
    const { privateNum } = emu.createBinding({ mode: "AX", origNum: A }) as Record<string, any>
    emu.advanceClock(365 * 86400)
    expect(await code(ax(emu, "PUT", { origNum: A, privateNum, recordFlag: "true" }))).toBe("0")
    expect((await ax(emu, "GET", { origNum: A })).body["privateNumList"][0]["recordFlag"]).toBe("true")
    expect(await code(ax(emu, "DELETE", { origNum: A }))).toBe("1010002")
    expect(await code(ax(emu, "DELETE", { origNum: A, privateNum }))).toBe("0")
    expect(await code(ax(emu, "DELETE", { origNum: A, privateNum }))).toBe("1012007")
  })
})

describe("account states", () => {
  it("arrears answers 1010007 to everything, suspended 1010008; frozen refuses bind, modify and unbind with 1010029 but answers queries", async () => {
    const { subscriptionId } = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B })
    emu.setAccountState("arrears")
    expect(await code(query(subscriptionId))).toBe("1010007")
    emu.setAccountState("suspended")
    expect(await code(query(subscriptionId))).toBe("1010008")
    emu.setAccountState("frozen")
    expect(await code(query(subscriptionId))).toBe("0")
    expect(await code(axb(emu, "POST", { callerNum: C, calleeNum: D }))).toBe("1010029")
    expect(await code(axb(emu, "PUT", { subscriptionId, callDirection: 1 }))).toBe("1010029")
    expect(await code(axb(emu, "DELETE", { subscriptionId }))).toBe("1010029")
    emu.setAccountState("active")
    expect(await code(axb(emu, "DELETE", { subscriptionId }))).toBe("0")
  })
})
