/**
 * One request to the emulated platform: the privacy-call URIs (AXB, AX) and the CEC token and
 * queryCallState APIs. For privacy calls, in order: URI and method (`1010006`), the signature
 * (auth.ts), the app's mode against the URI (`1010040`), the account (`1010007`, `1010029`), the
 * parameters (`1010002`), injected faults, then the state change. Every reply closes its connection,
 * as Huawei's short connections do.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { performance } from "node:perf_hooks"
import { drawPlan, effectiveFaults, playPlan } from "../faults.ts"
import type { InjectedError, MalformedKind } from "../faults.ts"
import { UNKNOWN_ACTION } from "../aliyun/stats.ts"
import { parseForm } from "../aliyun/wire.ts"
import type { Schedule } from "../httpServer.ts"
import { authenticate } from "./auth.ts"
import { DEFAULT_TOKEN_SECONDS, MAX_TOKEN_SECONDS, CALL_SERIAL_NO } from "./cec.ts"
import type { HuaweiEmulatorCore } from "./emulator.ts"
import { wireFields } from "./emulator.ts"
import type { ActionName, HuaweiMode, ResolvedApp } from "./options.ts"
import { parseAxBind, parseAxbBind, parseAxCallee, parseAxbModify, parseAxbQuery, parseAxbUnbind, parseAxModify, parseAxQuery, parseAxUnbind } from "./requests.ts"
import type { Parsed } from "./requests.ts"
import { result } from "./results.ts"
import type { HuaweiResult } from "./results.ts"
import type { Outcome } from "./state.ts"

export const AXB_PATH = "/rest/caas/relationnumber/partners/v1.0"
export const AX_PATH = "/rest/provision/caas/privatenumber/v1.0"
export const AX_CALLEE_PATH = "/rest/caas/privatenumber/calleenumber/v1.0"
export const CEC_TOKEN_PATH = "/apigovernance/api/oauth/tokenByAkSk"
export const CEC_QUERY_CALL_STATE_PATH = "/apiaccess/CC-Management/v1/mobileAgent/queryCallState"

type Fields = Readonly<Record<string, unknown>>
type Body = Readonly<Record<string, unknown>>

/** What an action answers: a result and the reply's other fields. */
interface Answer {
  readonly result: HuaweiResult
  readonly fields?: Body | undefined
}

type Run = (core: HuaweiEmulatorCore, app: ResolvedApp, fields: Fields, now: number) => Answer

const answer = <A, B>(parsed: Parsed<A>, run: (a: A) => Outcome<B>, reply: (b: B) => Body): Answer => {
  if (!parsed.ok) return { result: parsed.error }
  const o = run(parsed.value)
  return o.ok ? { result: result("0"), fields: reply(o.value) } : { result: result(o.code, o.detail) }
}

const PRIVACY: Readonly<Record<string, { readonly mode: HuaweiMode; readonly methods: Readonly<Record<string, readonly [ActionName, Run]>> }>> = {
  [AXB_PATH]: {
    mode: "AXB",
    methods: {
      POST: ["axbBind", (core, app, f, now) =>
        answer(parseAxbBind(f), (r) => core.state.bindAxb(app.appKey, r, now), (b) => ({ relationNum: b.relationNum, subscriptionId: b.subscriptionId }))],
      PUT: ["axbModify", (core, app, f, now) =>
        answer(parseAxbModify(f), (r) => core.state.modifyAxb(app.appKey, r.subscriptionId, r.changes, now), () => ({}))],
      GET: ["axbQuery", (core, app, f, now) =>
        answer(parseAxbQuery(f), (q) => core.state.queryAxb(app.appKey, q, now), (r) => ({ totalCount: r.totalCount, relationNumList: r.items.map(wireFields) }))],
      DELETE: ["axbUnbind", (core, app, f, now) =>
        answer(parseAxbUnbind(f), (q) => core.state.unbindAxb(app.appKey, q, now), () => ({}))]
    }
  },
  [AX_PATH]: {
    mode: "AX",
    methods: {
      POST: ["axBind", (core, app, f, now) =>
        answer(parseAxBind(f), (r) => core.state.bindAx(app.appKey, r, now), (b) => ({ origNum: b.origNum, privateNum: b.privateNum, subscriptionId: b.subscriptionId }))],
      PUT: ["axModify", (core, app, f, now) =>
        answer(parseAxModify(f), (r) => core.state.modifyAx(app.appKey, r.target, r.changes, now), () => ({}))],
      GET: ["axQuery", (core, app, f) =>
        answer(parseAxQuery(f), (q) => core.state.queryAx(app.appKey, q), (items) => ({ privateNumList: items.map(wireFields) }))],
      DELETE: ["axUnbind", (core, app, f) =>
        answer(parseAxUnbind(f), (t) => core.state.unbindAx(app.appKey, t), () => ({}))]
    }
  },
  [AX_CALLEE_PATH]: {
    mode: "AX",
    methods: {
      PUT: ["axCallee", (core, app, f, now) =>
        answer(parseAxCallee(f), (r) => core.state.setTempCallee(app.appKey, r.target, r.calleeNum, now), () => ({}))]
    }
  }
}

