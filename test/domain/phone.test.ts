/** Phone numbers: normalisation, acceptance, masking; and DecideRequest decoding. */
import { assert, describe, it } from "@effect/vitest"
import { Exit, Schema, SchemaIssue } from "effect"
import * as fc from "fast-check"
import { isPhoneNumber, maskNumbersIn, maskPhone, normalizePhone, PhoneNumber } from "../../src/domain/phone.ts"
import { DecideRequest } from "../../src/domain/request.ts"

const decodePhone = Schema.decodeUnknownExit(PhoneNumber)
const decoded = (raw: unknown): string => {
  const exit = decodePhone(raw)
  if (Exit.isFailure(exit)) assert.fail(`${JSON.stringify(raw)} was rejected: ${String(exit.cause)}`)
  return exit.value
}
const rejection = (raw: unknown): string => {
  const exit = decodePhone(raw)
  if (Exit.isSuccess(exit)) assert.fail(`${JSON.stringify(raw)} was accepted as ${exit.value}`)
  return String(exit.cause)
}

const digits = (n: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: n, maxLength: n })
const mobileArb = fc.tuple(fc.constantFrom(..."3456789"), digits(9)).map(([d, rest]) => `1${d}${rest}`)

describe("normalizePhone", () => {
  it("strips +86 / 0086 / 86 prefixes, spaces and dashes from mobiles", () => {
    for (const raw of [
      "13800138000",
      "+8613800138000",
      "+86 138 0013 8000",
      "+86-138-0013-8000",
      "008613800138000",
      "0086 138-0013-8000",
      "8613800138000",
      "86 138 0013 8000",
      " 138 0013 8000 ",
      "138\t0013\u00a08000"
    ]) {
      assert.strictEqual(normalizePhone(raw), "13800138000", raw)
      assert.strictEqual(decoded(raw), "13800138000", raw)
    }
  })

  it("keeps fixed-line numbers written with their trunk 0", () => {
    assert.strictEqual(decoded("010-12345678"), "01012345678")
    assert.strictEqual(decoded("0571 8888 8888"), "057188888888")
    assert.strictEqual(decoded("021 1234567"), "0211234567")
    assert.strictEqual(decoded("+86 010 1234 5678"), "01012345678")
  })

  it("accepts fixed-line numbers in E.164 form (+86 without the trunk 0)", () => {
    assert.strictEqual(normalizePhone("+86 10 1234 5678"), "01012345678")
    assert.strictEqual(decoded("+861012345678"), "01012345678")
    assert.strictEqual(decoded("+86 571 8888 8888"), "057188888888")
    assert.strictEqual(decoded("0086 21 1234 5678"), "02112345678")
  })

  it("does not strip 86 from a national number that only starts with 86", () => {
    // 13 digits starting 86 but not followed by a mobile: kept as is (and rejected).
    assert.strictEqual(normalizePhone("8601012345678"), "8601012345678")
  })

  it("is idempotent and leaves only what was not a separator", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."0123456789+- \t"), maxLength: 20 }), (raw) => {
        const once = normalizePhone(raw)
        assert.notMatch(once, /[\s-]/)
        if (isPhoneNumber(once)) assert.strictEqual(normalizePhone(once), once)
      }),
      { numRuns: 200, seed: 21 }
    )
  })

  it("every mobile decodes to itself from any of its usual spellings", () => {
    const spelling = fc.constantFrom(
      (m: string) => m,
      (m: string) => `+86${m}`,
      (m: string) => `+86 ${m.slice(0, 3)} ${m.slice(3, 7)} ${m.slice(7)}`,
      (m: string) => `0086-${m.slice(0, 3)}-${m.slice(3, 7)}-${m.slice(7)}`,
      (m: string) => `86${m}`
    )
    fc.assert(
      fc.property(mobileArb, spelling, (m, spell) => {
        assert.strictEqual(decoded(spell(m)), m)
      }),
      { numRuns: 200, seed: 22 }
    )
  })
})

