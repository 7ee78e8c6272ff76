/**
 * The control API under `/_emulator/`: JSON in, JSON out, unsigned. It drives the same operations as
 * the programmatic API, for tests and benchmarks that run the emulator in another process.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { controlDenied } from "../controlGuard.ts"
import { EmulatorControlError } from "./emulator.ts"
import type { CallStatusOverride, CreateBindingInput, EmulatorCore } from "./emulator.ts"

export const CONTROL_PREFIX = "/_emulator"

const sendJson = (res: ServerResponse, status: number, value: unknown): void => {
  const text = JSON.stringify(value)
  res.writeHead(status, { "content-type": "application/json;charset=utf-8", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

const badRequest = (message: string) => new EmulatorControlError(400, "InvalidRequest", message)

const parseJson = (body: Buffer): unknown => {
  if (body.length === 0) return undefined
  try {
    return JSON.parse(body.toString("utf8"))
  } catch {
    throw badRequest("body is not valid JSON")
  }
}

const asObject = (u: unknown): Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) throw badRequest("body must be a JSON object")
  return u as Record<string, unknown>
}

const optionalString = (o: Record<string, unknown>, key: string): string | undefined => {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== "string") throw badRequest(`${key} must be a string`)
  return v
}

const parseCreateBinding = (u: unknown): CreateBindingInput => {
  const o = asObject(u)
  const mode = o["mode"]
  if (mode !== "AXB" && mode !== "AXN" && mode !== "AXN_EXTENSION") throw badRequest('mode must be "AXB", "AXN" or "AXN_EXTENSION"')
  const phoneNoA = optionalString(o, "phoneNoA")
  if (phoneNoA === undefined) throw badRequest("phoneNoA is required")
  const ttlSeconds = o["ttlSeconds"]
  if (typeof ttlSeconds !== "number" || !(ttlSeconds > 0)) throw badRequest("ttlSeconds must be a positive number")
  return {
    mode,
    poolKey: optionalString(o, "poolKey"),
    phoneNoA,
    phoneNoB: optionalString(o, "phoneNoB"),
    phoneNoX: optionalString(o, "phoneNoX"),
    extension: optionalString(o, "extension"),
    ttlSeconds
  }
}

const parseCallStatus = (u: unknown): CallStatusOverride => {
  const o = asObject(u)
  const status = o["status"]
  if (status === null || status === 3) return { status }
  if (status === 2) return { status, temporaryX: optionalString(o, "temporaryX") }
  throw badRequest("status must be 2, 3 or null")
}

const parseServed = (u: unknown): boolean => {
  const served = asObject(u)["served"]
  if (typeof served !== "boolean") throw badRequest("served must be true or false")
  return served
}

const parseSecretStatus = (u: unknown): 2 | 3 | null => {
  const status = asObject(u)["status"]
  if (status === 2 || status === 3 || status === null) return status
  throw badRequest("status must be 2 (locked), 3 (frozen) or null (usable)")
}

type Handler = (core: EmulatorCore, params: ReadonlyArray<string>, body: Buffer) => readonly [number, unknown]

/** `:name` segments match anything and are handed to the handler in order. */
const ROUTES: ReadonlyArray<readonly [string, string, Handler]> = [
  ["GET", "", () => [200, { routes: ROUTES.map(([m, pattern]) => `${m} ${CONTROL_PREFIX}/${pattern}`) }]],
  ["GET", "health", () => [200, { ok: true }]],
  ["GET", "state", (core) => [200, core.stateView()]],
  ["POST", "reset", (core) => (core.reset(), [200, core.stateView()])],
  ["GET", "clock", (core) => [200, core.clockView()]],
  ["POST", "clock/advance", (core, _, body) => [200, core.advanceClock(Number(asObject(parseJson(body))["seconds"]))]],
  ["GET", "faults", (core) => [200, Object.fromEntries(core.faults)]],
  ["PUT", "faults/:action", (core, [action], body) => [200, { action, fault: core.setFault(action!, parseJson(body)) }]],
  ["DELETE", "faults", (core) => (core.clearFaults(), [200, {}])],
  ["DELETE", "faults/:action", (core, [action]) => (core.clearFaults(action), [200, {}])],
  ["POST", "bindings", (core, _, body) => [201, core.createBinding(parseCreateBinding(parseJson(body)))]],
  ["GET", "bindings/:subsId", (core, [subsId]) => [200, core.binding(subsId!)]],
  [
    "PUT",
    "bindings/:subsId/call-status",
    (core, [subsId], body) => [200, { subsId, callFault: core.setCallStatus(subsId!, parseCallStatus(parseJson(body))) ?? null }]
  ],
  ["PUT", "actions/:action", (core, [action], body) => [200, core.setServed(action!, parseServed(parseJson(body)))]],
  ["PUT", "numbers/:secretNo/secret-status", (core, [secretNo], body) => [200, core.setSecretStatus(secretNo!, parseSecretStatus(parseJson(body)))]],
  ["GET", "stats", (core) => [200, core.statsView()]],
  ["POST", "stats/reset", (core) => (core.stats.reset(), [200, core.statsView()])]
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

const route = (core: EmulatorCore, method: string, segments: ReadonlyArray<string>, body: Buffer): readonly [number, unknown] => {
  for (const [m, pattern, handler] of ROUTES) {
    const params = m === method ? match(pattern, segments) : undefined
    if (params !== undefined) return handler(core, params, body)
  }
  throw new EmulatorControlError(404, "UnknownRoute", `no control route ${method} ${CONTROL_PREFIX}/${segments.join("/")}; see GET ${CONTROL_PREFIX}`)
}

export const handleControlRequest = (core: EmulatorCore, req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
  const denied = controlDenied(core.options.controlToken, req, body)
  if (denied !== undefined) return sendJson(res, denied.status, { error: denied.code, message: denied.message })
  const path = (req.url ?? "").split("?")[0]!.slice(CONTROL_PREFIX.length)
  let segments: Array<string>
  try {
    segments = path.split("/").filter((s) => s !== "").map(decodeURIComponent)
  } catch {
    return sendJson(res, 400, { error: "InvalidRequest", message: "malformed percent-encoding in the path" })
  }
  try {
    const [status, value] = route(core, req.method ?? "", segments, body)
    sendJson(res, status, value)
  } catch (e) {
    if (e instanceof EmulatorControlError) return sendJson(res, e.status, { error: e.code, message: e.message })
    throw e
  }
}