/** Actions that change bindings: a frozen subscriber may still query, not bind, modify or unbind. */
const CHANGES: ReadonlySet<ActionName> = new Set(["axbBind", "axbModify", "axbUnbind", "axBind", "axModify", "axUnbind", "axCallee"])

const HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n"

const headerValue = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** The reply side of one request, and the stats line it ends in. */
class Reply {
  readonly core: HuaweiEmulatorCore
  readonly res: ServerResponse
  action: string = UNKNOWN_ACTION

  constructor(core: HuaweiEmulatorCore, res: ServerResponse) {
    this.core = core
    this.res = res
  }

  send(status: number, contentType: string, text: string, code: string): void {
    this.core.stats.answered(this.action, code)
    if (this.res.destroyed || this.res.headersSent) return
    // short connections: Huawei closes each connection after its reply
    this.res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text), connection: "close" })
    this.res.end(text)
  }

  json(status: number, body: Body, code: string): void {
    this.send(status, "application/json;charset=UTF-8", JSON.stringify(body), code)
  }

  privacy(r: HuaweiResult): void {
    const x = rendered(r)
    this.json(x.status, x.body, x.code)
  }
}

const readJson = (body: Buffer): Fields | undefined => {
  try {
    const v: unknown = JSON.parse(body.toString("utf8"))
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Fields) : undefined
  } catch {
    return undefined
  }
}

export const handleApiRequest = (core: HuaweiEmulatorCore, schedule: Schedule, req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
  core.stats.arrived()
  const reply = new Reply(core, res)
  const url = req.url ?? "/"
  const q = url.indexOf("?")
  const path = q < 0 ? url : url.slice(0, q)
  const method = req.method ?? ""
  if (path === CEC_TOKEN_PATH || path === CEC_QUERY_CALL_STATE_PATH) return handleCec(core, schedule, req, reply, path, body)
  const api = PRIVACY[path]
  if (api === undefined) return reply.privacy({ ...result("1010002", `Invalid request: no API at ${path}.`), status: 404 })
  const entry = api.methods[method]
  if (entry === undefined) return reply.privacy(result("1010006"))
  const [action, run] = entry
  reply.action = action

  let app: ResolvedApp
  if (core.options.verifySignatures) {
    const auth = authenticate(req.headers, { apps: core.options.apps, nonces: core.nonces, skewMs: core.options.clockSkewMs, now: Date.now() })
    if (!auth.ok) return reply.privacy(auth.error)
    app = auth.app
  } else {
    app = core.options.apps.find((a) => a.mode === api.mode) ?? core.options.apps[0]!
  }
  if (app.mode !== api.mode) return reply.privacy(result("1010040"))
  if (core.account === "arrears") return reply.privacy(result("1010007"))
  if (core.account === "suspended") return reply.privacy(result("1010008"))
  if (core.account === "frozen" && CHANGES.has(action)) return reply.privacy(result("1010029"))

  let fields: Fields
  if (method === "POST" || method === "PUT") {
    const json = readJson(body)
    if (json === undefined) return reply.privacy(result("1010002", "Invalid request: the body must be a JSON object."))
    fields = json
  } else {
    // a raw `+` in a query string decodes to a space, so `+86…` must be sent as `%2B86…` (huawei.md §1)
    const query = parseForm(q < 0 ? "" : url.slice(q + 1))
    if (query === undefined) return reply.privacy(result("1010002", "Invalid request: malformed percent-encoding."))
    fields = query
  }

  const subscriptionId = typeof fields["subscriptionId"] === "string" ? fields["subscriptionId"] : undefined
  withFaults(core, schedule, req, reply, action, subscriptionId, {
    answer: () => {
      const a = run(core, app, fields, core.clock.now())
      return rendered(a.result, a.fields)
    },
    injected: (e) => rendered({ ...result(e.code, e.message), ...(e.httpStatus === undefined ? {} : { status: e.httpStatus }) }),
    throttled: () => rendered(result("1010010"))
  })
}

interface Rendered {
  readonly status: number
  readonly body: Body
  /** What stats count the reply under. */
  readonly code: string
}

/** `{resultcode, resultdesc, ...fields}` at the result's HTTP status; the 401s carry only `resultdesc`. */
const rendered = (r: HuaweiResult, fields?: Body): Rendered =>
  r.resultcode === undefined
    ? { status: r.status, body: { resultdesc: r.resultdesc }, code: `(${r.status})` }
    : { status: r.status, body: { resultcode: r.resultcode, resultdesc: r.resultdesc, ...fields }, code: r.resultcode }

/** How an API family renders its answer, an injected error and a throttled request. */
interface Renderers {
  readonly answer: () => Rendered
  readonly injected: (e: InjectedError) => Rendered
  readonly throttled: () => Rendered
}

