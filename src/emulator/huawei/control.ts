/**
 * The Huawei emulator's control routes under `/_emulator/` (served by src/emulator/controlApi.ts:
 * loopback Host, JSON bodies, optional token). They drive the same operations as the programmatic
 * API, for tests, benchmarks and the demo running the emulator in another process.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { EmulatorControlError } from "../errors.ts"
import { asObject, badRequest, commonRoutes, handleControl, parseJson, routeList } from "../controlApi.ts"
import type { ControlRoute } from "../controlApi.ts"
import { CALL_EVENT_TYPES } from "./calls.ts"
import type { CallEventType, CallScript } from "./calls.ts"
import type { CecCallScript } from "./cec.ts"
import type { AccountState, CreateBindingInput, HuaweiEmulatorCore } from "./emulator.ts"
import type { XStatus } from "./state.ts"

const optional = <A>(o: Record<string, unknown>, key: string, is: (v: unknown) => v is A, what: string): A | undefined => {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (!is(v)) throw badRequest(`${key} must be ${what}`)
  return v
}

const isString = (v: unknown): v is string => typeof v === "string"
const isInt = (v: unknown): v is number => Number.isInteger(v)
const isSeconds = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean"
const isEvents = (v: unknown): v is ReadonlyArray<CallEventType> => Array.isArray(v) && v.every((e) => (CALL_EVENT_TYPES as ReadonlyArray<unknown>).includes(e))

const parseCall = (u: unknown): CallScript => {
  const o = asObject(u)
  return {
    subscriptionId: optional(o, "subscriptionId", isString, "a string"),
    relationNum: optional(o, "relationNum", isString, "a string"),
    callerNum: optional(o, "callerNum", isString, "a string"),
    stateCode: optional(o, "stateCode", isInt, "an integer"),
    fwdUnaswRsn: optional(o, "fwdUnaswRsn", isInt, "an integer"),
    talkSeconds: optional(o, "talkSeconds", isSeconds, "a number >= 0"),
    ringSeconds: optional(o, "ringSeconds", isSeconds, "a number >= 0"),
    events: optional(o, "events", isEvents, `an array of ${CALL_EVENT_TYPES.join(", ")}`),
    fee: optional(o, "fee", isBoolean, "true or false")
  }
}

const parseCecCall = (u: unknown): CecCallScript => {
  const o = asObject(u)
  const state = o["state"]
  if (state !== 0 && state !== 1 && state !== 2 && state !== 3) throw badRequest("state must be 0, 1, 2 or 3")
  return {
    state,
    reasonCode: optional(o, "reasonCode", isInt, "an integer"),
    caller: optional(o, "caller", isString, "a string"),
    called: optional(o, "called", isString, "a string"),
    callData: optional(o, "callData", isString, "a string"),
    callerPresent: optional(o, "callerPresent", isString, "a string"),
    agentPresent: optional(o, "agentPresent", isString, "a string"),
    startTime: optional(o, "startTime", isInt, "epoch milliseconds"),
    endTime: optional(o, "endTime", isInt, "epoch milliseconds")
  }
}

const ROUTES: ReadonlyArray<ControlRoute<HuaweiEmulatorCore>> = [
  ["GET", "", () => routeList(ROUTES)],
  ...commonRoutes<HuaweiEmulatorCore>(),
  ["POST", "bindings", (core, _, body) => [201, core.createBinding(asObject(parseJson(body)) as CreateBindingInput)]],
  ["GET", "bindings/:subscriptionId", (core, [id]) => [200, core.binding(id!)]],
  ["DELETE", "bindings/:subscriptionId", (core, [id]) => [200, core.unbind(id!)]],
  ["PUT", "numbers/:x/status", (core, [x], body) => {
    const o = asObject(parseJson(body))
    return [200, core.setXStatus(x!, String(o["status"]) as XStatus, optional(o, "cause", isString, "a string"))]
  }],
  ["PUT", "numbers/:x/blacklist", (core, [x], body) => {
    const blacklisted = asObject(parseJson(body))["blacklisted"]
    if (typeof blacklisted !== "boolean") throw badRequest("blacklisted must be true or false")
    return [200, core.setXBlacklisted(x!, blacklisted)]
  }],
  ["GET", "account", (core) => [200, { account: core.account }]],
  ["PUT", "account", (core, _, body) => [200, core.setAccountState(asObject(parseJson(body))["state"] as AccountState)]],
  ["POST", "calls", (core, _, body) => [201, core.endCall(parseCall(parseJson(body)))]],
  ["GET", "pushes", (core) => [200, { pushes: core.pushes(), stats: core.outbox.stats() }]],
  ["POST", "pushes/settle", async (core) => (await core.outbox.settle(), [200, { pushes: core.pushes(), stats: core.outbox.stats() }])],
  ["PUT", "cec/calls/:callSerialNo", (core, [serial], body) => [200, core.setCecCall(serial!, parseCecCall(parseJson(body)))]],
  ["GET", "cec/calls/:callSerialNo", (core, [serial]) => {
    const call = core.cec.call(serial!)
    if (call === undefined) throw new EmulatorControlError(404, "UnknownCall", `no CEC call ${serial}`)
    return [200, call]
  }],
  ["GET", "stats", (core) => [200, core.statsView()]],
  ["POST", "stats/reset", (core) => (core.stats.reset(), [200, core.statsView()])]
]

export const handleControlRequest = (core: HuaweiEmulatorCore, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> | void =>
  handleControl(ROUTES, core, core.options.controlToken, req, res, body)
