/**
 * The edges of the Aliyun code families (codes.ts patterns): each pattern is anchored, needs its
 * separator, and loses to the exact table; an `isp.` prefix in front of a family name is a platform
 * code, not that family. These pin the patterns character by character.
 */
import { describe, expect, it } from "vitest"
import { classifyAliyunCode } from "../../src/providers/aliyun/codes.ts"

describe("code families at their edges", () => {
  it.each([
    ["Throttling.Custom", "throttled"],
    ["ThrottlingCustom", "configuration"],
    ["isp.Throttling.Custom", "transient"],
    ["InvalidAccessKeyId.Custom", "configuration"],
    ["InvalidAccessKeyIdCustom", "bad-input"],
    ["isp.InvalidAccessKeyId.Custom", "transient"],
    ["InvalidThing.NotFound", "configuration"],
    ["InvalidThing.NotFoundYet", "bad-input"],
    ["InvalidThing.Sub.NotFound", "bad-input"],
    ["isp.InvalidThing.NotFound", "transient"],
    ["InvalidProtocol.Custom", "configuration"],
    ["InvalidProtocolCustom", "bad-input"],
    ["Forbidden.Custom", "configuration"],
    ["isp.Forbidden.Custom", "transient"],
    ["MissingParameter", "bad-input"],
    ["Missingparameter", "configuration"],
    ["isp.MissingParameter", "transient"],
    ["InvalidValue", "bad-input"],
    ["Invalidvalue", "configuration"],
    ["isp.InvalidValue", "transient"],
    ["Reply.HttpStatus503", "transient"],
    ["Reply.HttpStatus5031", "configuration"],
    ["Reply.HttpStatus50", "configuration"],
    ["Reply.HttpStatusX503", "configuration"],
    ["isp.Reply.HttpStatus503", "transient"],
    ["Reply.HttpStatus429", "throttled"],
    ["Reply.HttpStatus4290", "configuration"],
    ["isp.anything", "transient"],
    ["isv.anything", "configuration"]
  ] as const)("%s is %s", (code, errorClass) => expect(classifyAliyunCode(code)).toBe(errorClass))

  it("isv.FORBIDDEN_ACTION is an expired binding when its message says so, in any case or in Chinese", () => {
    expect(classifyAliyunCode("isv.FORBIDDEN_ACTION", "Binding EXPIRED")).toBe("binding")
    expect(classifyAliyunCode("isv.FORBIDDEN_ACTION", "绑定关系已过期")).toBe("binding")
    expect(classifyAliyunCode("isv.FORBIDDEN_ACTION", "number not in pool")).not.toBe("binding")
  })
})