/** Runs the action under the faults configured for it (and `*`, and `<action>@<subscriptionId>`). */
const withFaults = (
  core: HuaweiEmulatorCore,
  schedule: Schedule,
  req: IncomingMessage,
  reply: Reply,
  action: ActionName,
  subscriptionId: string | undefined,
  render: Renderers
): void => {
  const faults = effectiveFaults(core.faultTable.specs, action, subscriptionId)
  if (faults.throttleKey !== undefined) {
    const window = core.faultTable.window(faults.throttleKey)
    if (window.admit(faults.spec!.throttle!.qps, performance.now()) > 0) {
      const t = render.throttled()
      return reply.json(t.status, t.body, t.code)
    }
  }
  playPlan(drawPlan(faults.spec, core.random), schedule, {
    answered: (label) => core.stats.answered(action, label),
    socket: req.socket,
    malformed: (kind) => malformed(reply, kind, render.answer),
    error: (error) => {
      const e = render.injected(error)
      reply.json(e.status, e.body, e.code)
    },
    answer: () => {
      const a = render.answer()
      reply.json(a.status, a.body, a.code)
    }
  })
}

const malformed = (reply: Reply, kind: MalformedKind, run: () => Rendered): void => {
  switch (kind) {
    case "html-502":
      return reply.send(502, "text/html", HTML_502, "(malformed)")
    case "empty":
      return reply.send(200, "application/json;charset=UTF-8", "", "(malformed)")
    case "truncated-json": {
      // the platform did the work; the reply was cut on the way back
      const text = JSON.stringify(run().body)
      return reply.send(200, "application/json;charset=UTF-8", text.slice(0, Math.floor(text.length / 2)), "(malformed)")
    }
  }
}

/**
 * CEC: `tokenByAkSk` checks the AK/SK pair and issues a Bearer token living `X-Token-Expire` seconds
 * (default 600, at most 3600) on the emulator clock; `queryCallState` needs a live token (401
 * otherwise) and answers retCode 3 for a malformed serial, 1 for an unknown one, else 0 and the call.
 */
const handleCec = (core: HuaweiEmulatorCore, schedule: Schedule, req: IncomingMessage, reply: Reply, path: string, body: Buffer): void => {
  const action: ActionName = path === CEC_TOKEN_PATH ? "cecToken" : "cecQueryCallState"
  reply.action = action
  if (req.method !== "POST") return reply.json(405, { retCode: "405", retMsg: "Method Not Allowed" }, "(405)")
  const fields = readJson(body)
  if (fields === undefined) return reply.json(400, { retCode: "400", retMsg: "The body must be a JSON object." }, "(400)")
  const unauthorized = (retMsg: string) => reply.json(401, { retCode: "401", retMsg }, "(401)")
  const cec = (retCode: string, retMsg: string, extra?: Body): Rendered => ({ status: 200, body: { retCode, retMsg, ...extra }, code: retCode })
  const renderers = (answerWith: () => Rendered): Renderers => ({
    answer: answerWith,
    injected: (e) => ({ status: e.httpStatus ?? (/^\d{3}$/.test(e.code) ? Number(e.code) : 200), body: { retCode: e.code, retMsg: e.message ?? "Injected fault." }, code: e.code }),
    throttled: () => ({ status: 429, body: { retCode: "429", retMsg: "Too Many Requests" }, code: "(429)" })
  })

  if (action === "cecToken") {
    if (fields["app_key"] !== core.options.cecAk || fields["app_secret"] !== core.options.cecSk) return unauthorized("Invalid app_key or app_secret.")
    const raw = headerValue(req, "x-token-expire")
    const seconds = raw === undefined ? DEFAULT_TOKEN_SECONDS : /^\d{1,9}$/.test(raw.trim()) ? Math.min(Number(raw.trim()), MAX_TOKEN_SECONDS) : Number.NaN
    if (!(seconds >= 1)) return reply.json(400, { retCode: "400", retMsg: "X-Token-Expire must be a positive number of seconds." }, "(400)")
    return withFaults(core, schedule, req, reply, action, undefined, renderers(() => {
      const t = core.cec.issue(seconds, core.clock.now())
      return {
        status: 200,
        code: "0",
        body: {
          AccessToken: t.accessToken, ApplyType: "Bearer", CreateTime: String(Math.floor(t.createdAt / 1000)), Expires: String(seconds),
          Scope: "default", AppKey: core.options.cecAk, UserID: "Anonymous"
        }
      }
    }))
  }

  const bearer = /^Bearer (\S+)$/.exec(headerValue(req, "authorization") ?? "")?.[1]
  if (bearer === undefined || core.cec.valid(bearer, core.clock.now()) === undefined) return unauthorized("The access token is missing, invalid or expired.")
  const serial = fields["callSerialNo"]
  withFaults(core, schedule, req, reply, action, undefined, renderers(() => {
    if (typeof serial !== "string" || !CALL_SERIAL_NO.test(serial)) return cec("3", "The callSerialNo is malformed.")
    const call = core.cec.call(serial)
    if (call === undefined) return cec("1", "Query failed: no such call.")
    const { callSerialNo: _s, ...result } = call
    return cec("0", "success", { result: Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined)) })
  }))
}
