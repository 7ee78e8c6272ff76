/**
 * Aliyun POP signatures (shared/providers/aliyun.md §3, §4): the recorded test vectors, and sign/verify
 * properties. The vectors are copied from the doc, not computed from src.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  aliyunTimestamp,
  authorizationV3,
  canonicalQueryV1,
  canonicalRequestV3,
  parseAuthorizationV3,
  percentEncode,
  sha256Hex,
  signV1,
  signV3,
  stringToSignV1,
  stringToSignV3,
  type V3Input,
  verifyV1,
  verifyV3
} from "../../src/providers/aliyun/signature.ts"

const SECRET = "testAccessKeySecret"
const KEY_ID = "testAccessKeyId"
const NONCE = "3d8f1a2b-0c4e-4f6a-9b7d-1e2f3a4b5c6d"
const TIMESTAMP = "2026-01-02T03:04:05Z"
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/** pop-core's system parameters for the pinned clock and nonce. */
const system = {
  AccessKeyId: KEY_ID,
  Format: "JSON",
  SignatureMethod: "HMAC-SHA1",
  SignatureNonce: NONCE,
  SignatureVersion: "1.0",
  Timestamp: TIMESTAMP,
  Version: "2017-05-25"
}

describe("percentEncode (§3 step 2)", () => {
  it("keeps the unreserved set and upper-cases every other byte", () => {
    assert.strictEqual(percentEncode("AZaz09-_.~"), "AZaz09-_.~")
    assert.strictEqual(percentEncode(" "), "%20")
    assert.strictEqual(percentEncode("*"), "%2A")
    assert.strictEqual(percentEncode("!'()"), "%21%27%28%29")
    assert.strictEqual(percentEncode("+/="), "%2B%2F%3D")
    assert.strictEqual(percentEncode(":"), "%3A")
    assert.strictEqual(percentEncode("杭州"), "%E6%9D%AD%E5%B7%9E")
  })

  it("only ever emits unreserved characters and upper-case %XX triplets", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 20 }), (s) => {
        const out = percentEncode(s)
        assert.match(out, /^(?:[A-Za-z0-9\-_.~]|%[0-9A-F]{2})*$/)
        assert.strictEqual(decodeURIComponent(out), s)
      }),
      { numRuns: 200, seed: 11 }
    )
  })

  it("encodes exactly as encodeURIComponent plus !'()*, whether or not the string has anything to encode", () => {
    const reference = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    const unreserved = fc.string({ unit: fc.constantFrom(..."AZaz09-_.~"), maxLength: 20 })
    fc.assert(
      fc.property(fc.oneof(unreserved, fc.string({ unit: "grapheme", maxLength: 20 })), (s) => {
        assert.strictEqual(percentEncode(s), reference(s))
      }),
      { numRuns: 300, seed: 12 }
    )
  })
})

