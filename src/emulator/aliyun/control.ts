/**
 * The Aliyun emulator's control routes under `/_emulator/` (served by src/emulator/controlApi.ts). They
 * drive the same operations as the programmatic API, for tests and benchmarks that run the emulator
 * in another process.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { asObject, badRequest, commonRoutes, handleControl, parseJson, routeList } from "../controlApi.ts"
import type { ControlRoute } from "../controlApi.ts"
import { CHATAPP_QUALITY_RATINGS, CHATAPP_STATUSES, CHATAPP_TIERS, type ChatappNumberPatch } from "./cams.ts"
import type { CallStatusOverride, CreateBindingInput, EmulatorCore } from "./emulator.ts"

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

const oneOf = <A extends string>(o: Record<string, unknown>, key: string, values: ReadonlyArray<A>): A | undefined => {
  const v = optionalString(o, key)
  if (v === undefined) return undefined
  if (!values.includes(v as A)) throw badRequest(`${key} must be one of ${values.join(", ")}`)
  return v as A
}

const parseChatappNumber = (u: unknown): ChatappNumberPatch => {
  const o = u === undefined ? {} : asObject(u)
  const patch = {
    status: oneOf(o, "status", CHATAPP_STATUSES),
    qualityRating: oneOf(o, "qualityRating", CHATAPP_QUALITY_RATINGS),
    messagingLimitTier: oneOf(o, "messagingLimitTier", CHATAPP_TIERS),
    verifiedName: optionalString(o, "verifiedName")
  }
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
}

const ROUTES: ReadonlyArray<ControlRoute<EmulatorCore>> = [
  ["GET", "", () => routeList(ROUTES)],
  ...commonRoutes<EmulatorCore>(),
  ["POST", "bindings", (core, _, body) => [201, core.createBinding(parseCreateBinding(parseJson(body)))]],
  ["GET", "bindings/:subsId", (core, [subsId]) => [200, core.binding(subsId!)]],
  [
    "PUT",
    "bindings/:subsId/call-status",
    (core, [subsId], body) => [200, { subsId, callFault: core.setCallStatus(subsId!, parseCallStatus(parseJson(body))) ?? null }]
  ],
  ["PUT", "actions/:action", (core, [action], body) => [200, core.setServed(action!, parseServed(parseJson(body)))]],
  ["PUT", "numbers/:secretNo/secret-status", (core, [secretNo], body) => [200, core.setSecretStatus(secretNo!, parseSecretStatus(parseJson(body)))]],
  ["GET", "chatapp/:custSpaceId/numbers", (core, [space]) => [200, core.chatappNumbers(space!)]],
  ["PUT", "chatapp/:custSpaceId/numbers/:phoneNumber", (core, [space, phone], body) => [200, core.setChatappNumber(space!, phone!, parseChatappNumber(parseJson(body)))]],
  ["DELETE", "chatapp/:custSpaceId/numbers/:phoneNumber", (core, [space, phone]) => (core.removeChatappNumber(space!, phone!), [200, {}])],
  ["GET", "stats", (core) => [200, core.statsView()]],
  ["POST", "stats/reset", (core) => (core.stats.reset(), [200, core.statsView()])]
]

export const handleControlRequest = (core: EmulatorCore, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> | void =>
  handleControl(ROUTES, core, core.options.controlToken, req, res, body)
