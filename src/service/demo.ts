/**
 * The zero-credential demo behind `npm start`: the Aliyun and Huawei emulators in-process on free
 * loopback ports. Aliyun (the default provider) is seeded with one binding per provider answer and
 * with ChatApp sender numbers (so a refusal shows its WhatsApp alternative); Huawei (requests say
 * `provider: "huawei"`) with a live binding, an expired one and one whose X a signed `numStatus`
 * push made unavailable, plus one to try a push on. Each comes with a ready-to-paste curl line.
 */
import { Effect, Redacted, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DecideRequestInput } from "../domain/request.ts"
import type { Settings } from "../policy/settings.ts"
import { aliyunEmulatorScoped, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, type RunningAliyunEmulator } from "../emulator/aliyun/index.ts"
import { huaweiEmulatorScoped, type RunningHuaweiEmulator } from "../emulator/huawei/index.ts"
import { isLoopbackEndpoint } from "../policy/endpoint.ts"
import { DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET } from "../providers/huawei/credentials.ts"
import { HUAWEI_EVENTS_PATH } from "./pushes.ts"

export interface DemoCase {
  /** What the emulator answers and what precall should decide. */
  readonly label: string
  readonly request: DecideRequestInput
}

/** The ChatApp sender space of the demo. */
export const DEMO_CUST_SPACE_ID = "demo-space"

/**
 * WhatsApp senders of the demo space: the GREEN one is offered; the better-tiered YELLOW one comes
 * second (quality first), the RED and the FLAGGED ones are never offered.
 */
const seedSenders = (emulator: RunningAliyunEmulator): void => {
  emulator.setChatappNumber(DEMO_CUST_SPACE_ID, "8657100000001", { qualityRating: "GREEN", messagingLimitTier: "TIER_10K", verifiedName: "precall demo" })
  emulator.setChatappNumber(DEMO_CUST_SPACE_ID, "8657100000002", { qualityRating: "YELLOW", messagingLimitTier: "TIER_UNLIMITED" })
  emulator.setChatappNumber(DEMO_CUST_SPACE_ID, "8657100000003", { qualityRating: "RED", messagingLimitTier: "TIER_100K" })
  emulator.setChatappNumber(DEMO_CUST_SPACE_ID, "8657100000004", { status: "FLAGGED", qualityRating: "GREEN", messagingLimitTier: "TIER_100K" })
}

/** Creates the demo bindings. The expired one lives 60 s and the emulator clock is moved past it. */
const seedDemo = (emulator: RunningAliyunEmulator): ReadonlyArray<DemoCase> => {
  const bind = (n: number, ttlSeconds: number) => {
    const phoneNoA = `1380000000${n}`
    const phoneNoB = `1390000000${n}`
    const b = emulator.createBinding({ mode: "AXB", phoneNoA, phoneNoB, ttlSeconds })
    const request = { poolKey: b.poolKey, subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: phoneNoA }
    return { subsId: b.subsId, request, parties: { phoneNoA, phoneNoB, mode: "AXB" as const } }
  }
  const day = 24 * 3600
  const normal = bind(1, day)
  const temporary = bind(2, day)
  emulator.setCallStatus(temporary.subsId, { status: 2 })
  const noTemporary = bind(3, day)
  emulator.setCallStatus(noTemporary.subsId, { status: 3 })
  const expired = bind(4, 60)
  emulator.advanceClock(120)
  const faulty = bind(5, day)
  emulator.setFault(`QueryCallStatus@${faulty.subsId}`, { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] })
  const stranger = bind(6, day)
  emulator.setCallStatus(stranger.subsId, { status: 3 })
  return [
    { label: "status 1, binding normal -> use-x", request: normal.request },
    { label: "status 2, temporary X assigned -> use-temporary-x", request: temporary.request },
    {
      label: "status 3, no temporary X -> fallback-real to the real callee (the demo allows it; off by default), written to the exposure audit first",
      request: noTemporary.request
    },
    { label: "status 4, binding expired -> rebind (the request names the parties)", request: { ...expired.request, binding: expired.parties } },
    { label: "faulty: every QueryCallStatus fails with isp.SYSTEM_ERROR -> retried, then degraded use-x, still HTTP 200", request: faulty.request },
    {
      label: "status 3, and the caller is no party of the AXB binding -> refuse (the real callee is unknown), with a WhatsApp sender as the alternative",
      request: { ...stranger.request, callerNo: "13700000006" }
    }
  ]
}