describe("signature v1 vectors", () => {
  it("V1-GET: canonical string, string to sign, signature and request line", () => {
    const params = {
      ...system,
      Action: "QueryCallStatus",
      RegionId: "cn-hangzhou",
      PoolKey: "FC100000000001",
      SubsId: "1000000123456789",
      CallNo: "13800138000"
    }
    const canonical =
      "AccessKeyId=testAccessKeyId&Action=QueryCallStatus&CallNo=13800138000&Format=JSON&PoolKey=FC100000000001&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=3d8f1a2b-0c4e-4f6a-9b7d-1e2f3a4b5c6d&SignatureVersion=1.0&SubsId=1000000123456789&Timestamp=2026-01-02T03%3A04%3A05Z&Version=2017-05-25"
    const stringToSign =
      "GET&%2F&AccessKeyId%3DtestAccessKeyId%26Action%3DQueryCallStatus%26CallNo%3D13800138000%26Format%3DJSON%26PoolKey%3DFC100000000001%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3d8f1a2b-0c4e-4f6a-9b7d-1e2f3a4b5c6d%26SignatureVersion%3D1.0%26SubsId%3D1000000123456789%26Timestamp%3D2026-01-02T03%253A04%253A05Z%26Version%3D2017-05-25"
    assert.strictEqual(canonicalQueryV1(params), canonical)
    assert.strictEqual(stringToSignV1("GET", params), stringToSign)
    const signature = signV1("GET", params, SECRET)
    assert.strictEqual(signature, "vYAOqJkjV4bLC0+OEM2lqRYn9Mw=")
    assert.strictEqual(
      `GET /?${canonical}&Signature=${percentEncode(signature)}`,
      "GET /?AccessKeyId=testAccessKeyId&Action=QueryCallStatus&CallNo=13800138000&Format=JSON&PoolKey=FC100000000001&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=3d8f1a2b-0c4e-4f6a-9b7d-1e2f3a4b5c6d&SignatureVersion=1.0&SubsId=1000000123456789&Timestamp=2026-01-02T03%3A04%3A05Z&Version=2017-05-25&Signature=vYAOqJkjV4bLC0%2BOEM2lqRYn9Mw%3D"
    )
    assert.isTrue(verifyV1("GET", { ...params, Signature: "vYAOqJkjV4bLC0+OEM2lqRYn9Mw=" }, SECRET))
  })

  it("V1-GET: a Signature parameter is not part of the signed set", () => {
    const params = { ...system, Action: "QueryCallStatus", PoolKey: "FC100000000001" }
    assert.strictEqual(canonicalQueryV1({ ...params, Signature: "anything" }), canonicalQueryV1(params))
    assert.strictEqual(signV1("GET", { ...params, Signature: "anything" }, SECRET), signV1("GET", params, SECRET))
  })

  it("V1-POST: encoding edge cases (UTF-8, space, *, ~, !'()) in the body and string to sign", () => {
    const params = {
      ...system,
      Action: "BindAxb",
      RegionId: "cn-hangzhou",
      PoolKey: "FC100000000001",
      PhoneNoA: "13800138000",
      PhoneNoB: "13900139000",
      Expiration: "2026-01-02 12:00:00",
      ExpectCity: "杭州",
      OutId: "a*b~c d!'()"
    }
    const body =
      "AccessKeyId=testAccessKeyId&Action=BindAxb&ExpectCity=%E6%9D%AD%E5%B7%9E&Expiration=2026-01-02%2012%3A00%3A00&Format=JSON&OutId=a%2Ab~c%20d%21%27%28%29&PhoneNoA=13800138000&PhoneNoB=13900139000&PoolKey=FC100000000001&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=3d8f1a2b-0c4e-4f6a-9b7d-1e2f3a4b5c6d&SignatureVersion=1.0&Timestamp=2026-01-02T03%3A04%3A05Z&Version=2017-05-25&Signature=IuePfdPSRO3UDWFLIQmAb%2FfUvzw%3D"
    const canonical = canonicalQueryV1(params)
    const signature = signV1("POST", params, SECRET)
    assert.strictEqual(signature, "IuePfdPSRO3UDWFLIQmAb/fUvzw=")
    assert.strictEqual(`${canonical}&Signature=${percentEncode(signature)}`, body)
    const sts = stringToSignV1("POST", params)
    assert.isTrue(sts.startsWith("POST&%2F&"))
    assert.strictEqual(sts, `POST&%2F&${percentEncode(canonical)}`)
    assert.include(sts, "ExpectCity%3D%25E6%259D%25AD%25E5%25B7%259E")
    assert.include(sts, "OutId%3Da%252Ab~c%2520d%2521%2527%2528%2529")
    assert.isTrue(verifyV1("POST", { ...params, Signature: signature }, SECRET))
    // The same parameters signed for GET give another signature.
    assert.notStrictEqual(signV1("GET", params, SECRET), signature)
  })

  it("aliyunTimestamp is UTC without fractional seconds", () => {
    assert.strictEqual(aliyunTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), TIMESTAMP)
    assert.strictEqual(aliyunTimestamp(Date.UTC(2026, 11, 31, 23, 59, 59, 999)), "2026-12-31T23:59:59Z")
  })

  it("aliyunTimestamp is the same for every instant of a second and follows any order of calls", () => {
    const start = Date.UTC(2026, 11, 4, 12, 0, 0)
    fc.assert(
      fc.property(fc.array(fc.integer({ min: start, max: start + 5_000 }), { maxLength: 30 }), (instants) => {
        for (const ms of instants) assert.strictEqual(aliyunTimestamp(ms), new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"))
      }),
      { numRuns: 200, seed: 13 }
    )
  })
})

