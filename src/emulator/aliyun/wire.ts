/**
 * One Dyplsapi or cams request, as the POP gateway and the service behind it would treat it: parse
 * the three request shapes (GET query; POST form body; POST query + V3 headers, merging query and
 * form body), choose the product by Version, check action, signature and required parameters, apply
 * the product's published quota, throttling and injected faults, run the action and write the reply.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { performance } from "node:perf_hooks"
import { ACTIONS, API_VERSION } from "./actions.ts"
import type { Params, ReplyFields } from "./actions.ts"
import { CAMS_ACTIONS, CAMS_API_VERSION, CAMS_HOST_ID, CAMS_PRODUCT, type Quota } from "./cams.ts"
import type { EmulatorCore } from "./emulator.ts"
import { drawPlan, effectiveFaults, playPlan } from "../faults.ts"
import type { InjectedError, MalformedKind } from "../faults.ts"
import { authenticate } from "./gateway.ts"
import { defaultMessageOf, defaultStatusOf, gatewayError, gatewayErrorBody, HOST_ID, HTML_502, missingParam, newRequestId, PRODUCT, renderBody } from "./render.ts"
import type { GatewayError, ReplyFormat } from "./render.ts"
import type { Outcome } from "./state.ts"
import { UNKNOWN_ACTION } from "./stats.ts"

/** One action as the wire serves it, whichever product's state it runs on. */
interface ServedAction {
  readonly required: ReadonlyArray<string>
  /** A published per-user limit the emulator always enforces, and the code it answers above it. */
  readonly quota?: Quota | undefined
  readonly run: (core: EmulatorCore, params: Params) => Outcome<ReplyFields>
}

/** A product on the shared port, chosen by Version as Aliyun's hosts choose it by name. */
interface Product {
  readonly host: string
  readonly name: string
  /** `Message` of a successful reply. */
  readonly okMessage: string
  /** HTTP status of a business error: Dyplsapi answers them with 200, cams with 400 (aliyun.md §5, §8). */
  readonly businessErrorStatus: number
  readonly actions: Readonly<Record<string, ServedAction>>
}

const PRODUCTS: Readonly<Record<string, Product>> = {
  [API_VERSION]: {
    host: HOST_ID, name: PRODUCT, okMessage: "OK", businessErrorStatus: 200,
    actions: Object.fromEntries(Object.entries(ACTIONS).map(([name, spec]) => [name, {
      required: spec.required,
      run: (core: EmulatorCore, params: Params) => spec.run(core.state, params, core.clock.now(), core.clock.offset)
    }]))
  },
  [CAMS_API_VERSION]: {
    host: CAMS_HOST_ID, name: CAMS_PRODUCT, okMessage: "SUCCESS", businessErrorStatus: 400,
    actions: Object.fromEntries(Object.entries(CAMS_ACTIONS).map(([name, spec]) => [name, {
      required: spec.required,
      quota: spec.quota,
      run: (core: EmulatorCore, params: Params) => spec.run(core.chatapp, params)
    }]))
  }
}

/** Runs `fn` after `ms`, in a way the server can cancel when it closes. */
export type Schedule = (ms: number, fn: () => void) => void

const decodeComponent = (s: string): string => decodeURIComponent(s.includes("+") ? s.replaceAll("+", " ") : s)

/**
 * `a=1&b=2` (query string or x-www-form-urlencoded body) into a null-prototype record; the last of
 * repeated names wins. Undefined for malformed percent-encoding.
 */
export const parseForm = (s: string): Record<string, string> | undefined => {
  const out: Record<string, string> = Object.create(null)
  if (s === "") return out
  for (const part of s.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    try {
      out[decodeComponent(eq < 0 ? part : part.slice(0, eq))] = eq < 0 ? "" : decodeComponent(part.slice(eq + 1))
    } catch {
      return undefined
    }
  }
  return out
}

const headerValue = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** The reply side of one request: format, request id and the stats line it ends in. */
class Reply {
  readonly res: ServerResponse
  readonly core: EmulatorCore
  readonly requestId = newRequestId()
  format: ReplyFormat = "JSON"
  action: string = UNKNOWN_ACTION
  product: Product = PRODUCTS[API_VERSION]!

  constructor(core: EmulatorCore, res: ServerResponse) {
    this.core = core
    this.res = res
  }

  send(status: number, contentType: string, text: string, code: string, extraHeaders?: Readonly<Record<string, string>>): void {
    this.core.stats.answered(this.action, code)
    if (this.res.destroyed || this.res.headersSent) return
    this.res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(text),
      "x-acs-request-id": this.requestId,
      ...extraHeaders
    })
    this.res.end(text)
  }

  gateway(e: GatewayError, extraHeaders?: Readonly<Record<string, string>>): void {
    const { contentType, text } = renderBody(this.format, "Error", gatewayErrorBody(e, this.requestId, this.product.host, this.product.name))
    this.send(e.status, contentType, text, e.code, extraHeaders)
  }

  /** A service reply (success, or an isv. / isp. business error): HTTP 200 with the code in the body. */
  service(code: string, message: string, fields?: ReplyFields): Rendered {
    const body = { RequestId: this.requestId, Code: code, Message: message, ...fields }
    return { code, ...renderBody(this.format, `${this.action}Response`, body) }
  }
}

