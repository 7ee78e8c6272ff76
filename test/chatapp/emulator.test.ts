/**
 * The emulator's ChatApp side through its control API and the wire: sender numbers per CustSpaceId
 * set, changed, listed and removed over HTTP, bad input refused with a 400, reset, and the reply in
 * both formats (a list in XML is its element repeated, as Aliyun writes lists).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { control, json, v1 } from "../emulator/support.ts"

const SPACE = "cs-control"
let emu: RunningAliyunEmulator
beforeAll(async () => {
  emu = await startAliyunEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const query = (o: { format?: string } = {}) => v1(emu, "QueryChatappPhoneNumbers", { CustSpaceId: SPACE }, { version: "2020-06-06", ...o })

describe("ChatApp sender numbers over the control API", () => {
  it("PUT adds a number with defaults, PUT again changes only the given fields, GET lists, DELETE removes", async () => {
    const added = await control(emu, "PUT", `/chatapp/${SPACE}/numbers/8657100000001`)
    expect(added).toEqual({ status: 200, body: { phoneNumber: "8657100000001", status: "CONNECTED", qualityRating: "GREEN", messagingLimitTier: "TIER_1K", verifiedName: "precall demo" } })
    const changed = await control(emu, "PUT", `/chatapp/${SPACE}/numbers/8657100000001`, { status: "FLAGGED", messagingLimitTier: "TIER_100K" })
    expect(changed.body).toMatchObject({ status: "FLAGGED", qualityRating: "GREEN", messagingLimitTier: "TIER_100K" })
    const listed = await control(emu, "GET", `/chatapp/${SPACE}/numbers`)
    expect(listed.body.map((n: { phoneNumber: string }) => n.phoneNumber)).toEqual(["8657100000001"])
    const wire = await json(await query())
    expect([wire["Code"], wire["Message"], wire["PhoneNumbers"][0]["Status"], wire["PhoneNumbers"][0]["MessagingLimitTier"]]).toEqual(["OK", "SUCCESS", "FLAGGED", "TIER_100K"])
    expect((await control(emu, "DELETE", `/chatapp/${SPACE}/numbers/8657100000001`)).status).toBe(200)
    expect((await json(await query()))["PhoneNumbers"]).toEqual([])
    expect((await control(emu, "DELETE", `/chatapp/${SPACE}/numbers/8657100000001`)).status).toBe(404)
  })

  it("refuses values outside the documented enums and numbers that are not digits, with a 400 naming the field", async () => {
    const badStatus = await control(emu, "PUT", `/chatapp/${SPACE}/numbers/8657100000001`, { status: "ONLINE" })
    expect([badStatus.status, badStatus.body.error]).toEqual([400, "InvalidRequest"])
    expect(badStatus.body.message).toContain("status must be one of CONNECTED")
    const badQuality = await control(emu, "PUT", `/chatapp/${SPACE}/numbers/8657100000001`, { qualityRating: 3 })
    expect(badQuality.status).toBe(400)
    const badNumber = await control(emu, "PUT", `/chatapp/${SPACE}/numbers/+86-571`, {})
    expect([badNumber.status, badNumber.body.error]).toEqual([400, "InvalidParameter"])
    const notJson = await fetch(`${emu.url}/_emulator/chatapp/${SPACE}/numbers/8657100000001`, { method: "PUT", headers: { "content-type": "application/json" }, body: "[" })
    expect(notJson.status).toBe(400)
  })

  it("a space never created is 404 on the control API and Unknown.ResourceOwnerId (400) on the wire; reset forgets spaces", async () => {
    expect((await control(emu, "GET", `/chatapp/${SPACE}/numbers`)).status).toBe(404)
    const res = await query()
    expect([res.status, (await json(res))["Code"]]).toEqual([400, "Unknown.ResourceOwnerId"])
    emu.setChatappNumber(SPACE, "8657100000001")
    emu.reset()
    expect(() => emu.chatappNumbers(SPACE)).toThrow(/no ChatApp space/)
  })

  it("Format=XML lists each number as a repeated PhoneNumbers element", async () => {
    emu.setChatappNumber(SPACE, "8657100000001")
    emu.setChatappNumber(SPACE, "8657100000002", { qualityRating: "YELLOW" })
    const text = await (await query({ format: "XML" })).text()
    expect(text.match(/<PhoneNumbers><PhoneNumber>\d+<\/PhoneNumber>/g)).toHaveLength(2)
    expect(text).toContain("<QualityRating>YELLOW</QualityRating>")
  })
})