describe("signature V3 vectors", () => {
  const headers = {
    host: "dyplsapi.aliyuncs.com",
    "x-acs-action": "QueryCallStatus",
    "x-acs-version": "2017-05-25",
    "x-acs-date": TIMESTAMP,
    "x-acs-signature-nonce": "3d8f1a2b0c4e4f6a9b7d1e2f3a4b5c6d",
    "x-acs-content-sha256": EMPTY_SHA256
  }
  const query = { CallNo: "13800138000", PoolKey: "FC100000000001", SubsId: "1000000123456789" }
  const input: V3Input = {
    method: "POST",
    path: "/",
    query,
    headers,
    signedHeaders: Object.keys(headers),
    hashedPayload: EMPTY_SHA256
  }

  it("hash of the empty body", () => {
    assert.strictEqual(sha256Hex(""), EMPTY_SHA256)
  })

  it("V3: canonical request, string to sign and Authorization", () => {
    assert.strictEqual(
      canonicalRequestV3(input),
      [
        "POST",
        "/",
        "CallNo=13800138000&PoolKey=FC100000000001&SubsId=1000000123456789",
        "host:dyplsapi.aliyuncs.com",
        "x-acs-action:QueryCallStatus",
        `x-acs-content-sha256:${EMPTY_SHA256}`,
        "x-acs-date:2026-01-02T03:04:05Z",
        "x-acs-signature-nonce:3d8f1a2b0c4e4f6a9b7d1e2f3a4b5c6d",
        "x-acs-version:2017-05-25",
        "",
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
        EMPTY_SHA256
      ].join("\n")
    )
    assert.strictEqual(
      stringToSignV3(input),
      "ACS3-HMAC-SHA256\na87e2f4e21036a0d13a12a12b3b069e6a7ab3477f04ed34d8816f504f4690d7a"
    )
    const authorization =
      "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=f238ba15fd649cda5aa0d80e1e95f9cb390a737132831eb237ddd415e10e6d41"
    assert.strictEqual(authorizationV3(input, KEY_ID, SECRET), authorization)
    assert.deepStrictEqual(parseAuthorizationV3(authorization), {
      accessKeyId: KEY_ID,
      signedHeaders: ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"],
      signature: "f238ba15fd649cda5aa0d80e1e95f9cb390a737132831eb237ddd415e10e6d41"
    })
    assert.isTrue(verifyV3(input, "f238ba15fd649cda5aa0d80e1e95f9cb390a737132831eb237ddd415e10e6d41", SECRET))
  })

  it("V3: header names in any case and any signed-header order give the same signature", () => {
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), `  ${v} `]))
    const shuffled: V3Input = { ...input, headers: upper, signedHeaders: [...input.signedHeaders].reverse() }
    assert.strictEqual(signV3(shuffled, SECRET), "f238ba15fd649cda5aa0d80e1e95f9cb390a737132831eb237ddd415e10e6d41")
  })

  it("V3: the key is the bare secret (no trailing &)", () => {
    assert.notStrictEqual(signV3(input, `${SECRET}&`), signV3(input, SECRET))
  })

  it("loopback capture: host 127.0.0.1:47613 and a signed x-acs-credentials-provider", () => {
    const loopHeaders = { ...headers, host: "127.0.0.1:47613", "x-acs-credentials-provider": "static_ak" }
    const loop: V3Input = { ...input, headers: loopHeaders, signedHeaders: Object.keys(loopHeaders) }
    const signature = "40a6e6ddcd605129500516939b7302c66f9b8686b275e3621afacbe6fba68849"
    assert.strictEqual(signV3(loop, SECRET), signature)
    const authorization = authorizationV3(loop, KEY_ID, SECRET)
    assert.strictEqual(
      authorization,
      `ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=${signature}`
    )
    // A verifier that uses the client's declared list accepts it; a fixed list without the provider header does not.
    const parsed = parseAuthorizationV3(authorization)
    assert.isDefined(parsed)
    assert.isTrue(verifyV3({ ...loop, signedHeaders: parsed!.signedHeaders }, parsed!.signature, SECRET))
    assert.isFalse(verifyV3({ ...loop, signedHeaders: Object.keys(headers) }, signature, SECRET))
  })

  it("parseAuthorizationV3 rejects other shapes", () => {
    assert.isUndefined(parseAuthorizationV3("Bearer abc"))
    assert.isUndefined(parseAuthorizationV3("ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host"))
    assert.isUndefined(parseAuthorizationV3("ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=XYZ"))
  })
})