interface Rendered {
  readonly code: string
  readonly contentType: string
  readonly text: string
}

export const handleApiRequest = (core: EmulatorCore, schedule: Schedule, req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
  core.stats.arrived()
  const reply = new Reply(core, res)
  const method = req.method ?? ""
  const url = req.url ?? "/"
  const q = url.indexOf("?")
  const path = q < 0 ? url : url.slice(0, q)
  const query = parseForm(q < 0 ? "" : url.slice(q + 1))
  const isForm = (headerValue(req, "content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")
  const form = isForm ? parseForm(body.toString("utf8")) : Object.create(null)
  if (query === undefined || form === undefined) return reply.gateway(gatewayError("InvalidParameter", "Malformed percent-encoding."))
  const params: Params = Object.assign(Object.create(null), query, form)

  const format = params["Format"]?.toUpperCase()
  if (format === "XML") reply.format = "XML"
  else if (format !== undefined && format !== "JSON") return reply.gateway(gatewayError("InvalidParameter.Format"))
  if (method !== "GET" && method !== "POST") return reply.gateway(gatewayError("UnsupportedHTTPMethod"))
  if (path !== "/") return reply.gateway(gatewayError("InvalidApi.NotFound"))

  const version = params["Version"] ?? headerValue(req, "x-acs-version")
  if (version === undefined || version === "") return reply.gateway(missingParam("Version"))
  if (!Object.hasOwn(PRODUCTS, version)) return reply.gateway(gatewayError("InvalidVersion"))
  const product = PRODUCTS[version]!
  reply.product = product
  const action = params["Action"] ?? headerValue(req, "x-acs-action")
  if (action === undefined || action === "") return reply.gateway(missingParam("Action"))
  if (!Object.hasOwn(product.actions, action)) return reply.gateway(gatewayError("InvalidAction.NotFound"))
  reply.action = action
  // a withdrawn action (control API) answers as Aliyun does for an action it no longer serves, counted under its name
  if (core.withdrawn.has(action)) return reply.gateway(gatewayError("InvalidAction.NotFound"))
  const spec = product.actions[action]!

  if (core.options.verifySignatures) {
    const denied = authenticate({ method, path, query, params, headers: req.headers, body }, core.options, core.nonces, Date.now())
    if (denied !== undefined) return reply.gateway(denied)
  }
  const missing = spec.required.find((name) => params[name] === undefined || params[name] === "")
  if (missing !== undefined) return reply.gateway(missingParam(missing))

  if (spec.quota !== undefined) {
    // the published limit holds whatever the faults say; its window is kept apart from fault throttles
    const key = `quota:${action}`
    const window = core.faultTable.window(key)
    const retryAfterMs = window.admit(spec.quota.qps, performance.now())
    if (retryAfterMs > 0) return reply.gateway(gatewayError(spec.quota.code), { "x-acs-retry-after": String(retryAfterMs) })
  }

  const faults = effectiveFaults(core.faultTable.specs, action, params["SubsId"])
  if (faults.throttleKey !== undefined) {
    const window = core.faultTable.window(faults.throttleKey)
    const retryAfterMs = window.admit(faults.spec!.throttle!.qps, performance.now())
    if (retryAfterMs > 0) return reply.gateway(gatewayError("Throttling.User"), { "x-acs-retry-after": String(retryAfterMs) })
  }

  playPlan(drawPlan(faults.spec, core.random), schedule, {
    answered: (label) => core.stats.answered(action, label),
    socket: req.socket,
    malformed: (kind) => malformed(reply, kind, () => run(core, spec, params, reply)),
    error: (error) => injected(reply, error),
    answer: () => respond(reply, run(core, spec, params, reply))
  })
}

/** Runs the action on the emulator clock; the state changes even if the reply is then mangled. */
const run = (core: EmulatorCore, spec: ServedAction, params: Params, reply: Reply): Rendered => {
  const r = spec.run(core, params)
  return r.ok ? reply.service("OK", reply.product.okMessage, r.value) : reply.service(r.code, r.message)
}

const respond = (reply: Reply, r: Rendered): void =>
  reply.send(r.code === "OK" ? 200 : reply.product.businessErrorStatus, r.contentType, r.text, r.code)

const injected = (reply: Reply, error: InjectedError): void => {
  const status = error.httpStatus ?? defaultStatusOf(error.code)
  const message = error.message ?? defaultMessageOf(error.code)
  if (status === 200) {
    const r = reply.service(error.code, message)
    reply.send(200, r.contentType, r.text, r.code)
  }
  else reply.gateway({ status, code: error.code, message })
}

const malformed = (reply: Reply, kind: MalformedKind, runAction: () => Rendered): void => {
  switch (kind) {
    case "html-502":
      return reply.send(502, "text/html", HTML_502, "(malformed)")
    case "empty":
      return reply.send(200, "application/json;charset=utf-8", "", "(malformed)")
    case "truncated-json": {
      // The backend did the work; the reply was cut on the way back.
      const r = runAction()
      return reply.send(200, r.contentType, r.text.slice(0, Math.floor(r.text.length / 2)), "(malformed)")
    }
  }
}
