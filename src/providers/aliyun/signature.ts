/**
 * Aliyun POP request signatures: v1 (HMAC-SHA1, RPC query/form) and V3 (ACS3-HMAC-SHA256, headers).
 *
 * Pure functions over strings and bytes, shared by the adapter (signing) and the emulator
 * (verification), so both sides agree by construction and the test vectors of
 * shared/providers/aliyun.md §3-§4 pin the common code.
 */
import { createHash, createHmac, type KeyObject, timingSafeEqual } from "node:crypto"

/** Characters RFC 3986 leaves unreserved: a string of only these encodes to itself. */
const UNRESERVED = /^[A-Za-z0-9._~-]*$/

/** RFC 3986 percent-encoding as Aliyun uses it: upper-case hex, space is %20, `~` kept, `*` encoded. */
export const percentEncode = (s: string): string =>
  // most names and values (action names, pool keys, SubsIds, numbers) have nothing to encode
  UNRESERVED.test(s) ? s : encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const sortedPairs = (params: Readonly<Record<string, string>>): ReadonlyArray<readonly [string, string]> =>
  Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** `name=value&...` over every parameter but `Signature`, names sorted in byte order, both encoded. */
export const canonicalQueryV1 = (params: Readonly<Record<string, string>>): string =>
  sortedPairs(params)
    .filter(([k]) => k !== "Signature")
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join("&")

export const stringToSignV1 = (method: string, params: Readonly<Record<string, string>>): string =>
  `${method.toUpperCase()}&${percentEncode("/")}&${percentEncode(canonicalQueryV1(params))}`

/**
 * Base64 HMAC-SHA1 over the v1 string to sign; the key is the secret followed by `&`. A KeyObject
 * is taken as that whole key (secret and `&`), made once by a caller that signs often.
 */
export const signV1 = (method: string, params: Readonly<Record<string, string>>, accessKeySecret: string | KeyObject): string =>
  createHmac("sha1", typeof accessKeySecret === "string" ? `${accessKeySecret}&` : accessKeySecret).update(stringToSignV1(method, params)).digest("base64")

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Checks a v1 `Signature` parameter against the other parameters, in constant time. */
export const verifyV1 = (method: string, params: Readonly<Record<string, string>>, accessKeySecret: string): boolean => {
  const given = params["Signature"]
  return given !== undefined && safeEqual(given, signV1(method, params, accessKeySecret))
}

/** The last second formatted, and its text: every request of that second carries the same timestamp. */
let lastSecond = Number.NaN
let lastTimestamp = ""

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC with no fractional seconds: the only form the gateway accepts. */
export const aliyunTimestamp = (epochMillis: number): string => {
  const second = Math.floor(epochMillis / 1000)
  if (second !== lastSecond) {
    lastTimestamp = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")
    lastSecond = second
  }
  return lastTimestamp
}

export const sha256Hex = (body: string | Uint8Array): string => createHash("sha256").update(body).digest("hex")

export const V3_ALGORITHM = "ACS3-HMAC-SHA256"

export interface V3Input {
  readonly method: string
  /** Path of the request; `/` for RPC. */
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** Header names in any case; the ones named by `signedHeaders` are signed. */
  readonly headers: Readonly<Record<string, string>>
  /** Lower-case header names to sign, in any order. */
  readonly signedHeaders: ReadonlyArray<string>
  /** Lower-case hex SHA-256 of the body, as sent in `x-acs-content-sha256`. */
  readonly hashedPayload: string
}

export const canonicalRequestV3 = (input: V3Input): string => {
  const lowered = new Map(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]))
  const names = [...input.signedHeaders].map((h) => h.toLowerCase()).sort()
  const query = sortedPairs(input.query).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join("&")
  const headerLines = names.map((n) => `${n}:${lowered.get(n) ?? ""}\n`).join("")
  return [input.method.toUpperCase(), input.path, query, headerLines, names.join(";"), input.hashedPayload].join("\n")
}

export const stringToSignV3 = (input: V3Input): string => `${V3_ALGORITHM}\n${sha256Hex(canonicalRequestV3(input))}`

/** Lower-case hex HMAC-SHA256; unlike v1 the key is the bare secret (or a KeyObject of it, made once). */
export const signV3 = (input: V3Input, accessKeySecret: string | KeyObject): string =>
  createHmac("sha256", accessKeySecret).update(stringToSignV3(input)).digest("hex")

export const authorizationV3 = (input: V3Input, accessKeyId: string, accessKeySecret: string | KeyObject): string =>
  `${V3_ALGORITHM} Credential=${accessKeyId},SignedHeaders=${[...input.signedHeaders].map((h) => h.toLowerCase()).sort().join(";")},Signature=${signV3(input, accessKeySecret)}`

export interface ParsedAuthorizationV3 {
  readonly accessKeyId: string
  readonly signedHeaders: ReadonlyArray<string>
  readonly signature: string
}

/** Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`; undefined when it is not that shape. */
export const parseAuthorizationV3 = (header: string): ParsedAuthorizationV3 | undefined => {
  const m = /^ACS3-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(header.trim())
  if (m === null) return undefined
  return { accessKeyId: m[1]!, signedHeaders: m[2]!.split(";"), signature: m[3]! }
}

/** Checks a V3 signature whose signed header list the client declared, in constant time. */
export const verifyV3 = (input: V3Input, signature: string, accessKeySecret: string): boolean =>
  safeEqual(signature, signV3(input, accessKeySecret))