describe("PhoneNumber acceptance", () => {
  it("accepts mainland mobiles 1[3-9] + 9 digits, including 170/171 X numbers", () => {
    for (const n of ["13000000000", "13800138000", "15912345678", "17000000001", "17112345678", "19999999999"]) {
      assert.strictEqual(decoded(n), n)
    }
  })

  it("accepts fixed-line and 95/400 service numbers", () => {
    for (const n of ["01012345678", "0101234567", "057188888888", "95555", "95013888", "4001234567"]) {
      assert.isTrue(isPhoneNumber(n), n)
      assert.strictEqual(decoded(n), n)
    }
  })

  it("rejects malformed numbers with a message that says what is expected", () => {
    for (const raw of [
      "", "1", "12345678901", "11012345678", "1380013800", "138001380000", "138-0013-800a", "+1 415 555 0100",
      "0012345678", "010123456", "0086", "+86", "abc", "13800138000x", "400123456"
    ]) {
      const message = rejection(raw)
      assert.include(message, "Expected a mainland China mobile", raw)
      assert.include(message, "fixed-line", raw)
    }
  })

  it("a rejection never echoes the number it rejected", () => {
    fc.assert(
      fc.property(fc.tuple(fc.constantFrom("12", "11", "10"), digits(9)).map(([p, r]) => `${p}${r}`), (raw) => {
        assert.notInclude(rejection(raw), raw)
      }),
      { numRuns: 50, seed: 23 }
    )
  })

  it("rejects non-strings", () => {
    for (const raw of [13800138000, null, undefined, {}, ["13800138000"]]) {
      assert.include(rejection(raw), "Expected string")
    }
  })

  it("a decoded number always passes isPhoneNumber and has no separators", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."0123456789+- "), maxLength: 18 }), (raw) => {
        const exit = decodePhone(raw)
        if (Exit.isSuccess(exit)) {
          assert.isTrue(isPhoneNumber(exit.value))
          assert.match(exit.value, /^\d+$/)
        }
      }),
      { numRuns: 300, seed: 24 }
    )
  })
})

describe("maskPhone", () => {
  it("shows only the last 4 digits, behind a mask of one length", () => {
    assert.strictEqual(maskPhone("13800138000"), "****8000")
    assert.strictEqual(maskPhone("057188888888"), "****8888")
    assert.strictEqual(maskPhone("95555"), "****5555")
  })

  it("short numbers show nothing", () => {
    assert.strictEqual(maskPhone(""), "****")
    assert.strictEqual(maskPhone("1234"), "****")
  })

  it("never shows more than the last 4 digits, and always hides at least one (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."0123456789"), maxLength: 24 }), (n) => {
        const masked = maskPhone(n)
        assert.isTrue(masked.startsWith("****"))
        const shown = masked.slice(4)
        assert.strictEqual(shown, n.length > 4 ? n.slice(-4) : "")
      }),
      { numRuns: 300, seed: 25 }
    )
  })
})

describe("maskNumbersIn", () => {
  const fullWidth = (s: string) => s.replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0x30 + 0xff10))
  /** A mobile number spelled as people and providers write it. */
  const spelled = fc.record({
    number: fc.stringMatching(/^1[3-9]\d{9}$/),
    prefix: fc.constantFrom("", "+86", "+86 ", "0086", "86", "＋86 "),
    separator: fc.constantFrom("", " ", "-", " - ", ".", "－"),
    groups: fc.constantFrom([3, 4, 4], [3, 8], [11], [1, 2, 4, 4]),
    wide: fc.boolean()
  }).map(({ number, prefix, separator, groups, wide }) => {
    const parts: Array<string> = []
    let at = 0
    for (const g of groups) parts.push(number.slice(at, (at += g)))
    const text = `${prefix}${parts.join(separator)}`
    return { number, text: wide ? fullWidth(text) : text }
  })

  it("masks a number in any spelling down to its last 4 digits (property)", () => {
    fc.assert(
      fc.property(spelled, fc.constantFrom("callee ", "号码", "no. ", ""), ({ number, text }, before) => {
        const masked = maskNumbersIn(`${before}${text} is unreachable`)
        assert.strictEqual(masked, `${before}****${number.slice(-4)} is unreachable`)
      }),
      { numRuns: 500, seed: 8 }
    )
  })

  it("leaves short digit runs (codes, counts) alone", () => {
    assert.strictEqual(maskNumbersIn("isv.FLOW_LIMIT after 3 calls, code 500123"), "isv.FLOW_LIMIT after 3 calls, code 500123")
  })
})

