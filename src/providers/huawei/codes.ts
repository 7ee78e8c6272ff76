/**
 * Every result code of Huawei's privacy-call APIs (shared/providers/huawei.md §3.4), classified once:
 * first into what it means on Huawei (the `kind`: the provider's words, which the adapter and the
 * evidence gathering read), then into the engine's error class. Nothing else branches on Huawei codes.
 */
import type { ErrorClass } from "../../domain/errors.ts"
import { LocalCodes } from "../../domain/errors.ts"

/**
 * - transient: internal error or timeout on Huawei's side; retry
 * - throttled: platform flow control (1010010); back off
 * - caller-bug: the request itself was wrong (parameter, number format, HTTP method)
 * - config: app key, mode, whitelist or X ownership misconfigured
 * - auth: the signature or its time was refused (or the IP is locked after repeated failures)
 * - account-blocked: arrears, suspended app or frozen subscriber: nothing on Huawei can be dialled (§6 rule 1)
 * - pool: no room for the binding (A already holds 5 X, X taken, no free extension)
 * - binding-gone: the binding (or its X) no longer belongs to this app (§6 rule 2)
 * - x-broken: the X is abnormal or blacklisted (§6 rule 3)
 * - conflict: the binding already exists
 */
export type HuaweiCodeKind =
  | "transient"
  | "throttled"
  | "caller-bug"
  | "config"
  | "auth"
  | "account-blocked"
  | "pool"
  | "binding-gone"
  | "x-broken"
  | "conflict"

const range = (from: number, to: number): Array<string> => Array.from({ length: to - from + 1 }, (_, i) => String(from + i))

const byKind: ReadonlyArray<readonly [HuaweiCodeKind, ReadonlyArray<string>]> = [
  ["transient", ["1010001", "1023001", "1023002"]],
  ["caller-bug", ["1010002", "1010006"]],
  ["config", ["1010003", "1010040", "1011001", "1020166"]],
  ["account-blocked", ["1010007", "1010008", "1010029"]],
  ["throttled", ["1010010"]],
  // 1023006-1023013 Authorization header, 1023026-1023031 X-WSSE, 1023033-1023037 X-AKSK
  ["auth", ["1010013", "1020176", ...range(1023006, 1023013), ...range(1023026, 1023031), ...range(1023033, 1023037)]],
  // 1012008: no free X in the area. Not in §3.4: the emulator's code for it (docs/emulator.md,
  // "Invented"), kept as pool so a pool exhausted on Huawei may move to PRECALL_REBIND_PROVIDERS.
  ["pool", ["1011003", "1011005", "1012008", "1020167"]],
  ["binding-gone", ["1011004", "1012001", "1012007", "1016001"]],
  ["x-broken", ["1012102"]],
  ["conflict", ["1012010", "1016002"]]
]

/** Huawei result code → its kind; every code of §3.4 once. */
export const huaweiCodeKinds: ReadonlyMap<string, HuaweiCodeKind> = new Map(byKind.flatMap(([kind, codes]) => codes.map((c) => [c, kind] as const)))

/**
 * The engine class of each kind. Auth and a blocked account are never retried (re-signing cannot fix
 * a refused key or a clock the platform disagrees with, and arrears do not clear in milliseconds). A
 * broken X on bind means the pool has no usable X for this binding: `pool`, so the engine may try
 * another provider. A conflict means the binding is there already: `binding`, as Aliyun's BIND_CONFLICT.
 */
export const errorClassOfKind: Readonly<Record<HuaweiCodeKind, ErrorClass>> = {
  "transient": "transient",
  "throttled": "throttled",
  "caller-bug": "bad-input",
  "config": "configuration",
  "auth": "configuration",
  "account-blocked": "configuration",
  "pool": "pool",
  "binding-gone": "binding",
  "x-broken": "pool",
  "conflict": "binding"
}

/** Our codes for replies without a usable `resultcode`, by HTTP status (huawei.md §3.4 shows 401 "Invalid digest." without one). */
const localKind = (code: string): HuaweiCodeKind | undefined => {
  if (code === LocalCodes.connection || code === LocalCodes.timeout || code === LocalCodes.malformed) return "transient"
  const m = /^Reply\.HttpStatus(\d{3})$/.exec(code)
  if (m === null) return undefined
  const status = Number(m[1])
  return status >= 500 ? "transient" : status === 429 ? "throttled" : status === 401 ? "auth" : "config"
}

/**
 * The kind of a Huawei code or one of our local codes. An unknown Huawei code is `config`: never
 * retried blindly, and it shows up in alerts.
 */
export const huaweiCodeKind = (code: string): HuaweiCodeKind => huaweiCodeKinds.get(code) ?? localKind(code) ?? "config"

export const classifyHuaweiCode = (code: string): ErrorClass => errorClassOfKind[huaweiCodeKind(code)]
