/** The precall configuration every benchmarked decision runs with. */
import type { DecideRequestInput, SettingsInput } from "../src/index.ts"

/**
 * What makes every precall decision a live provider call, as the floor's and pop-core's requests
 * are: no status cache (its TTL is 0) and no client-side QueryCallStatus rate limit (the default of
 * 200 calls/s is Aliyun's account quota, which the emulator does not enforce). Coalescing of
 * identical in-flight requests cannot be switched off; each worker (or HTTP connection) therefore
 * asks about its own binding, so no two identical requests are ever in flight together.
 */
export const LIVE_SETTINGS = { statusTtlMs: 0, rateLimits: { QueryCallStatus: 0 } } as const satisfies SettingsInput
export const LIVE_ENV: Readonly<Record<string, string>> = { PRECALL_STATUS_TTL_MS: "0", PRECALL_RATE_LIMITS: "QueryCallStatus=0" }

/**
 * Production settings switched on and idle: a QueryCallStatus rate limit that is configured but far
 * above the offered load, the status cache on at its default TTL (the contender asks with a new
 * caller number each time, so it never hits), the circuit breaker closed at its defaults. The cost
 * of each policy that has nothing to do is what this row measures.
 */
export const PRODUCTION_IDLE_SETTINGS = { rateLimits: { QueryCallStatus: 1_000_000 } } as const satisfies SettingsInput

/**
 * Distinct caller numbers a production-idle contender cycles through: far more than it asks within a
 * status TTL (2 s at 10,000 decisions/s is 20,000), and more than the status cache holds (10,000),
 * so no (binding, caller) pair can come round again while its answer is kept.
 */
export const IDLE_CALLERS = 100_000

/** The i-th caller number of the cycle: 11-digit mainland mobiles, 13800100000 up. */
export const idleCaller = (i: number): string => `138001${String(i % IDLE_CALLERS).padStart(5, "0")}`

/** The provider endpoint of the in-process benchmarks (soak, instructions, micro): nothing listens there. */
export const STUB_ENDPOINT = "http://127.0.0.1:1"

/** The QueryCallStatus reply the in-process transports answer: status 1, dial X. */
export const STATUS_ONE_REPLY = JSON.stringify({
  RequestId: "5C1E0F3A-0000-4000-8000-000000000000", Code: "OK", Message: "OK", SecretCallStatusDTO: { Status: 1, CalledNo: "17000000000" }
})

/** Decision i of an in-process loop: binding i % 64 with the i-th idle caller, so never a status-cache hit. */
export const idleDecisionInput = (i: number): DecideRequestInput => {
  const b = i % 64
  return { poolKey: "FC100000000001", subsId: String(1_000_000_000_000_000 + b), phoneNoX: `170000${String(b).padStart(5, "0")}`, callerNo: idleCaller(i) }
}
