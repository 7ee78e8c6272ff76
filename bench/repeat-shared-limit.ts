/**
 * `node_modules/.bin/node bench/repeat-shared-limit.ts [TIMEOUTS] [REPEATS] [DURATION_MS]`, e.g. `10,50 4 6000`
 *
 * Scenario (d)'s "with sharing" variant (2 instances, 9/s shared through Redis, 40/s offered, emulator
 * quota 10/s) repeated, once per PRECALL_REDIS_TIMEOUT_MS given, REPEATS times in turn. A throttling
 * reply under a shared 9/s limit comes now and then, not every run: one run of (d) cannot tell a
 * setting that is safe from one that was lucky. Prints one line per run: requests per second at the
 * emulator, Throttling.User replies, and when an instance had Redis marked down (ms after the start).
 * Bounded: REPEATS × timeouts runs of DURATION_MS each (at most 20 runs, 30 s each); Redis keys under
 * a prefix of its own, deleted after every run.
 */
import { startEmulatorProcess } from "./emulator.ts"
import { runPacedTogether } from "./paced.ts"
import { BENCH_REDIS_KEY_SECRET, BENCH_REDIS_URL, deleteKeys, redisProblem, runPrefix } from "./redis.ts"
import { makeTargets } from "./run-helpers.ts"
import { PROVIDER_QUOTA_QPS } from "./scenarios/shared-limit.ts"

const timeouts = (process.argv[2] ?? "10,50").split(",").map(Number)
const repeats = Math.min(20, Number(process.argv[3] ?? "3"))
const durationMs = Math.min(30_000, Number(process.argv[4] ?? "6000"))
if (timeouts.some((t) => !Number.isInteger(t) || t < 1 || t > 1000) || timeouts.length * repeats > 20) {
  process.stderr.write("usage: node_modules/.bin/node bench/repeat-shared-limit.ts [TIMEOUTS e.g. 10,50] [REPEATS] [DURATION_MS]; at most 20 runs\n")
  process.exit(2)
}
const problem = await redisProblem()
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`)
  process.exit(1)
}

const emulator = await startEmulatorProcess({ verifySignatures: false, seed: 7 })
const prefix = runPrefix()
try {
  const targets = await makeTargets(emulator, 64)
  const requests = targets.map((t) => ({ poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: t.callerNo }))
  for (let rep = 0; rep < repeats; rep++) {
    for (const timeout of timeouts) {
      await emulator.clearFaults()
      const jobs = [0, 1].map((i) => ({
        name: `instance-${i}`,
        settings: {
          aliyunEndpoint: emulator.url, statusTtlMs: 0, rateLimits: { QueryCallStatus: 9 },
          redisUrl: BENCH_REDIS_URL, redisKeySecret: BENCH_REDIS_KEY_SECRET, redisPrefix: `${prefix}${timeout}-${rep}:`, redisTimeoutMs: timeout
        },
        requests: requests.filter((_, k) => k % 2 === i), callerBase: 0, ratePerSecond: 20, durationMs, offsetMs: i * 25, warmup: 5
      }))
      const results = await runPacedTogether(jobs, async () => {
        await new Promise((r) => setTimeout(r, 1100))
        await emulator.setFault("QueryCallStatus", { throttle: { qps: PROVIDER_QUOTA_QPS } })
        await emulator.resetStats()
      })
      const stats = await emulator.stats()
      const t0 = results[0]!.t0 / 1000
      const perSecond = stats.perSecond
        .filter((p) => Date.parse(p.second) / 1000 >= t0 && Date.parse(p.second) / 1000 < t0 + durationMs / 1000)
        .map((p) => p.requests)
      const throttled = stats.actions["QueryCallStatus"]?.codes["Throttling.User"] ?? 0
      const down = results.flatMap((r, i) =>
        r.redisStates.flatMap((s, k) => (s.up ? [] : [`instance ${i} ${s.atMs}-${r.redisStates[k + 1]?.atMs ?? "end"} ms`])))
      process.stdout.write(
        `redisTimeoutMs ${String(timeout).padStart(3)}, run ${rep + 1}: emulator ${perSecond.join(", ")} req/s, ` +
          `${throttled} Throttling.User, Redis marked down: ${down.join("; ") || "never"}\n`
      )
      await deleteKeys(prefix)
    }
  }
} finally {
  await emulator.clearFaults().catch(() => undefined)
  await emulator.stop()
  await deleteKeys(prefix)
}
