/** Options of the Huawei emulator, their defaults and the demo apps, keys and X pool. */
import { isLoopbackEndpoint } from "../../policy/endpoint.ts"
import { ALL_ACTIONS, parseFaultSpec } from "../faults.ts"
import type { FaultSpec } from "../faults.ts"
import {
  DEMO_APP_KEY as DEMO_AXB_APP_KEY, DEMO_APP_SECRET as DEMO_AXB_APP_SECRET, DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET, DEMO_CEC_AK, DEMO_CEC_SK
} from "../../providers/huawei/credentials.ts"
import type { HuaweiAuth } from "../../providers/huawei/signature.ts"

/** Port of the Huawei emulator under `precall emulator`, next to Aliyun's 8931. */
export const DEFAULT_HUAWEI_EMULATOR_PORT = 8932

/** The privacy-call modes the emulator serves: an app belongs to one of them (huawei.md §1). */
export type HuaweiMode = "AXB" | "AX"

export interface HuaweiAppConfig {
  readonly appKey: string
  readonly appSecret: string
  readonly mode: HuaweiMode
  /** How requests from this app and pushes to it are signed. Default `aksk`. */
  readonly auth?: HuaweiAuth | undefined
}

/** One X number of the pool: E.164 with `+86`, its city's area code, and the app that owns it. */
export interface PoolNumberConfig {
  readonly number: string
  /** City code with its leading 0, e.g. `0755`. */
  readonly areaCode: string
  /** Province for `areaMatchMode` 1; default from the built-in table of area codes, else the area code itself. */
  readonly province?: string | undefined
  /** Default: the first AXB app. */
  readonly appKey?: string | undefined
}

/** The demo keys: the adapter's credentials module owns them, so the two sides cannot disagree. */
export { DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET, DEMO_AXB_APP_KEY, DEMO_AXB_APP_SECRET, DEMO_CEC_AK, DEMO_CEC_SK }

export const DEMO_APPS: ReadonlyArray<HuaweiAppConfig> = [
  { appKey: DEMO_AXB_APP_KEY, appSecret: DEMO_AXB_APP_SECRET, mode: "AXB", auth: "aksk" },
  { appKey: DEMO_AX_APP_KEY, appSecret: DEMO_AX_APP_SECRET, mode: "AX", auth: "aksk" }
]

const numbersOf = (first: number, count: number, areaCode: string, appKey: string): ReadonlyArray<PoolNumberConfig> =>
  Array.from({ length: count }, (_, i) => ({ number: `+86${first + i}`, areaCode, appKey }))

/**
 * 16 X for the AXB app (Shenzhen 0755 ×5, Guangzhou 020 ×3, Beijing 010 ×5, Hangzhou 0571 ×3) and
 * 6 for the AX app (Shenzhen ×3, Beijing ×3): two Guangdong cities, so `areaMatchMode` 1 has a
 * same-province fallback to find.
 */
export const DEMO_X_POOL: ReadonlyArray<PoolNumberConfig> = [
  ...numbersOf(17000000000, 5, "0755", DEMO_AXB_APP_KEY),
  ...numbersOf(17000000010, 3, "020", DEMO_AXB_APP_KEY),
  ...numbersOf(17000000020, 5, "010", DEMO_AXB_APP_KEY),
  ...numbersOf(17000000030, 3, "0571", DEMO_AXB_APP_KEY),
  ...numbersOf(17000000100, 3, "0755", DEMO_AX_APP_KEY),
  ...numbersOf(17000000120, 3, "010", DEMO_AX_APP_KEY)
]

/** Province of common city codes, for `areaMatchMode` 1 (same province, then any). */
export const AREA_PROVINCES: Readonly<Record<string, string>> = {
  "010": "Beijing", "021": "Shanghai", "022": "Tianjin", "023": "Chongqing",
  "020": "Guangdong", "0755": "Guangdong", "0757": "Guangdong", "0769": "Guangdong", "0756": "Guangdong",
  "0571": "Zhejiang", "0574": "Zhejiang", "0577": "Zhejiang",
  "025": "Jiangsu", "0512": "Jiangsu", "0510": "Jiangsu",
  "027": "Hubei", "028": "Sichuan", "029": "Shaanxi", "024": "Liaoning", "0411": "Liaoning"
}

