/** The run's figures, the target verdicts, and the three files they are written to (json, md, svg). */
import { writeFileSync } from "node:fs"
import type { MicroRow } from "./jobs.ts"
import type { KeyCleanup } from "./redis.ts"
import type { BreakdownRow } from "./scenarios/breakdown.ts"
import { type BreakerResult, OPEN_P99_TARGET_MS } from "./scenarios/breaker.ts"
import type { CacheResult } from "./scenarios/cache.ts"
import type { FaultsResult } from "./scenarios/faults.ts"
import type { LibraryRow } from "./scenarios/library.ts"
import type { ServiceRow } from "./scenarios/service.ts"
import type { SharedLimitResult } from "./scenarios/shared-limit.ts"
import type { SoakResult } from "./soak.ts"

export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly node: string
  /** os.loadavg() when the run started and ended: load from outside the benchmark shows here. */
  readonly loadavgStart: ReadonlyArray<number>
  readonly loadavgEnd: ReadonlyArray<number>
}

export interface Target {
  readonly id: string
  readonly description: string
  readonly threshold: string
  /** The measured figure, e.g. "0.42×" or "99.8 %"; "not measured" when its scenario did not run. */
  readonly measured: string
  readonly verdict: "PASS" | "MISS" | "NOT RUN"
  readonly note?: string
  /**
   * (a) ratios: the same ratio round by round (each round's two blocks ran within seconds of each
   * other), as "min-max, median m (n rounds)": how far this machine's drift moved it within the run.
   */
  readonly perRound?: string
}

export interface Report {
  readonly startedAt: string
  readonly finishedAt: string
  readonly mode: "quick" | "full"
  readonly command: string
  readonly machine: Machine
  readonly options: Readonly<Record<string, unknown>>
  readonly library?: ReadonlyArray<LibraryRow>
  readonly breakdown?: ReadonlyArray<BreakdownRow>
  readonly micro?: ReadonlyArray<MicroRow>
  readonly microFailed?: string
  readonly service?: ReadonlyArray<ServiceRow>
  readonly serviceUnavailable?: string
  readonly faults?: FaultsResult
  readonly sharedLimit?: SharedLimitResult
  readonly breaker?: BreakerResult
  readonly cache?: CacheResult
  readonly soak?: SoakResult
  /** The Redis of scenarios (d) and (f): where, under which prefix, and what was deleted afterwards. */
  readonly redis?: {
    readonly url: string
    readonly prefix: string
    readonly problem?: string
    /** Keys found under the prefix and deleted, after each scenario that used Redis. */
    readonly cleanups: ReadonlyArray<KeyCleanup & { readonly after: string }>
  }
  /** Scenarios (d, e, f) that failed, with the error. */
  readonly failures?: Readonly<Record<string, string>>
  readonly targets: ReadonlyArray<Target>
}

const n0 = (x: number) => x.toFixed(0)
const n1 = (x: number) => x.toFixed(1)
const n2 = (x: number) => x.toFixed(2)

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b

const libraryAt = (rows: ReadonlyArray<LibraryRow> | undefined, name: string, c: number) => rows?.find((r) => r.name === name && r.concurrency === c)

/** Two decimals, or as many more as it takes not to round a ratio onto the other side of its threshold (0.8996 is not 0.90). */
export const shownRatio = (value: number, threshold: number): string => {
  for (let digits = 2; digits <= 6; digits++) {
    const shown = value.toFixed(digits)
    if (Number(shown) >= threshold === value >= threshold) return shown
  }
  return String(value)
}

/** `a` ÷ `b` round by round, as `Target.perRound` puts it; undefined without rounds to pair. */
export const perRoundRatios = (a: LibraryRow | undefined, b: LibraryRow | undefined): string | undefined => {
  if (a === undefined || b === undefined || a.roundThroughputs.length !== b.roundThroughputs.length) return undefined
  const ratios = a.roundThroughputs.map((x, i) => x / b.roundThroughputs[i]!).filter(Number.isFinite).sort((x, y) => x - y)
  if (ratios.length === 0) return undefined
  const mid = ratios.length / 2
  const median = ratios.length % 2 === 1 ? ratios[Math.floor(mid)]! : (ratios[mid - 1]! + ratios[mid]!) / 2
  return `${n2(ratios[0]!)}-${n2(ratios[ratios.length - 1]!)}, median ${n2(median)} (${ratios.length} rounds)`
}