export interface Demo {
  /** The Aliyun emulator (Dyplsapi and ChatApp). */
  readonly emulator: RunningAliyunEmulator
  /** The Huawei emulator, not seeded yet: its pushes need the service's URL (`seedHuaweiDemo`). */
  readonly huawei: RunningHuaweiEmulator
  /** The Aliyun cases. */
  readonly cases: ReadonlyArray<DemoCase>
}

/**
 * Both emulators for the lifetime of the scope, with the demo keys the adapters use for loopback
 * endpoints (Huawei's from src/providers/huawei/credentials.ts, which its emulator accepts by default).
 */
export const startDemo: Effect.Effect<Demo, never, Scope.Scope> = Effect.gen(function*() {
  const emulator = yield* aliyunEmulatorScoped({ accessKeyId: DEMO_ACCESS_KEY_ID, accessKeySecret: DEMO_ACCESS_KEY_SECRET })
  seedSenders(emulator)
  const cases = seedDemo(emulator)
  const huawei = yield* huaweiEmulatorScoped()
  return { emulator, huawei, cases }
})

/** The X numbers of the Huawei demo bindings (the emulator's demo pool, Shenzhen); rebinds take the first free X in pool order. */
const HUAWEI_X = { normal: "+8617000000000", expired: "+8617000000001", unavailable: "+8617000000002", push: "+8617000000003" } as const

/** The push step of the Huawei demo: a control-API call that makes the emulator push, and the decision it changes. */
export interface HuaweiPushStep {
  readonly label: string
  /** `PUT /_emulator/numbers/{x}/status` on the Huawei emulator. */
  readonly controlUrl: string
  readonly body: { readonly status: "10" }
  /** `POST /_emulator/pushes/settle`: answers once every push try under way has finished. */
  readonly settleUrl: string
  /** Decided before the push: use-x; after it: rebind onto another X. */
  readonly request: DecideRequestInput
}

export interface HuaweiDemo {
  readonly cases: ReadonlyArray<DemoCase>
  /** Undefined when the service has no loopback URL the emulator may push to. */
  readonly push: HuaweiPushStep | undefined
}

const huaweiCase = (emulator: RunningHuaweiEmulator, n: number, x: string, duration: number) => {
  const phoneNoA = `1380000001${n}`
  const phoneNoB = `1390000001${n}`
  const b = emulator.createBinding({ mode: "AXB", callerNum: `+86${phoneNoA}`, calleeNum: `+86${phoneNoB}`, relationNum: x, duration })
  const request: DecideRequestInput = {
    provider: "huawei",
    // Huawei has no number pools: the pool key is only a label there
    poolKey: "huawei",
    subsId: b.subscriptionId,
    phoneNoX: x.slice(3),
    callerNo: phoneNoA,
    binding: { phoneNoA, phoneNoB, mode: "AXB" }
  }
  return request
}

/**
 * Points the Huawei emulator's pushes at the service's own push route and seeds the Huawei cases:
 * use-x on a live AXB binding; rebind once a binding expired (60 s, the emulator clock moved past
 * it); rebind onto another X when a `numStatus` push said the X is unavailable (status 10), the push
 * sent by the emulator, signed with the demo app, and verified by the service like Huawei's. The
 * last binding is left for the reader to push on. Needs the service listening at `serviceUrl`.
 */
export const seedHuaweiDemo = (emulator: RunningHuaweiEmulator, serviceUrl: string): Effect.Effect<HuaweiDemo> =>
  Effect.gen(function*() {
    const day = 24 * 3600
    const pushes = isLoopbackEndpoint(serviceUrl)
    if (pushes) emulator.setCallbackUrl(`${serviceUrl}${HUAWEI_EVENTS_PATH}`)
    const expired = huaweiCase(emulator, 2, HUAWEI_X.expired, 60)
    emulator.advanceClock(120)
    const normal = huaweiCase(emulator, 1, HUAWEI_X.normal, day)
    const cases: Array<DemoCase> = [
      { label: "Huawei: AXB binding in effect (binding query) -> use-x", request: normal },
      { label: "Huawei: binding expired on the emulator clock (binding query: 1012007) -> rebind: a new binding, on the same X while it is healthy", request: expired }
    ]
    if (!pushes) return { cases, push: undefined }
    const unavailable = huaweiCase(emulator, 3, HUAWEI_X.unavailable, day)
    const { pushId } = emulator.setXStatus(HUAWEI_X.unavailable, "10")
    const push = huaweiCase(emulator, 4, HUAWEI_X.push, day)
    yield* Effect.promise(() => emulator.settlePushes())
    const sent = emulator.pushes().find((p) => p.id === pushId)
    if (sent?.state !== "delivered") {
      // the case would then decide use-x: say why rather than show a wrong label
      yield* Effect.logWarning({ msg: "demo: the service did not accept the Huawei emulator's numStatus push", state: sent?.state ?? "unknown", status: sent?.attempts.at(-1)?.status ?? null })
    }
    cases.push({ label: "Huawei: a numStatus push said its X is unavailable (status 10) -> rebind onto another X", request: unavailable })
    return {
      cases,
      push: {
        label: `Huawei push: decide (use-x), make X ${HUAWEI_X.push} unavailable on the emulator (it pushes a signed numStatus to this service; settle waits for it), decide again (rebind onto another X)`,
        controlUrl: `${emulator.url}/_emulator/numbers/${encodeURIComponent(HUAWEI_X.push)}/status`,
        body: { status: "10" },
        settleUrl: `${emulator.url}/_emulator/pushes/settle`,
        request: push
      }
    }
  })

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