export interface HuaweiEmulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number | undefined
  /** Default 127.0.0.1: the control API is unsigned, so the emulator stays on loopback unless told. */
  readonly host?: string | undefined
  /** Privacy-call apps; default the demo AXB and AX apps (both `aksk`). */
  readonly apps?: ReadonlyArray<HuaweiAppConfig> | undefined
  /** The X numbers; default DEMO_X_POOL. */
  readonly pool?: ReadonlyArray<PoolNumberConfig> | undefined
  /** The CEC key pair `tokenByAkSk` accepts. Default demoCecAk0001 / demoCecSk0001. */
  readonly cecAk?: string | undefined
  readonly cecSk?: string | undefined
  /** false skips the signature, skew and nonce checks (benchmark floor mode); requests then act for the URI's first app. Default true. */
  readonly verifySignatures?: boolean | undefined
  /** Allowed distance of `Created` from the wall clock, and how long nonces are remembered. Default 300. */
  readonly clockSkewSeconds?: number | undefined
  /** Where pushes go (numStatus, call events, CDRs); loopback URLs only. Default: no pushes are sent. */
  readonly callbackUrl?: string | undefined
  /** Signs every push with this scheme instead of the app's own (huawei.md §2: some pages show WSSE for pushes). */
  readonly pushAuth?: HuaweiAuth | undefined
  /** A push attempt without an answer in this many real milliseconds counts as failed. Default 5000. */
  readonly pushTimeoutMs?: number | undefined
  /** Faults at start, by action or `*`. */
  readonly faults?: Readonly<Record<string, FaultSpec>> | undefined
  /** PRNG seed for fault draws. Default 1. */
  readonly seed?: number | undefined
  /** Hard cap on remembered nonces. Default 1,000,000. */
  readonly maxNonces?: number | undefined
  /** When set, every control API request must carry `authorization: Bearer <token>`. */
  readonly controlToken?: string | undefined
}

export interface ResolvedApp {
  readonly appKey: string
  readonly appSecret: string
  readonly mode: HuaweiMode
  readonly auth: HuaweiAuth
}

export interface ResolvedPoolNumber {
  readonly number: string
  readonly areaCode: string
  readonly province: string
  readonly appKey: string
}

export interface ResolvedOptions {
  readonly port: number
  readonly host: string
  readonly apps: ReadonlyArray<ResolvedApp>
  readonly pool: ReadonlyArray<ResolvedPoolNumber>
  readonly cecAk: string
  readonly cecSk: string
  readonly verifySignatures: boolean
  readonly clockSkewMs: number
  readonly callbackUrl: string | undefined
  readonly pushAuth: HuaweiAuth | undefined
  readonly pushTimeoutMs: number
  readonly faults: ReadonlyMap<string, FaultSpec>
  readonly seed: number
  readonly maxNonces: number
  readonly controlToken: string | undefined
}

/** What the emulator counts requests and faults under: one name per API and method. */
export const ACTION_NAMES = [
  "axbBind", "axbModify", "axbQuery", "axbUnbind",
  "axBind", "axModify", "axQuery", "axUnbind", "axCallee",
  "cecToken", "cecQueryCallState"
] as const
export type ActionName = (typeof ACTION_NAMES)[number]

/**
 * `+86` then a mobile (1[3-9] + 9 digits) or a fixed line: the area code without its 0 (10, 2x, or
 * three digits from 3) and a 7-8 digit local number, e.g. `+8675528000001`, `+861062345678`.
 */
export const E164_CN = /^\+86(?:1[3-9]\d{9}|(?:10|2\d|[3-9]\d{2})\d{7,8})$/
const AREA_CODE = /^0\d{2,3}$/

/** Faults are keyed by an action, `*`, or `<action>@<subscriptionId>`; a typo would otherwise inject nothing. */
export const faultTargetError = (target: string): string | undefined => {
  const [action = "", subscriptionId] = target.split("@", 2)
  if (subscriptionId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(subscriptionId)) return `invalid subscriptionId in fault target ${JSON.stringify(target)}`
  return action === ALL_ACTIONS || (ACTION_NAMES as ReadonlyArray<string>).includes(action)
    ? undefined
    : `unknown action ${JSON.stringify(action)}; expected one of ${[ALL_ACTIONS, ...ACTION_NAMES].join(", ")}, optionally followed by @<subscriptionId>`
}