/** The issue's targets, each with the measured ratio. A run with errors cannot pass. */
export const evaluateTargets = (r: Omit<Report, "targets" | "finishedAt">): Array<Target> => {
  const targets: Array<Target> = []
  const ratioTarget = (id: string, description: string, min: number, value: number | undefined, invalid?: string, perRound?: string): Target =>
    value === undefined
      ? { id, description, threshold: `≥ ${min}×`, measured: "not measured", verdict: "NOT RUN" }
      : {
        id, description, threshold: `≥ ${min}×`, measured: `${shownRatio(value, min)}×`,
        verdict: value >= min && invalid === undefined ? "PASS" : "MISS", ...(invalid === undefined ? {} : { note: invalid }),
        ...(perRound === undefined ? {} : { perRound })
      }
  const errorsOf = (row: LibraryRow | undefined) => row !== undefined && row.errors > 0 ? `${row.errors} ${row.name} errors: ${row.firstError}` : undefined
  for (const c of [1, 16, 64]) {
    const p = libraryAt(r.library, "precall", c)
    if (c !== 1) {
      const floor = libraryAt(r.library, "floor", c)
      targets.push(ratioTarget(`a-floor-${c}`, `(a) precall ÷ floor throughput at concurrency ${c}`, 0.8,
        ratio(p?.throughput, floor?.throughput), errorsOf(p), perRoundRatios(p, floor)))
    }
    const popCore = libraryAt(r.library, "pop-core", c)
    targets.push(ratioTarget(`a-popcore-${c}`, `(a) precall ÷ pop-core throughput at concurrency ${c}`, 1.1,
      ratio(p?.throughput, popCore?.throughput), errorsOf(p), perRoundRatios(p, popCore)))
    const prod = libraryAt(r.library, "precall-production", c)
    targets.push(ratioTarget(`a-production-${c}`, `(a) precall with production settings idle ÷ precall at concurrency ${c}`, 0.9,
      ratio(prod?.throughput, p?.throughput), errorsOf(prod) ?? errorsOf(p), perRoundRatios(prod, p)))
  }
  const p1 = libraryAt(r.library, "precall", 1)
  const floor1 = libraryAt(r.library, "floor", 1)
  const p50Description = "(a) precall p50 over the floor's at concurrency 1"
  targets.push(p1 === undefined || floor1 === undefined
    ? { id: "a-p50-1", description: p50Description, threshold: "≤ 60 µs", measured: "not measured", verdict: "NOT RUN" }
    : {
      id: "a-p50-1", description: p50Description, threshold: "≤ 60 µs", measured: `${n0((p1.p50 - floor1.p50) * 1000)} µs`,
      verdict: (p1.p50 - floor1.p50) * 1000 <= 60 && errorsOf(p1) === undefined ? "PASS" : "MISS", ...(errorsOf(p1) === undefined ? {} : { note: errorsOf(p1)! })
    })
  const service = (name: ServiceRow["name"]) => r.service?.find((s) => s.name === name)
  const serviceErrors = (row: ServiceRow | undefined) => row !== undefined && row.non2xx + row.errors > 0 ? `${row.non2xx} non-2xx, ${row.errors} errors` : undefined
  const svc = service("precall service")
  targets.push(ratioTarget("b-skeleton", "(b) service ÷ skeleton (node:http + the same signed undici call, no policy) throughput, live provider call per decision", 0.7,
    ratio(svc?.throughput, service("skeleton (node:http + undici, no policy)")?.throughput), serviceErrors(svc)))
  const hits = service("precall service (status-cache hits)")
  targets.push(ratioTarget("b-cache-hits", "(b) service with status-cache hits ÷ bare node:http throughput", 0.5,
    ratio(hits?.throughput, service("bare node:http")?.throughput), serviceErrors(hits)))
  const soak = r.soak
  const soakDescription = `(soak) heap growth over ${soak === undefined ? "1,000,000" : soak.decisions.toLocaleString("en")} decisions after warm-up`
  targets.push(soak === undefined
    ? { id: "soak-heap", description: soakDescription, threshold: "≤ 10 MB", measured: "not measured", verdict: "NOT RUN" }
    : {
      id: "soak-heap", description: soakDescription, threshold: "≤ 10 MB",
      measured: `${(soak.heapGrowthBytes / 1e6).toFixed(1)} MB (${(soak.heapAfterWarmup / 1e6).toFixed(1)} → ${(soak.heapAfterSoak / 1e6).toFixed(1)} MB)`,
      verdict: soak.heapGrowthBytes <= 10e6 && soak.errors === 0 ? "PASS" : "MISS", ...(soak.errors > 0 ? { note: `${soak.errors} errors: ${soak.firstError}` } : {})
    })
  const f = r.faults
  targets.push(f === undefined
    ? { id: "c-deadline", description: "(c) decisions inside the deadline under faults", threshold: "100 %", measured: "not measured", verdict: "NOT RUN" }
    : {
      id: "c-deadline",
      description: `(c) decisions inside the deadline (${f.settings.deadlineMs} ms + ${f.toleranceMs} ms tolerance) under faults`,
      threshold: "100 %",
      measured: `${(100 * f.shareInsideDeadline).toFixed(2)} % (${f.insideDeadline}/${f.decisions})`,
      verdict: f.decisions > 0 && f.insideDeadline === f.decisions && f.errors === 0 ? "PASS" : "MISS"
    })
  const b = r.breaker
  const open = b?.phases.find((p) => p.name === "on, once open")
  const description = `(e) decision p99 once the circuit breaker is open (provider hanging${b === undefined ? "" : `, ${b.ratePerSecond} decisions/s`})`
  targets.push(b === undefined || open === undefined
    ? { id: "e-open-p99", description, threshold: `< ${OPEN_P99_TARGET_MS} ms`, measured: "not measured", verdict: "NOT RUN" }
    : open.decisions === 0
    ? { id: "e-open-p99", description, threshold: `< ${OPEN_P99_TARGET_MS} ms`, measured: "no decision once open", verdict: "MISS", note: "the breaker never opened" }
    : {
      id: "e-open-p99", description, threshold: `< ${OPEN_P99_TARGET_MS} ms`,
      measured: `${open.latency.p99.toFixed(2)} ms (p50 ${open.latency.p50.toFixed(2)}, max ${open.latency.max.toFixed(1)}; ${open.decisions} decisions)`,
      verdict: open.latency.p99 < OPEN_P99_TARGET_MS && b.errors === 0 ? "PASS" : "MISS",
      ...(b.errors > 0 ? { note: `${b.errors} errors` } : {})
    })
  return targets
}