// ---------------------------------------------------------------------------------------------------
// Properties

/** Characters that stress the encoder: RFC 3986 reserved and unreserved marks, non-ASCII, astral. */
const special = [..."!'()*~ -_.&=+/%:?#[]@$,;\"<>\\^`{|}"]
const charArb = fc.oneof(
  fc.constantFrom(...special),
  fc.constantFrom("杭", "州", "é", "ü", "😀", "\u00a0", "\u3000"),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 })
)
const textArb = (minLength = 0) => fc.string({ unit: charArb, minLength, maxLength: 10 })
const nameArb = textArb(1).filter((n) => n !== "Signature" && n !== "__proto__")
const paramsArb = fc.dictionary(nameArb, textArb(), { minKeys: 1, maxKeys: 8 })
const secretArb = fc.string({ unit: charArb, minLength: 1, maxLength: 30 })

type Edit =
  | { readonly op: "replace"; readonly at: number; readonly ch: string }
  | { readonly op: "insert"; readonly at: number; readonly ch: string }
  | { readonly op: "delete"; readonly at: number }

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("replace" as const), at: fc.nat(), ch: charArb }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), ch: charArb }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() })
)

/** Applies one single-character edit (code points, so astral characters stay whole). */
const applyEdit = (s: string, e: Edit): string => {
  const cs = Array.from(s)
  if (e.op === "insert") {
    cs.splice(e.at % (cs.length + 1), 0, e.ch)
  } else if (cs.length > 0) {
    const at = e.at % cs.length
    if (e.op === "replace") cs[at] = e.ch
    else cs.splice(at, 1)
  }
  return cs.join("")
}

type Target = "name" | "value" | "secret" | "signature"

/** Moves one parameter to a new name or value; undefined when the edit is a no-op or collides. */
const editParams = (
  params: Readonly<Record<string, string>>,
  which: number,
  target: "name" | "value",
  edit: Edit
): Record<string, string> | undefined => {
  const entries = Object.entries(params)
  const [name, value] = entries[which % entries.length]!
  if (target === "value") {
    const v2 = applyEdit(value, edit)
    return v2 === value ? undefined : { ...params, [name]: v2 }
  }
  const n2 = applyEdit(name, edit)
  if (n2 === name || n2 === "" || n2 === "Signature" || n2 === "__proto__" || n2 in params) return undefined
  const out: Record<string, string> = {}
  for (const [k, v] of entries) out[k === name ? n2 : k] = v
  return out
}

describe("signature v1 properties", () => {
  const methodArb = fc.constantFrom("GET", "POST")

  it("sign then verify accepts, for any parameters (unicode and reserved characters included)", () => {
    fc.assert(
      fc.property(methodArb, paramsArb, secretArb, (method, params, secret) => {
        const signature = signV1(method, params, secret)
        assert.match(signature, /^[A-Za-z0-9+/]{27}=$/) // base64 of 20 bytes
        assert.isTrue(verifyV1(method, { ...params, Signature: signature }, secret))
        // The order parameters were given in does not matter.
        const reversed = Object.fromEntries(Object.entries(params).reverse())
        assert.isTrue(verifyV1(method, { Signature: signature, ...reversed }, secret))
      }),
      { numRuns: 200, seed: 101 }
    )
  })

  it("rejects a missing signature", () => {
    fc.assert(
      fc.property(methodArb, paramsArb, secretArb, (method, params, secret) => {
        assert.isFalse(verifyV1(method, params, secret))
      }),
      { numRuns: 50, seed: 102 }
    )
  })

  it("any single-character change to a name, a value, the secret or the signature is rejected", () => {
    const targetArb = fc.constantFrom<Target>("name", "value", "secret", "signature")
    fc.assert(
      fc.property(methodArb, paramsArb, secretArb, targetArb, fc.nat(), editArb, (method, params, secret, target, which, edit) => {
        const signature = signV1(method, params, secret)
        let p: Record<string, string> = params
        let s = secret
        let sig = signature
        if (target === "name" || target === "value") {
          const edited = editParams(params, which, target, edit)
          fc.pre(edited !== undefined)
          p = edited!
        } else if (target === "secret") {
          s = applyEdit(secret, edit)
          fc.pre(s !== secret)
        } else {
          sig = applyEdit(signature, edit)
          fc.pre(sig !== signature)
        }
        assert.isFalse(verifyV1(method, { ...p, Signature: sig }, s), `accepted after a ${edit.op} on the ${target}`)
      }),
      { numRuns: 300, seed: 103 }
    )
  })

  it("a signature for one method does not verify for the other", () => {
    fc.assert(
      fc.property(paramsArb, secretArb, (params, secret) => {
        assert.isFalse(verifyV1("POST", { ...params, Signature: signV1("GET", params, secret) }, secret))
      }),
      { numRuns: 50, seed: 104 }
    )
  })
})