/** Throws on a bad start configuration: it should fail loudly, once, naming what is wrong. */
export const resolveOptions = (o: HuaweiEmulatorOptions = {}): ResolvedOptions => {
  const apps = (o.apps ?? DEMO_APPS).map((a): ResolvedApp => ({ appKey: a.appKey, appSecret: a.appSecret, mode: a.mode, auth: a.auth ?? "aksk" }))
  if (apps.length === 0) throw new Error("huawei emulator apps: at least one app")
  const keys = new Set<string>()
  for (const a of apps) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(a.appKey) || a.appSecret === "") throw new Error(`huawei emulator apps: ${JSON.stringify(a.appKey)} needs a 1-64 character key and a secret`)
    if (a.mode !== "AXB" && a.mode !== "AX") throw new Error(`huawei emulator apps: ${a.appKey} mode must be AXB or AX`)
    if (a.auth !== "aksk" && a.auth !== "wsse") throw new Error(`huawei emulator apps: ${a.appKey} auth must be aksk or wsse`)
    if (keys.has(a.appKey)) throw new Error(`huawei emulator apps: ${a.appKey} appears twice`)
    keys.add(a.appKey)
  }
  const firstAxb = apps.find((a) => a.mode === "AXB") ?? apps[0]!
  const firstAx = apps.find((a) => a.mode === "AX") ?? firstAxb
  // Apps without a pool get the demo numbers, each going to the first app of its demo app's mode.
  const demoPool = DEMO_X_POOL.map((n) => ({ ...n, appKey: n.appKey === DEMO_AX_APP_KEY ? firstAx.appKey : firstAxb.appKey }))
  const seen = new Set<string>()
  const pool = (o.pool ?? demoPool).map((n): ResolvedPoolNumber => {
    if (!E164_CN.test(n.number)) throw new Error(`huawei emulator pool: ${JSON.stringify(n.number)} is not +86 E.164`)
    if (!AREA_CODE.test(n.areaCode)) throw new Error(`huawei emulator pool: area code ${JSON.stringify(n.areaCode)} of ${n.number} is not 0 and 2-3 digits`)
    if (seen.has(n.number)) throw new Error(`huawei emulator pool: ${n.number} appears twice`)
    seen.add(n.number)
    const appKey = n.appKey ?? firstAxb.appKey
    if (!keys.has(appKey)) throw new Error(`huawei emulator pool: ${n.number} names unknown app ${appKey}`)
    return { number: n.number, areaCode: n.areaCode, province: n.province ?? AREA_PROVINCES[n.areaCode] ?? n.areaCode, appKey }
  })
  if (o.callbackUrl !== undefined && !isLoopbackEndpoint(o.callbackUrl)) throw new Error("huawei emulator callbackUrl: loopback http(s) URLs only (127.0.0.0/8, localhost, [::1])")
  const skew = o.clockSkewSeconds ?? 300
  if (!(Number.isFinite(skew) && skew >= 0)) throw new Error("huawei emulator clockSkewSeconds: a number >= 0")
  const faults = new Map<string, FaultSpec>()
  for (const [action, spec] of Object.entries(o.faults ?? {})) {
    const known = faultTargetError(action)
    if (known !== undefined) throw new Error(`huawei emulator faults: ${known}`)
    const parsed = parseFaultSpec(spec)
    if (!parsed.ok) throw new Error(`huawei emulator faults for ${action}: ${parsed.message}`)
    faults.set(action, parsed.spec)
  }
  return {
    port: o.port ?? 0,
    host: o.host ?? "127.0.0.1",
    apps,
    pool,
    cecAk: o.cecAk ?? DEMO_CEC_AK,
    cecSk: o.cecSk ?? DEMO_CEC_SK,
    verifySignatures: o.verifySignatures ?? true,
    clockSkewMs: skew * 1000,
    callbackUrl: o.callbackUrl,
    pushAuth: o.pushAuth,
    pushTimeoutMs: o.pushTimeoutMs ?? 5000,
    faults,
    seed: o.seed ?? 1,
    maxNonces: o.maxNonces ?? 1_000_000,
    controlToken: o.controlToken === undefined || o.controlToken === "" ? undefined : o.controlToken
  }
}
