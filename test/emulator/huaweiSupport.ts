/** Signed requests and control calls for the Huawei emulator tests. */
import { Redacted } from "effect"
import type { RunningHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import { AX_CALLEE_PATH, AX_PATH, AXB_PATH } from "../../src/emulator/huawei/index.ts"
import { createdOf, newNonce, signedHeaders } from "../../src/providers/huawei/signature.ts"
import type { HuaweiApp, HuaweiAuth } from "../../src/providers/huawei/signature.ts"

export { AX_CALLEE_PATH, AX_PATH, AXB_PATH }

export interface Signing {
  readonly appKey?: string
  readonly secret?: string
  readonly auth?: HuaweiAuth
  readonly nonce?: string
  readonly created?: string
  /** Replaces or (with undefined) removes headers after signing. */
  readonly headers?: Readonly<Record<string, string | undefined>>
}

/** The emulator's app by key (default its first AXB app), as the signature module sees it. */
export const appOf = (emu: RunningHuaweiEmulator, appKey?: string): HuaweiApp => {
  const a = emu.apps.find((x) => appKey === undefined ? x.mode === "AXB" : x.appKey === appKey)!
  return { appKey: a.appKey, appSecret: Redacted.make(a.appSecret), auth: a.auth }
}

export const signed = (emu: RunningHuaweiEmulator, s: Signing = {}): Record<string, string> => {
  const base = appOf(emu, s.appKey)
  const app: HuaweiApp = {
    appKey: base.appKey,
    appSecret: s.secret === undefined ? base.appSecret : Redacted.make(s.secret),
    auth: s.auth ?? base.auth
  }
  const headers: Record<string, string> = { "content-type": "application/json;charset=UTF-8", ...signedHeaders(app, s.nonce ?? newNonce(), s.created ?? createdOf(Date.now())) }
  for (const [k, v] of Object.entries(s.headers ?? {})) {
    if (v === undefined) delete headers[k]
    else headers[k] = v
  }
  return headers
}

export interface HwReply {
  readonly status: number
  readonly headers: Headers
  readonly body: Record<string, any>
}

/** A signed call: POST/PUT carry `fields` as JSON, GET/DELETE as a query string (`+` sent as %2B). */
export const hw = async (
  emu: RunningHuaweiEmulator,
  method: string,
  path: string,
  fields: Readonly<Record<string, unknown>> = {},
  s: Signing = {}
): Promise<HwReply> => {
  const hasBody = method === "POST" || method === "PUT"
  const qs = hasBody ? "" : new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)])).toString()
  const res = await fetch(`${emu.url}${path}${qs === "" ? "" : `?${qs}`}`, {
    method,
    headers: signed(emu, s),
    ...(hasBody ? { body: JSON.stringify(fields) } : {})
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text === "" ? {} : JSON.parse(text) }
}

export const axb = (emu: RunningHuaweiEmulator, method: string, fields?: Readonly<Record<string, unknown>>, s?: Signing) => hw(emu, method, AXB_PATH, fields, s)
export const ax = (emu: RunningHuaweiEmulator, method: string, fields?: Readonly<Record<string, unknown>>, s: Signing = {}) =>
  hw(emu, method, AX_PATH, fields, { appKey: emu.apps.find((a) => a.mode === "AX")!.appKey, ...s })

export const control = async (emu: RunningHuaweiEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${emu.url}/_emulator${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })
  return { status: res.status, body: await res.json() }
}


export const A = "+8613800000001"
export const B = "+8613900000001"
export const C = "+8613700000001"
export const D = "+8613600000001"
