/**
 * Scenario (d): one provider quota, two precall instances. The emulator plays Aliyun's account quota
 * for QueryCallStatus (`throttle: { qps: 10 }`: above 10 requests in any sliding second it answers
 * Throttling.User). Two library instances, each in its own worker process, are driven open-loop at
 * half the offered load each (together 40/s, 4× the quota), side by side:
 *
 * - shared: both with `redisUrl` (PRECALL_REDIS_URL) and one prefix: one bucket for the account;
 * - alone: no Redis: each instance keeps its own bucket, so the account sees up to 2 × the limit;
 * - shared at the quota: as shared, but the limit set to the quota itself (no headroom), to show
 *   why the limit is set 10 % below it;
 * - shared, Redis timeout 50 ms: as shared, with `redisTimeoutMs` 50 instead of 10. A Redis reply
 *   later than the timeout makes that one turn come from the instance's in-memory bucket (which is
 *   full), and three in a row mark Redis down until the next probe: either lets a call out beside the
 *   shared spacing, an 11th call in a second, a Throttling.User, and the shared limit is halved for
 *   the cooldown (10 s). On 2 busy cores the default 10 ms is sometimes too short for that.
 *
 * precall's limit is 9/s (QueryCallStatus), 10 % under the quota, as docs/scale-out.md advises: calls
 * go out exactly 1000/9 ms apart, and at 10/s (100 ms apart) the few ms of jitter on the way put an
 * 11th call into some sliding second now and then.
 *
 * Every decision needs the provider (statusTtlMs 0), and no two identical requests are in flight (each
 * instance has 32 bindings of its own; at 20/s one comes back every 1.6 s, after its 1 s deadline), so
 * neither the status cache nor coalescing saves a call. Measured per variant: requests per wall-clock
 * second at the emulator (GET /_emulator/stats `perSecond`: arrivals, throttled ones included), what the
 * emulator answered, and every decision's source and providerCode.
 */
import type { DecideRequestInput } from "../../src/index.ts"
import type { Target } from "../contenders.ts"
import type { EmulatorProcess } from "../emulator.ts"
import { degradedCodes, latencyOf, type PacedResult, runPacedTogether } from "../paced.ts"
import type { Progress } from "../progress.ts"
import { BENCH_REDIS_KEY_SECRET, BENCH_REDIS_URL } from "../redis.ts"

export const PROVIDER_QUOTA_QPS = 10

export interface SharedLimitOptions {
  /** Offered load of both instances together, decisions per second. */
  readonly offeredPerSecond: number
  readonly durationMs: number
  /** Sequential decisions per instance before the measured phase (no throttle set yet). */
  readonly warmup: number
}

export interface SharedLimitVariant {
  readonly name: "shared" | "alone" | "shared-at-quota" | "shared-timeout-50"
  readonly label: string
  readonly limitPerSecond: number
  readonly redis: boolean
  /** `redisTimeoutMs`; the default (10) when absent. */
  readonly redisTimeoutMs?: number
}

export const SHARED_LIMIT_VARIANTS: ReadonlyArray<SharedLimitVariant> = [
  { name: "shared", label: "with sharing (Redis), limit 9/s", limitPerSecond: 9, redis: true },
  { name: "alone", label: "without sharing (no Redis), limit 9/s per instance", limitPerSecond: 9, redis: false },
  { name: "shared-at-quota", label: "with sharing (Redis), limit 10/s = the quota", limitPerSecond: 10, redis: true },
  { name: "shared-timeout-50", label: "with sharing (Redis), limit 9/s, redisTimeoutMs 50", limitPerSecond: 9, redis: true, redisTimeoutMs: 50 }
]