describe("DecideRequest", () => {
  const decodeAll = Schema.decodeUnknownExit(DecideRequest)
  const toIssues = SchemaIssue.makeFormatterStandardSchemaV1()

  it("decodes a full request and normalises every number", () => {
    const exit = decodeAll({
      poolKey: "FC100000000001",
      subsId: "1000000123456789",
      phoneNoX: "+86 170-0000-0001",
      extension: "12",
      callerNo: "0086 138 0013 8000",
      realCallee: "8613900139000",
      binding: { phoneNoA: "+8613800138000", phoneNoB: "139-0013-9000", mode: "AXB" }
    })
    assert.isTrue(Exit.isSuccess(exit))
    if (Exit.isSuccess(exit)) {
      assert.deepStrictEqual(exit.value, {
        poolKey: "FC100000000001",
        subsId: "1000000123456789",
        phoneNoX: "17000000001",
        extension: "12",
        callerNo: "13800138000",
        realCallee: "13900139000",
        binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" }
      } as unknown as DecideRequest)
    }
  })

  it("decodes a minimal request", () => {
    const exit = decodeAll({ poolKey: "FC1", subsId: "S-1", phoneNoX: "17000000001" })
    assert.isTrue(Exit.isSuccess(exit))
    if (Exit.isSuccess(exit)) assert.deepStrictEqual(Object.keys(exit.value).sort(), ["phoneNoX", "poolKey", "subsId"])
  })

  it("with errors: \"all\" lists every bad field by path", () => {
    const exit = decodeAll(
      {
        poolKey: "bad key!",
        subsId: "",
        phoneNoX: "12345",
        extension: "12345",
        callerNo: "caller",
        realCallee: 13900139000,
        binding: { phoneNoA: "2", phoneNoB: "+1 555", mode: "AXY" }
      },
      { errors: "all" }
    )
    assert.isTrue(Exit.isFailure(exit))
    if (Exit.isFailure(exit)) {
      const err = exit.cause.reasons.find((r) => r._tag === "Fail")
      assert.isDefined(err)
      const issues = toIssues((err as unknown as { error: Schema.SchemaError }).error.issue).issues
      const paths = issues.map((i) => (i.path ?? []).map(String).join("."))
      assert.sameMembers(paths, [
        "poolKey", "subsId", "phoneNoX", "extension", "callerNo", "realCallee", "binding.phoneNoA", "binding.phoneNoB", "binding.mode"
      ])
      const byPath = new Map(issues.map((i) => [(i.path ?? []).map(String).join("."), i.message]))
      assert.include(byPath.get("poolKey"), "pool key")
      assert.include(byPath.get("subsId"), "SubsId")
      assert.include(byPath.get("extension"), "1-4 digits")
      assert.include(byPath.get("phoneNoX"), "mainland China mobile")
      assert.include(byPath.get("binding.mode"), "AXB")
    }
  })

  it("reports missing required fields", () => {
    const exit = decodeAll({}, { errors: "all" })
    assert.isTrue(Exit.isFailure(exit))
    if (Exit.isFailure(exit)) {
      const err = exit.cause.reasons.find((r) => r._tag === "Fail") as unknown as { error: Schema.SchemaError }
      const paths = toIssues(err.error.issue).issues.map((i) => (i.path ?? []).map(String).join("."))
      assert.sameMembers(paths, ["poolKey", "subsId", "phoneNoX"])
    }
  })
})
