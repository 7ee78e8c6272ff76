/** The precall configuration every benchmarked decision runs with. */
import type { SettingsInput } from "../src/index.ts"

/**
 * What makes every precall decision a live provider call, as the floor's and pop-core's requests
 * are: no status cache (its TTL is 0) and no client-side QueryCallStatus rate limit (the default of
 * 200 calls/s is Aliyun's account quota, which the emulator does not enforce). Coalescing of
 * identical in-flight requests cannot be switched off; each worker (or HTTP connection) therefore
 * asks about its own binding, so no two identical requests are ever in flight together.
 */
export const LIVE_SETTINGS = { statusTtlMs: 0, rateLimits: { QueryCallStatus: 0 } } as const satisfies SettingsInput
export const LIVE_ENV: Readonly<Record<string, string>> = { PRECALL_STATUS_TTL_MS: "0", PRECALL_RATE_LIMITS: "QueryCallStatus=0" }