export interface SharedLimitRow {
  readonly name: SharedLimitVariant["name"]
  readonly label: string
  readonly instances: number
  readonly limitPerSecond: number
  readonly redis: boolean
  readonly redisTimeoutMs: number
  /** Both instances had Redis in use throughout the load and at the end (only meaningful with `redis`). */
  readonly redisUp: boolean
  /** When an instance had Redis marked down during the load, e.g. `instance 1: 258-315 ms` (ms after t0). */
  readonly redisDown: ReadonlyArray<string>
  readonly offeredPerSecond: number
  readonly durationS: number
  readonly decisions: number
  readonly errors: number
  readonly unfinished: number
  /** Requests that arrived at the emulator in each whole second of the load. */
  readonly emulatorPerSecond: ReadonlyArray<number>
  /** ... and in the 2 seconds after it (retries and waits of the last requests). */
  readonly emulatorTail: ReadonlyArray<number>
  readonly emulatorMaxPerSecond: number
  readonly emulatorMeanPerSecond: number
  readonly emulatorRequests: number
  readonly emulatorOk: number
  readonly throttled: number
  /** Other replies of the emulator by code. */
  readonly emulatorOther: Readonly<Record<string, number>>
  /** Decisions made from a provider answer, by the second they came in: the calls that were of use. */
  readonly answeredPerSecond: ReadonlyArray<number>
  readonly degraded: number
  readonly degradedShare: number
  /** Degraded decisions by the providerCode of their last failure. */
  readonly degradedReasons: Readonly<Record<string, number>>
  readonly attemptsPerDecision: number
  readonly p50: number
  readonly p99: number
  readonly maxLagMs: number
}

export interface SharedLimitResult {
  readonly quotaQps: number
  readonly redisUrl: string
  readonly rows: ReadonlyArray<SharedLimitRow>
  /** Variants not measured, and why (e.g. no Redis). */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly why: string }>
}

const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

export const sharedLimitSteps = (redisOk: boolean) => SHARED_LIMIT_VARIANTS.filter((v) => redisOk || !v.redis).length

export const describeSharedLimit = (r: SharedLimitRow): string =>
  `emulator ${r.emulatorPerSecond.join(", ")} req/s (max ${r.emulatorMaxPerSecond}, mean ${r.emulatorMeanPerSecond.toFixed(1)}), ` +
  `${r.throttled} Throttling.User, ${(100 * r.degradedShare).toFixed(0)} % degraded ` +
  `(${Object.entries(r.degradedReasons).map(([k, n]) => `${k} ${n}`).join(", ") || "none"})` +
  (r.redis && !r.redisUp ? `, Redis marked down: ${r.redisDown.join("; ") || "at the end"}` : "") + (r.errors + r.unfinished > 0 ? `, ${r.errors} errors, ${r.unfinished} unfinished` : "")