export const markdown = (r: Report): string => {
  const out: Array<string> = []
  const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
    out.push(`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((row) => `| ${row.join(" | ")} |`), "")
  }
  out.push(`# precall benchmark, ${r.startedAt} (${r.mode})`, "")
  out.push(`\`${r.command}\` on ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}; load average at start ` +
    `${r.machine.loadavgStart.map(n2).join(" / ")}, at end ${r.machine.loadavgEnd.map(n2).join(" / ")} (1/5/15 min).`, "")
  out.push("## Targets", "")
  table(["target", "threshold", "measured", "verdict", "per round"],
    r.targets.map((t) => [t.description, t.threshold, t.measured + (t.note ? ` (${t.note})` : ""), `**${t.verdict}**`, t.perRound ?? ""]))
  if (r.targets.some((t) => t.perRound !== undefined)) {
    out.push("The (a) ratios are those of each contender's whole run; *per round* gives the same ratio within each round, whose " +
      "blocks ran seconds apart: its range is how far this machine's drift moved the ratio during the run.", "")
  }
  if (r.library !== undefined) {
    out.push("## (a) Library: live decisions, closed loop", "")
    table(["concurrency", "contender", "ops/s", "÷ floor", "p50 ms", "p99 ms", "CPU µs/op", "emulator CPU µs/req", "provider calls/op", "errors", "ops/s per round"],
      r.library.map((row) => {
        const floor = libraryAt(r.library, "floor", row.concurrency)
        return [String(row.concurrency), row.name, n0(row.throughput), floor ? n2(row.throughput / floor.throughput) : "", n2(row.p50), n2(row.p99),
          n0(row.cpuMicrosPerOp), n0(row.emulatorCpuMicrosPerRequest), n2(row.providerCallsPerOp), String(row.errors), row.roundThroughputs.map(n0).join(", ")]
      }))
  }
  if (r.breakdown !== undefined) {
    out.push("## Where precall's CPU goes (closed loop, concurrency " + String(r.options["breakdownConcurrency"] ?? "") + ")", "")
    out.push("CPU µs/op is the minimum over the rounds (outside load only adds CPU time); ops/s is the median. Every round is listed to show the spread.", "")
    table(["rung", "adds", "ops/s", "CPU µs/op", "per round", "added µs/op", "over"],
      r.breakdown.map((b) => [b.name, b.adds, n0(b.throughput), n0(b.cpuMicrosPerOp), b.cpuMicrosPerRound.map(n0).join(", "), n0(b.addedMicros), b.comparedTo]))
  }
  if (r.micro !== undefined) {
    out.push("## precall's pieces without the network (bench/micro.ts)", "", "Sequential, on stubs; CPU µs per call, minimum over the rounds.", "")
    table(["piece", "CPU µs/call", "per round"], r.micro.map((m) => [m.piece, n1(m.microsPerOp), m.microsPerRound.map(n1).join(", ")]))
  } else if (r.microFailed !== undefined) {
    out.push("## precall's pieces without the network", "", `Not measured: ${r.microFailed}`, "")
  }
  if (r.service !== undefined) {
    out.push("## (b) HTTP service under autocannon", "")
    const bare = r.service.find((s) => s.name === "bare node:http")
    table(["server", "connections", "req/s", "÷ bare", "p50 ms", "p99 ms", "server CPU µs/req", "provider calls/req", "non-2xx", "errors"],
      r.service.map((s) => [s.name, String(s.connections), n0(s.throughput), bare ? n2(s.throughput / bare.throughput) : "", String(s.p50), String(s.p99),
        n0(s.serverCpuMicrosPerRequest), n2(s.providerCallsPerRequest), String(s.non2xx), String(s.errors)]))
    const mix = r.service.find((s) => s.decisions !== undefined)?.decisions
    if (mix !== undefined) {
      out.push("The service's decisions over the measured phase (from its `/metrics`):", "")
      table(["decision/source", "count"], Object.entries(mix).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, String(v)]))
    }
  } else if (r.serviceUnavailable !== undefined) {
    out.push("## (b) HTTP service", "", `Not measured: ${r.serviceUnavailable}`, "")
  }
  if (r.faults !== undefined) {
    const f = r.faults
    out.push("## (c) Faults on QueryCallStatus: 10 % Throttling.User, 5 % hang, 5 % HTTP 503", "")
    out.push(`Concurrency ${f.concurrency}; deadline ${f.settings.deadlineMs} ms, attempt timeout ${f.settings.attemptTimeoutMs} ms, ` +
      `${f.settings.maxAttempts} attempts, retry base ${f.settings.retryBaseMs} ms; a decision counts as inside when its wall time is ≤ ` +
      `${f.settings.deadlineMs + f.toleranceMs} ms (deadline + ${f.toleranceMs} ms tolerance).`, "")
    table(["decisions", "inside deadline + tolerance", "over the bare deadline", "decisions/s", "p50 ms", "p99 ms", "max ms", "provider calls/decision"],
      [[String(f.decisions), `${(100 * f.shareInsideDeadline).toFixed(2)} %`, String(f.overDeadlineStrict), n0(f.throughput), n1(f.p50), n1(f.p99), n1(f.max),
        n2(f.providerCallsPerDecision)]])
    table(["decision/source", "count", "share"], Object.entries(f.mix).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, String(v), `${(100 * v / f.decisions).toFixed(2)} %`]))
    const total = Object.values(f.emulatorCodes).reduce((a, b) => a + b, 0)
    table(["emulator answer", "count", "share"], Object.entries(f.emulatorCodes).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, String(v), `${(100 * v / total).toFixed(2)} %`]))
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`
  const ratioText = (a: number, b: number) => (b === 0 ? (a === 0 ? "=" : "∞") : `${n2(a / b)}×`)
  if (r.sharedLimit !== undefined) {
    const d = r.sharedLimit
    const first = d.rows[0]
    out.push(`## (d) Shared limit: 2 instances, ${first?.offeredPerSecond ?? "?"} decisions/s offered, provider quota ${d.quotaQps}/s`, "")
    out.push(`The emulator answers Throttling.User above ${d.quotaQps} QueryCallStatus in any sliding second (\`throttle: { qps: ${d.quotaQps} }\`). ` +
      `Two library instances, each in its own process, open loop at ${first === undefined ? "?" : first.offeredPerSecond / first.instances}/s each for ` +
      `${first?.durationS ?? "?"} s, 32 bindings each, \`statusTtlMs: 0\`; sharing = \`redisUrl\` (${d.redisUrl}) with one prefix. ` +
      "*emulator req/s* counts every request that arrived in each whole wall-clock second of the load (throttled ones included); " +
      "*answered/s* counts decisions from a provider answer by the second they came in. Degraded decisions are listed by the code of their last failure.", "")
    table(["variant", "emulator req/s, per second", "max", "mean", "next 2 s", "OK", "Throttling.User", "answered/s", "decisions", "degraded", "degraded by code", "attempts/decision", "p50 ms", "p99 ms", "Redis in use"],
      d.rows.map((x) => [x.label, x.emulatorPerSecond.join(", "), String(x.emulatorMaxPerSecond), n1(x.emulatorMeanPerSecond), x.emulatorTail.join(", "),
        String(x.emulatorOk), String(x.throttled), x.answeredPerSecond.join(", "), String(x.decisions), pct(x.degradedShare),
        Object.entries(x.degradedReasons).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ") || "none",
        n2(x.attemptsPerDecision), n1(x.p50), n1(x.p99),
        x.redis ? (x.redisUp ? "yes" : `**marked down** ${x.redisDown.join("; ") || "at the end"}`) : "no (not configured)"]))
    const shared = d.rows.find((x) => x.name === "shared")
    const alone = d.rows.find((x) => x.name === "alone")
    if (shared !== undefined && alone !== undefined) {
      out.push("With sharing ÷ without:", "")
      table(["figure", "with sharing", "without", "ratio"], [
        ["emulator req/s, max", String(shared.emulatorMaxPerSecond), String(alone.emulatorMaxPerSecond), ratioText(shared.emulatorMaxPerSecond, alone.emulatorMaxPerSecond)],
        ["emulator req/s, mean", n1(shared.emulatorMeanPerSecond), n1(alone.emulatorMeanPerSecond), ratioText(shared.emulatorMeanPerSecond, alone.emulatorMeanPerSecond)],
        ["Throttling.User replies", String(shared.throttled), String(alone.throttled), ratioText(shared.throttled, alone.throttled)],
        ["OK replies", String(shared.emulatorOk), String(alone.emulatorOk), ratioText(shared.emulatorOk, alone.emulatorOk)],
        ["degraded share", pct(shared.degradedShare), pct(alone.degradedShare), ratioText(shared.degradedShare, alone.degradedShare)]
      ])
    }
    for (const x of d.skipped) out.push(`Not measured: ${x.name}: ${x.why}`, "")
  }
  if (r.breaker !== undefined) {
    const b = r.breaker
    out.push(`## (e) Provider down (every QueryCallStatus hangs), ${b.ratePerSecond} decisions/s for ${b.durationS} s`, "")
    out.push(`One library instance in its own process, open loop, every request unique (no coalescing), no client-side limit. Deadline ${b.settings.deadlineMs} ms, ` +
      `attempt timeout ${b.settings.attemptTimeoutMs} ms, ${b.settings.maxAttempts} attempts; breaker opens at ≥ ${b.settings.breakerFailureRatio} of the last ` +
      `${b.settings.breakerWindow} attempts failed (after ${b.settings.breakerMinimumCalls}), open ${b.settings.breakerOpenMs} ms. ` +
      `It was first seen open ${b.openedAtMs ?? "never"} ms after the first request; states seen: ` +
      `${b.transitions.map((t) => `${t.state} at ${t.atMs} ms`).join(", ")}. Decisions are split by when they were asked for.`, "")
    table(["phase", "decisions", "p50 ms", "p99 ms", "max ms", `over ${OPEN_P99_TARGET_MS} ms`, "degraded", "Local.CircuitOpen", "degraded by code", "attempts/decision"],
      b.phases.map((p) => [p.name, String(p.decisions), n2(p.latency.p50), n2(p.latency.p99), n1(p.latency.max), String(p.overTarget), String(p.degraded),
        `${p.circuitOpen} (${pct(p.decisions === 0 ? 0 : p.circuitOpen / p.decisions)})`,
        Object.entries(p.degradedReasons).sort((a, c) => c[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", "), n2(p.attemptsPerDecision)]))
    const open = b.phases.find((p) => p.name === "on, once open")
    const off = b.phases.find((p) => p.name === "off (breakerOpenMs 0)")
    out.push(`Degraded with Local.CircuitOpen: ${pct(b.circuitOpenShare)} of all decisions with the breaker on, ${pct(b.circuitOpenShareOnceOpen)} of those asked for once it was open. ` +
      `Provider calls per decision: ${n2(b.providerCallsPerDecision.on)} with the breaker, ${n2(b.providerCallsPerDecision.off)} without.` +
      (open !== undefined && off !== undefined && open.decisions > 0
        ? ` p99 without the breaker ÷ p99 once open: ${ratioText(off.latency.p99, open.latency.p99)}; p50: ${ratioText(off.latency.p50, open.latency.p50)}.`
        : "") + (b.errors + b.unfinished > 0 ? ` ${b.errors} errors, ${b.unfinished} unfinished.` : ""), "")
  }
  if (r.cache !== undefined) {
    const c = r.cache
    const off = c.rows.find((x) => x.name === "cache off")
    out.push(`## (f) Status cache on vs off: HTTP service, ${c.rows[0]?.connections ?? "?"} connections over ${c.rows[0]?.bindings ?? "?"} bindings`, "")
    table(["service", "PRECALL_STATUS_TTL_MS", "store at the end", "Redis in use (samples)", "req/s", "÷ off", "p50 ms", "p99 ms", "provider calls/decision", "server CPU µs/req", "non-2xx", "errors"],
      c.rows.map((x) => [x.name, String(x.statusTtlMs), x.sharedStore,
        x.redisUpSamples === undefined ? "" : `${x.redisUpSamples.up}/${x.redisUpSamples.total}, marked down ${x.redisUpSamples.downs}×`, n0(x.throughput), off === undefined ? "" : ratioText(x.throughput, off.throughput),
        String(x.p50), String(x.p99), x.providerCallsPerDecision.toFixed(4), n0(x.serverCpuMicrosPerRequest), String(x.non2xx), String(x.errors)]))
    table(["service", "decisions by decision/source"], c.rows.map((x) => [x.name, Object.entries(x.decisions).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")]))
    for (const x of c.skipped) out.push(`Not measured: ${x.name}: ${x.why}`, "")
  }
  for (const [name, why] of Object.entries(r.failures ?? {})) out.push(`## (${name}) failed`, "", "```", why.slice(0, 2000), "```", "")
  if (r.redis !== undefined) {
    out.push("## Redis", "", `${r.redis.url}, keys under \`${r.redis.prefix}\`` + (r.redis.problem === undefined ? "" : ` (not usable: ${r.redis.problem})`) + ". " +
      "Keys still there after each scenario (most expire by themselves within a second or two), deleted:", "")
    for (const k of r.redis.cleanups) {
      out.push(`- after (${k.after}): ` + (k.error !== undefined ? `cleanup failed: ${k.error}` :
        `${Object.entries(k.found).map(([kind, n]) => `\`${kind}\` ${n}`).join(", ") || "none"}; deleted ${k.deleted}, ${k.remaining} left`))
    }
    out.push("")
  }
  if (r.soak !== undefined) {
    const k = r.soak
    out.push(`## Soak: ${k.decisions.toLocaleString("en")} decisions through the library (production settings, in-process stub transport)`, "")
    table(["decisions", "warm-up", "concurrency", "seconds", "heap after warm-up", "heap after soak", "growth", "RSS after", "errors"],
      [[String(k.decisions), String(k.warmupDecisions), String(k.concurrency), n1(k.seconds), `${n1(k.heapAfterWarmup / 1e6)} MB`, `${n1(k.heapAfterSoak / 1e6)} MB`,
        `${n1(k.heapGrowthBytes / 1e6)} MB`, `${n1(k.rssAfterSoak / 1e6)} MB`, String(k.errors)]])
  }
  return out.join("\n")
}

// ---- SVG: two horizontal bar panels, throughput ratios and p99 per scenario ----

interface Bar { readonly label: string; readonly value: number; readonly color: string; readonly text: string }
interface Panel { readonly title: string; readonly bars: ReadonlyArray<Bar>; readonly log: boolean; readonly lines: ReadonlyArray<{ readonly value: number; readonly label: string }> }

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
const COLORS: Readonly<Record<string, string>> = { floor: "#9e9e9e", "pop-core": "#f0a030", precall: "#2b6cb0", "precall-production": "#5a8fd0", bare: "#9e9e9e", skeleton: "#707070", service: "#2b6cb0", faults: "#c0392b" }

const panel = (p: Panel, y0: number, width: number): { svg: string; height: number } => {
  const left = 230
  const right = 90
  const barH = 16
  const gap = 6
  const top = 46
  const plotW = width - left - right
  const max = Math.max(...p.bars.map((b) => b.value), ...p.lines.map((l) => l.value), p.log ? 10 : 1) * (p.log ? 1.5 : 1.1)
  const minLog = 0.1
  const x = (v: number) => left + (p.log ? (Math.log10(Math.max(v, minLog)) - Math.log10(minLog)) / (Math.log10(max) - Math.log10(minLog)) : v / max) * plotW
  const height = top + p.bars.length * (barH + gap) + 30
  const parts: Array<string> = [`<g transform="translate(0,${y0})">`, `<text x="10" y="18" font-size="15" font-weight="bold">${esc(p.title)}</text>`]
  const ticks = p.log ? [0.1, 1, 10, 100, 1000, 10000].filter((t) => t <= max) : [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24].filter((t) => t <= max)
  for (const t of ticks) {
    parts.push(`<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${height - 26}" stroke="#e0e0e0"/>`,
      `<text x="${x(t)}" y="${height - 12}" font-size="11" text-anchor="middle" fill="#666">${t}${p.log ? "" : "×"}</text>`)
  }
  p.bars.forEach((b, i) => {
    const y = top + i * (barH + gap)
    parts.push(`<text x="${left - 8}" y="${y + barH - 4}" font-size="12" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, x(b.value) - left)}" height="${barH}" fill="${b.color}"/>`,
      `<text x="${x(b.value) + 4}" y="${y + barH - 4}" font-size="11" fill="#333">${esc(b.text)}</text>`)
  })
  for (const l of p.lines) {
    parts.push(`<line x1="${x(l.value)}" y1="${top - 8}" x2="${x(l.value)}" y2="${height - 26}" stroke="#c0392b" stroke-dasharray="4 3"/>`,
      `<text x="${x(l.value) + 3}" y="${top - 12}" font-size="10" fill="#c0392b">${esc(l.label)}</text>`)
  }
  parts.push("</g>")
  return { svg: parts.join("\n"), height }
}

export const svg = (r: Report): string => {
  const width = 900
  const ratioBars: Array<Bar> = []
  const p99Bars: Array<Bar> = []
  for (const c of [...new Set((r.library ?? []).map((row) => row.concurrency))]) {
    const floor = libraryAt(r.library, "floor", c)
    for (const row of (r.library ?? []).filter((x) => x.concurrency === c)) {
      if (floor !== undefined) ratioBars.push({ label: `(a) c=${c} ${row.name}`, value: row.throughput / floor.throughput, color: COLORS[row.name] ?? "#555", text: `${n2(row.throughput / floor.throughput)}× (${n0(row.throughput)}/s)` })
      p99Bars.push({ label: `(a) c=${c} ${row.name}`, value: row.p99, color: COLORS[row.name] ?? "#555", text: `${n1(row.p99)} ms` })
    }
  }
  const bare = r.service?.find((s) => s.name === "bare node:http")
  for (const s of r.service ?? []) {
    const color = s.name === "bare node:http" ? COLORS["bare"]! : s.name.startsWith("skeleton") ? COLORS["skeleton"]! : COLORS["service"]!
    if (bare !== undefined) ratioBars.push({ label: `(b) ${s.name}`, value: s.throughput / bare.throughput, color, text: `${n2(s.throughput / bare.throughput)}× (${n0(s.throughput)}/s)` })
    p99Bars.push({ label: `(b) ${s.name}`, value: s.p99, color, text: `${s.p99} ms` })
  }
  if (r.faults !== undefined) p99Bars.push({ label: `(c) precall under faults`, value: r.faults.p99, color: COLORS["faults"]!, text: `${n1(r.faults.p99)} ms (max ${n0(r.faults.max)} ms)` })
  for (const p of r.breaker?.phases ?? []) {
    if (p.decisions > 0) p99Bars.push({ label: `(e) breaker ${p.name}`, value: p.latency.p99, color: COLORS["faults"]!, text: `${n2(p.latency.p99)} ms` })
  }
  const cacheOff = r.cache?.rows.find((x) => x.name === "cache off")
  for (const x of r.cache?.rows ?? []) {
    if (cacheOff !== undefined) ratioBars.push({ label: `(f) ${x.name}`, value: x.throughput / cacheOff.throughput, color: COLORS["service"]!, text: `${n2(x.throughput / cacheOff.throughput)}× (${n0(x.throughput)}/s)` })
    p99Bars.push({ label: `(f) ${x.name}`, value: x.p99, color: COLORS["service"]!, text: `${x.p99} ms` })
  }
  const a = panel({ title: "Throughput relative to the floor of each scenario (floor = 1×; (f): cache off = 1×)", bars: ratioBars, log: false,
    lines: [{ value: 0.8, label: "(a) target 0.8×" }, { value: 0.5, label: "(b) cache hits 0.5×" }] }, 0, width)
  const b = panel({ title: "p99 latency, ms (log scale)", bars: p99Bars, log: true,
    lines: [
      ...(r.faults === undefined ? [] : [{ value: r.faults.settings.deadlineMs, label: "deadline" }]),
      ...(r.breaker === undefined ? [] : [{ value: OPEN_P99_TARGET_MS, label: `(e) ${OPEN_P99_TARGET_MS} ms` }])
    ] }, a.height + 10, width)
  const verdicts = r.targets.map((t) => `${t.verdict} ${t.measured}`).join(" · ")
  const height = a.height + b.height + 50
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    a.svg, b.svg,
    `<text x="10" y="${height - 28}" font-size="11" fill="#333">precall benchmark ${esc(r.startedAt)} (${r.mode}), ${r.machine.cpus} CPUs, Node ${esc(r.machine.node)}</text>`,
    `<text x="10" y="${height - 12}" font-size="10" fill="#333">${esc(verdicts)}</text>`,
    "</svg>"
  ].join("\n")
}

export const writeReport = (r: Report, base: string): ReadonlyArray<string> => {
  const files = [`${base}.json`, `${base}.md`, `${base}.svg`]
  writeFileSync(files[0]!, `${JSON.stringify(r, null, 2)}\n`)
  writeFileSync(files[1]!, `${markdown(r)}\n`)
  writeFileSync(files[2]!, `${svg(r)}\n`)
  return files
}