describe("signature V3 properties", () => {
  /** Header values without surrounding or inner line breaks; values are trimmed by design. */
  const headerValueArb = fc.string({ unit: fc.constantFrom(..."abcXYZ019-_.:/;=", "杭"), minLength: 1, maxLength: 12 })
  const headerEditArb: fc.Arbitrary<Edit> = fc.oneof(
    fc.record({ op: fc.constant("replace" as const), at: fc.nat(), ch: fc.constantFrom(..."abcQ7-_.:") }),
    fc.record({ op: fc.constant("insert" as const), at: fc.nat(), ch: fc.constantFrom(..."abcQ7-_.:") }),
    fc.record({ op: fc.constant("delete" as const), at: fc.nat() })
  )
  const v3Arb = fc.record({
    method: fc.constantFrom("GET", "POST"),
    query: fc.dictionary(nameArb, textArb(), { maxKeys: 6 }),
    headers: fc.record({
      host: headerValueArb,
      "x-acs-action": headerValueArb,
      "x-acs-date": headerValueArb,
      "x-acs-signature-nonce": headerValueArb,
      "x-acs-version": headerValueArb
    }),
    body: fc.string({ maxLength: 20 })
  }).map(({ method, query, headers, body }): V3Input => {
    const all = { ...headers, "x-acs-content-sha256": sha256Hex(body) }
    return { method, path: "/", query, headers: all, signedHeaders: Object.keys(all), hashedPayload: sha256Hex(body) }
  })

  it("sign then verify accepts", () => {
    fc.assert(
      fc.property(v3Arb, secretArb, (input, secret) => {
        const signature = signV3(input, secret)
        assert.match(signature, /^[0-9a-f]{64}$/)
        assert.isTrue(verifyV3(input, signature, secret))
        const parsed = parseAuthorizationV3(authorizationV3(input, "id", secret))
        assert.isDefined(parsed)
        assert.strictEqual(parsed!.signature, signature)
        assert.isTrue(verifyV3({ ...input, signedHeaders: parsed!.signedHeaders }, parsed!.signature, secret))
      }),
      { numRuns: 200, seed: 201 }
    )
  })

  it("any single-character change to a query name or value, a signed header, the secret or the signature is rejected", () => {
    const targetArb = fc.constantFrom<Target | "header">("name", "value", "header", "secret", "signature")
    fc.assert(
      fc.property(v3Arb, secretArb, targetArb, fc.nat(), editArb, headerEditArb, (input, secret, target, which, edit, headerEdit) => {
        const signature = signV3(input, secret)
        let changed: V3Input = input
        let s = secret
        let sig = signature
        if (target === "name" || target === "value") {
          fc.pre(Object.keys(input.query).length > 0)
          const edited = editParams(input.query, which, target, edit)
          fc.pre(edited !== undefined)
          changed = { ...input, query: edited! }
        } else if (target === "header") {
          const names = Object.keys(input.headers)
          const name = names[which % names.length]!
          const v2 = applyEdit(input.headers[name]!, headerEdit)
          fc.pre(v2 !== input.headers[name] && v2 !== "")
          changed = { ...input, headers: { ...input.headers, [name]: v2 } }
        } else if (target === "secret") {
          s = applyEdit(secret, edit)
          fc.pre(s !== secret)
        } else {
          sig = applyEdit(signature, edit)
          fc.pre(sig !== signature)
        }
        assert.isFalse(verifyV3(changed, sig, s), `accepted after a change to the ${target}`)
      }),
      { numRuns: 300, seed: 202 }
    )
  })
})