export const runSharedLimit = async (
  emulator: EmulatorProcess,
  targets: ReadonlyArray<Target>,
  o: SharedLimitOptions,
  prefix: string,
  redisProblem: string | undefined,
  progress: Progress
): Promise<SharedLimitResult> => {
  const requests: Array<DecideRequestInput> = targets.map((t) => ({ poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: t.callerNo }))
  const instances = 2
  const perInstance = o.offeredPerSecond / instances
  const rows: Array<SharedLimitRow> = []
  const skipped: Array<{ name: string; why: string }> = []
  for (const v of SHARED_LIMIT_VARIANTS) {
    if (v.redis && redisProblem !== undefined) {
      skipped.push({ name: v.name, why: redisProblem })
      continue
    }
    progress.step(`shared limit: ${v.label}, 2 instances, ${o.offeredPerSecond}/s offered for ${o.durationMs / 1000} s against a ${PROVIDER_QUOTA_QPS}/s quota`)
    await emulator.clearFaults()
    const jobs = Array.from({ length: instances }, (_, i) => ({
      name: `${v.name}-${i}`,
      settings: {
        aliyunEndpoint: emulator.url,
        statusTtlMs: 0,
        rateLimits: { QueryCallStatus: v.limitPerSecond },
        ...(v.redis ? { redisUrl: BENCH_REDIS_URL, redisKeySecret: BENCH_REDIS_KEY_SECRET, redisPrefix: `${prefix}d-${v.name}:`, redisTimeoutMs: v.redisTimeoutMs ?? 10 } : {})
      },
      // Instance i asks about bindings i, i + 2, i + 4, …: its own, none shared with the other.
      requests: requests.filter((_, k) => k % instances === i),
      callerBase: 0,
      ratePerSecond: perInstance,
      durationMs: o.durationMs,
      // Interleaved: together one request every 1000 / offered ms.
      offsetMs: (i * 1000) / o.offeredPerSecond,
      warmup: o.warmup
    }))
    const results: Array<PacedResult> = await runPacedTogether(jobs, async () => {
      // Warm-up done without a quota; a second and more for the emulator's sliding window and the
      // limit's bucket to empty and fill, then the quota goes on and the stats start from zero.
      await new Promise((r) => setTimeout(r, 1100))
      await emulator.setFault("QueryCallStatus", { throttle: { qps: PROVIDER_QUOTA_QPS } })
      await emulator.resetStats()
    })
    // Stragglers' retries land within the deadline of the last request; the stats are read after every worker answered.
    const stats = await emulator.stats()
    await emulator.clearFaults()
    const t0s = results[0]!.t0 / 1000
    const bySecond = new Map(stats.perSecond.map((p) => [Date.parse(p.second) / 1000, p.requests]))
    const seconds = Math.round(o.durationMs / 1000)
    const emulatorPerSecond = Array.from({ length: seconds }, (_, k) => bySecond.get(t0s + k) ?? 0)
    const emulatorTail = [seconds, seconds + 1].map((k) => bySecond.get(t0s + k) ?? 0)
    const codes = stats.actions["QueryCallStatus"]?.codes ?? {}
    const all = results.flatMap((r) => r.rows)
    const answeredPerSecond = Array.from({ length: seconds + 1 }, () => 0)
    for (const r of all) {
      if (r.source !== "provider") continue
      const s = Math.floor((r.atMs + r.ms) / 1000)
      if (s >= 0 && s <= seconds) answeredPerSecond[s]!++
    }
    const degradedReasons = degradedCodes(all)
    const degraded = sum(Object.values(degradedReasons))
    const latency = latencyOf(all)
    const { OK: ok = 0, "Throttling.User": throttled = 0, ...other } = codes
    const redisDown = v.redis
      ? results.flatMap((r, i) =>
        r.redisStates.flatMap((s, k) => s.up ? [] : [`instance ${i}: ${s.atMs}-${r.redisStates[k + 1]?.atMs ?? "end"} ms`]))
      : []
    const row: SharedLimitRow = {
      name: v.name, label: v.label, instances, limitPerSecond: v.limitPerSecond, redis: v.redis, redisTimeoutMs: v.redisTimeoutMs ?? 10,
      redisUp: v.redis && results.every((r) => r.redis.up && r.redisStates.every((s) => s.up)), redisDown,
      offeredPerSecond: o.offeredPerSecond, durationS: o.durationMs / 1000,
      decisions: all.length, errors: sum(results.map((r) => r.errors)), unfinished: sum(results.map((r) => r.unfinished)),
      emulatorPerSecond, emulatorTail, emulatorMaxPerSecond: Math.max(...emulatorPerSecond),
      emulatorMeanPerSecond: sum(emulatorPerSecond) / Math.max(1, seconds),
      emulatorRequests: stats.totalRequests, emulatorOk: ok, throttled, emulatorOther: other,
      answeredPerSecond, degraded, degradedShare: all.length === 0 ? 0 : degraded / all.length, degradedReasons,
      attemptsPerDecision: all.length === 0 ? 0 : sum(all.map((r) => r.attempts)) / all.length,
      p50: latency.p50, p99: latency.p99, maxLagMs: Math.max(...results.map((r) => r.maxLagMs))
    }
    rows.push(row)
    progress.done(describeSharedLimit(row))
  }
  return { quotaQps: PROVIDER_QUOTA_QPS, redisUrl: BENCH_REDIS_URL, rows, skipped }
}