/**
 * A curl line for one case. With API keys configured it says `Bearer $PRECALL_API_KEY`: a key is
 * never printed, the reader exports one of theirs.
 */
export const curlLine = (baseUrl: string, request: DecideRequestInput, keysRequired: boolean): string =>
  [
    "curl -sS",
    shellQuote(`${baseUrl}/v1/decisions`),
    "-H 'content-type: application/json'",
    ...(keysRequired ? [`-H "authorization: Bearer $PRECALL_API_KEY"`] : []),
    `-d ${shellQuote(JSON.stringify(request))}`
  ].join(" ")

/**
 * The curl line of the push step's control call, then the emulator's settle call, which answers once
 * the push it sent has been answered, so the next decide line sees it. The emulator's control API is
 * open on loopback: no key.
 */
export const controlCurlLine = (step: HuaweiPushStep): string =>
  [
    "curl -sS -X PUT", shellQuote(step.controlUrl), "-H 'content-type: application/json'", `-d ${shellQuote(JSON.stringify(step.body))}`,
    "&& curl -sS -o /dev/null -X POST", shellQuote(step.settleUrl)
  ].join(" ")

/** The number the demo's fallback-real case puts the caller through to, for the exposure search line. */
export const DEMO_EXPOSED_NUMBER = "13900000003"

/**
 * The demo's settings: Dyplsapi and ChatApp (the demo space) both at the Aliyun emulator, Huawei at
 * its emulator with the demo apps named (so the push route accepts the pushes they sign), real-number
 * fallback allowed (so one case shows an audited fallback-real), and the exposure audit in a file of this run under the temp folder, removed when
 * the demo stops, with a hash secret of this run. PRECALL_AUDIT_FILE, PRECALL_AUDIT_DATABASE_URL and
 * PRECALL_AUDIT_HASH_SECRET, when set, are used instead.
 */
export const demoSettings = (
  settings: Settings,
  env: Readonly<Record<string, string | undefined>>,
  demo: Pick<Demo, "emulator" | "huawei">
): Effect.Effect<Settings, never, Scope.Scope> =>
  Effect.gen(function*() {
    const given = (name: string) => (env[name]?.trim() ?? "") !== ""
    const auditFile = given("PRECALL_AUDIT_FILE")
      ? settings.auditFile
      : yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "precall-demo-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      ).pipe(Effect.map((dir) => join(dir, "exposures.jsonl")))
    return {
      ...settings,
      aliyunEndpoint: demo.emulator.url,
      chatappEndpoint: demo.emulator.url,
      huaweiEndpoint: demo.huawei.url,
      huaweiAppKey: DEMO_APP_KEY,
      huaweiAppSecret: Redacted.make(DEMO_APP_SECRET),
      huaweiAxAppKey: DEMO_AX_APP_KEY,
      huaweiAxAppSecret: Redacted.make(DEMO_AX_APP_SECRET),
      chatappCustSpaceId: DEMO_CUST_SPACE_ID,
      allowRealFallback: true,
      auditFile,
      auditHashSecret: settings.auditHashSecret ?? Redacted.make(randomBytes(32).toString("hex"))
    }
  })

/** A curl line for the exposure search (open in the demo; with admin keys it says `Bearer $PRECALL_ADMIN_KEY`). */
export const exposuresCurlLine = (baseUrl: string, query: string, keysRequired: boolean): string =>
  ["curl -sS", shellQuote(`${baseUrl}/v1/exposures?${query}`), ...(keysRequired ? [`-H "authorization: Bearer $PRECALL_ADMIN_KEY"`] : [])].join(" ")
