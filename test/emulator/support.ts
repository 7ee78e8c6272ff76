/** Hand-signed requests for wire-level emulator tests (the SDK tests use the real SDKs instead). */
import { randomUUID } from "node:crypto"
import { request } from "node:http"
import { formatBeijing } from "../../src/emulator/aliyun/clock.ts"
import type { RunningAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { aliyunTimestamp, authorizationV3, percentEncode, sha256Hex, signV1 } from "../../src/providers/aliyun/signature.ts"

export const VERSION = "2017-05-25"

export interface V1Options {
  readonly method?: "GET" | "POST"
  readonly secret?: string
  readonly accessKeyId?: string
  readonly timestamp?: string
  readonly nonce?: string
  readonly format?: string
  readonly version?: string
}

const encodeForm = (params: Readonly<Record<string, string>>): string =>
  Object.entries(params).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join("&")

/** The parameters of a v1-signed call, Signature included. */
export const signedParams = (emu: RunningAliyunEmulator, action: string, business: Readonly<Record<string, string>>, o: V1Options = {}): Record<string, string> => {
  const params: Record<string, string> = {
    Action: action,
    Version: o.version ?? VERSION,
    Format: o.format ?? "JSON",
    AccessKeyId: o.accessKeyId ?? emu.accessKeyId,
    SignatureMethod: "HMAC-SHA1",
    SignatureVersion: "1.0",
    SignatureNonce: o.nonce ?? randomUUID(),
    Timestamp: o.timestamp ?? aliyunTimestamp(Date.now()),
    ...business
  }
  return { ...params, Signature: signV1(o.method ?? "GET", params, o.secret ?? emu.accessKeySecret) }
}

/** A v1 call: GET with everything in the query, or POST `/` with everything in a form body. */
export const v1 = (emu: RunningAliyunEmulator, action: string, business: Readonly<Record<string, string>>, o: V1Options = {}, init: RequestInit = {}): Promise<Response> => {
  const form = encodeForm(signedParams(emu, action, business, o))
  return o.method === "POST"
    ? fetch(`${emu.url}/`, { ...init, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form })
    : fetch(`${emu.url}/?${form}`, init)
}

export interface V3Options {
  readonly query?: Readonly<Record<string, string>>
  /** Sent as an x-www-form-urlencoded body. */
  readonly form?: Readonly<Record<string, string>>
  readonly secret?: string
  readonly date?: string
  readonly nonce?: string
  /** Declared x-acs-content-sha256, when it should differ from the real body hash. */
  readonly contentSha256?: string
  /** Headers left out of SignedHeaders (they are still sent). */
  readonly unsigned?: ReadonlyArray<string>
}

/** A V3 (ACS3-HMAC-SHA256) call: POST `/`, business parameters in the query, auth in headers. */
export const v3 = (emu: RunningAliyunEmulator, action: string, o: V3Options = {}): Promise<Response> => {
  const query = o.query ?? {}
  const body = o.form === undefined ? "" : encodeForm(o.form)
  const headers: Record<string, string> = {
    host: new URL(emu.url).host,
    "x-acs-action": action,
    "x-acs-version": VERSION,
    "x-acs-date": o.date ?? aliyunTimestamp(Date.now()),
    "x-acs-signature-nonce": o.nonce ?? randomUUID().replaceAll("-", ""),
    "x-acs-content-sha256": o.contentSha256 ?? sha256Hex(body),
    ...(o.form === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" })
  }
  const input = { method: "POST", path: "/", query, headers, signedHeaders: Object.keys(headers).filter((h) => !(o.unsigned ?? []).includes(h)), hashedPayload: headers["x-acs-content-sha256"]! }
  const authorization = authorizationV3(input, emu.accessKeyId, o.secret ?? emu.accessKeySecret)
  const qs = encodeForm(query)
  const { host: _host, ...sent } = headers
  return fetch(`${emu.url}/${qs === "" ? "" : `?${qs}`}`, { method: "POST", headers: { ...sent, authorization }, body: body === "" ? null : body })
}

/** An `Expiration` `seconds` from now, in Beijing wall-clock time, as a client computes it. */
export const expirationIn = (seconds: number): string => formatBeijing(Date.now() + seconds * 1000)

export const json = async (res: Response): Promise<Record<string, any>> => JSON.parse(await res.text()) as Record<string, any>

export const control = async (emu: RunningAliyunEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${emu.url}/_emulator${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })
  return { status: res.status, body: await res.json() }
}

/** A raw request, so the Host header can be anything. */
export const raw = (url: string, method: string, path: string, headers: Record<string, string>, body = ""): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.once("error", reject)
    req.end(body)
  })
