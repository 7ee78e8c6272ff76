/**
 * The control API every provider emulator serves under `/_emulator/`: JSON in, JSON out, unsigned,
 * routed by a table of `METHOD pattern` entries whose `:name` segments become parameters. Each
 * emulator brings its routes; the guard, the routing and the error replies live here once.
 */
import { timingSafeEqual } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { isLoopbackHost } from "../policy/endpoint.ts"
import { EmulatorControlError } from "./errors.ts"

export const CONTROL_PREFIX = "/_emulator"

/** Whether a request URL belongs to the control API. */
export const isControlUrl = (url: string): boolean => url === CONTROL_PREFIX || url.startsWith(`${CONTROL_PREFIX}/`) || url.startsWith(`${CONTROL_PREFIX}?`)

export const sendJson = (res: ServerResponse, status: number, value: unknown): void => {
  const text = JSON.stringify(value)
  res.writeHead(status, { "content-type": "application/json;charset=utf-8", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

export const badRequest = (message: string): EmulatorControlError => new EmulatorControlError(400, "InvalidRequest", message)

/** The JSON body, or undefined when there is none. */
export const parseJson = (body: Buffer): unknown => {
  if (body.length === 0) return undefined
  try {
    return JSON.parse(body.toString("utf8"))
  } catch {
    throw badRequest("body is not valid JSON")
  }
}

export const asObject = (u: unknown): Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) throw badRequest("body must be a JSON object")
  return u as Record<string, unknown>
}

export type ControlAnswer = readonly [number, unknown]
/** `[method, pattern, handler]`: the pattern is relative to `/_emulator/`, `:name` segments match anything. */
export type ControlRoute<Core> = readonly [string, string, (core: Core, params: ReadonlyArray<string>, body: Buffer) => ControlAnswer | Promise<ControlAnswer>]

/** `GET /_emulator`: the route table, for people exploring the emulator with curl. */
export const routeList = <Core>(routes: ReadonlyArray<ControlRoute<Core>>): ControlAnswer =>
  [200, { routes: routes.map(([m, pattern]) => `${m} ${CONTROL_PREFIX}/${pattern}`) }]

/** What every emulator core offers the routes all emulators share. */
export interface CommonControls {
  readonly faultTable: { readonly specs: ReadonlyMap<string, unknown> }
  stateView(): unknown
  reset(): void
  clockView(): unknown
  advanceClock(seconds: number): unknown
  setFault(action: string, spec: unknown): unknown
  clearFaults(action?: string): void
}

/** The routes every emulator serves the same way: health, state and reset, the clock and the faults. */
export const commonRoutes = <Core extends CommonControls>(): ReadonlyArray<ControlRoute<Core>> => [
  ["GET", "health", () => [200, { ok: true }]],
  ["GET", "state", (core) => [200, core.stateView()]],
  ["POST", "reset", (core) => (core.reset(), [200, core.stateView()])],
  ["GET", "clock", (core) => [200, core.clockView()]],
  ["POST", "clock/advance", (core, _, body) => [200, core.advanceClock(Number(asObject(parseJson(body))["seconds"]))]],
  ["GET", "faults", (core) => [200, Object.fromEntries(core.faultTable.specs)]],
  ["PUT", "faults/:action", (core, [action], body) => [200, { action, fault: core.setFault(action!, parseJson(body)) }]],
  ["DELETE", "faults", (core) => (core.clearFaults(), [200, {}])],
  ["DELETE", "faults/:action", (core, [action]) => (core.clearFaults(action), [200, {}])]
]

const match = (pattern: string, segments: ReadonlyArray<string>): ReadonlyArray<string> | undefined => {
  const parts = pattern === "" ? [] : pattern.split("/")
  if (parts.length !== segments.length) return undefined
  const params: Array<string> = []
  for (const [i, part] of parts.entries()) {
    if (part.startsWith(":")) params.push(segments[i]!)
    else if (part !== segments[i]) return undefined
  }
  return params
}

const sendError = (res: ServerResponse, e: unknown): void => {
  if (!(e instanceof EmulatorControlError)) throw e
  sendJson(res, e.status, { error: e.code, message: e.message })
}

/**
 * Answers one control request: the guard, then the first route matching method and path. An
 * EmulatorControlError becomes `{error, message}` at its status; anything else is rethrown for the
 * server's internal-error reply.
 */
export const handleControl = <Core>(
  routes: ReadonlyArray<ControlRoute<Core>>,
  core: Core,
  controlToken: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer
): Promise<void> | void => {
  const denied = controlDenied(controlToken, req, body)
  if (denied !== undefined) return sendJson(res, denied.status, { error: denied.code, message: denied.message })
  const path = (req.url ?? "").split("?")[0]!.slice(CONTROL_PREFIX.length)
  let segments: Array<string>
  try {
    segments = path.split("/").filter((s) => s !== "").map(decodeURIComponent)
  } catch {
    return sendJson(res, 400, { error: "InvalidRequest", message: "malformed percent-encoding in the path" })
  }
  try {
    for (const [m, pattern, handler] of routes) {
      const params = m === req.method ? match(pattern, segments) : undefined
      if (params === undefined) continue
      const answer = handler(core, params, body)
      if (!(answer instanceof Promise)) return sendJson(res, answer[0], answer[1])
      return answer.then(([status, value]) => sendJson(res, status, value), (e: unknown) => sendError(res, e))
    }
    throw new EmulatorControlError(404, "UnknownRoute", `no control route ${req.method ?? ""} ${CONTROL_PREFIX}/${segments.join("/")}; see GET ${CONTROL_PREFIX}`)
  } catch (e) {
    sendError(res, e)
  }
}

/*
 * Who may drive an emulator: requests whose Host is a loopback address (a page on another site, or a
 * DNS-rebound name, sends its own Host), with a JSON body when they send one (a browser form cannot
 * send application/json without a CORS preflight, which nothing here answers), and with the control
 * token when one is configured.
 */

interface ControlRefusal {
  readonly status: number
  readonly code: string
  readonly message: string
}

/** `127.0.0.0/8`, `localhost` or `[::1]`, with an optional port: what a Host header on loopback says. */
const isLoopbackHostHeader = (host: string | undefined): boolean => {
  if (host === undefined) return false
  try {
    return isLoopbackHost(new URL(`http://${host}`).hostname)
  } catch {
    return false
  }
}

/** Undefined when the request may drive the emulator, else what to answer. */
const controlDenied = (controlToken: string | undefined, req: IncomingMessage, body: Buffer): ControlRefusal | undefined => {
  if (!isLoopbackHostHeader(req.headers.host)) return { status: 403, code: "Forbidden", message: "the control API answers loopback Host headers only" }
  if (controlToken !== undefined) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? ""
    const a = Buffer.from(given)
    const b = Buffer.from(controlToken)
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { status: 401, code: "Unauthorized", message: "the control API needs authorization: Bearer <control token>" }
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
  if (body.length > 0 && type !== "application/json") return { status: 415, code: "UnsupportedMediaType", message: "control API bodies are application/json" }
  return undefined
}
