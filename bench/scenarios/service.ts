/**
 * Scenario (b): the HTTP service, `POST /v1/decisions` with a live provider call per decision to the
 * emulator process, under autocannon at 64 connections, against
 * - a bare node:http server that parses the same JSON body and answers JSON (no provider call);
 * - the skeleton (bench/skeleton-server.ts): node:http plus the same V3-signed undici call and the
 *   status mapped to a decision, with no policy: what any pre-call service must spend;
 * and precall's service once more with every answer from its status cache (no provider call), to
 * set against the bare server. Each server runs in its own process; autocannon runs here.
 */
import autocannon from "autocannon"
import type { DecideRequestInput } from "../../src/index.ts"
import type { Target } from "../contenders.ts"
import { LIVE_ENV } from "../live.ts"
import type { EmulatorProcess } from "../emulator.ts"
import { type Child, freePort, startChild } from "../procs.ts"
import type { Progress } from "../progress.ts"

export interface ServiceRow {
  readonly name: ServiceName
  readonly connections: number
  readonly requests: number
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
  readonly errors: number
  /** CPU of the server process per request, µs. */
  readonly serverCpuMicrosPerRequest: number
  /** Emulator requests per HTTP request (1: one live provider call per decision). */
  readonly providerCallsPerRequest: number
  readonly emulatorCpuMicrosPerRequest: number
  /** The service's decisions over the measured phase by `decision/source`, from its /metrics. */
  readonly decisions?: Readonly<Record<string, number>>
}

export const SERVICE_NAMES = ["bare node:http", "skeleton (node:http + undici, no policy)", "precall service", "precall service (status-cache hits)"] as const
export type ServiceName = (typeof SERVICE_NAMES)[number]

export interface ServiceOptions {
  readonly connections: number
  /** Measured time per server, over all its blocks. */
  readonly durationS: number
  /** Warm-up of each server once started. */
  readonly warmupS: number
  /** Blocks per server: the servers take turns, one block each per round. */
  readonly rounds: number
  /** Load before each block that is not counted: new connections, and the provider's kept-alive ones back. */
  readonly blockWarmupS: number
  /**
   * Fresh processes per server: the rounds are split evenly over this many sets of server processes,
   * each set started and warmed up in turn, so that no server's figure hangs on one process' speed
   * (bench/scenarios/library.ts). Divides `rounds`.
   */
  readonly serverSets: number
}

export const API_KEY = "bench-key-0123456789abcdef"

/**
 * The service process on a free port, configured for live decisions against the emulator; `env`
 * overrides (e.g. PRECALL_STATUS_TTL_MS, PRECALL_REDIS_URL).
 */
export const startServiceProcess = async (
  emulatorUrl: string,
  execArgv?: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {}
): Promise<Child> => {
  const port = await freePort()
  return startChild(new URL("../service-process.ts", import.meta.url).pathname, {
    ...LIVE_ENV, BENCH_SERVICE_PORT: String(port), PRECALL_ALIYUN_ENDPOINT: emulatorUrl, PRECALL_API_KEYS: API_KEY, ...env
  }, { readyUrl: `http://127.0.0.1:${port}/healthz`, quietStdout: true, ...(execArgv === undefined ? {} : { execArgv }) })
}

/** One request body per target. */
export const decisionBodies = (targets: ReadonlyArray<Target>): Array<string> =>
  targets.map((t) => {
    const request: DecideRequestInput = { poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: t.callerNo }
    return JSON.stringify(request)
  })

/** Each connection sends its own body (its own binding), so no two identical requests are in flight. */
export const load = async (url: string, bodies: ReadonlyArray<string>, connections: number, durationS: number, progress: Progress, phase: string) => {
  let next = 0
  const instance = autocannon({
    url: `${url}/v1/decisions`, method: "POST", connections, duration: durationS, timeout: 10, body: bodies[0]!,
    headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
    setupClient: (client) => client.setBody(bodies[next++ % bodies.length]!)
  })
  let done = 0
  const t0 = Date.now()
  instance.on("response", () => void done++)
  const ticker = setInterval(() => progress.tick(`${phase} ${((Date.now() - t0) / 1000).toFixed(1)} s, ${done} requests, ${Math.round(done / ((Date.now() - t0) / 1000))}/s`), 500)
  try {
    return await instance
  } finally {
    clearInterval(ticker)
  }
}

/** One measured block of `server`: its figures, to be merged with its other blocks. */
interface Block {
  readonly requests: number
  readonly durationS: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
  readonly errors: number
  readonly cpuMicros: number
  readonly emulatorRequests: number
  readonly emulatorCpuMicros: number
  readonly decisions?: Map<string, number>
}

const measureBlock = async (name: ServiceName, server: Child, emulator: EmulatorProcess, bodies: ReadonlyArray<string>, o: ServiceOptions, progress: Progress): Promise<Block> => {
  if (o.blockWarmupS > 0) await load(server.url, bodies, o.connections, o.blockWarmupS, progress, "warm-up")
  const hasMetrics = name.startsWith("precall service")
  const before = hasMetrics ? await decisionCounts(server.url) : undefined
  await emulator.resetStats()
  const cpu0 = await server.cpuMicros()
  const r = await load(server.url, bodies, o.connections, o.durationS / o.rounds, progress, "measure")
  const cpuMicros = (await server.cpuMicros()) - cpu0
  const stats = await emulator.stats()
  const after = before === undefined ? undefined : await decisionCounts(server.url)
  return {
    requests: r.requests.total, durationS: r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, cpuMicros,
    emulatorRequests: stats.totalRequests, emulatorCpuMicros: stats.cpu.userMicros + stats.cpu.systemMicros,
    ...(after === undefined ? {} : { decisions: new Map([...after].map(([k, n]) => [k, n - (before?.get(k) ?? 0)])) })
  }
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!
}

/** A server's blocks as one row: sums over the blocks; p50 and p99 are the blocks' medians (autocannon reports percentiles per run). */
const mergeBlocks = (name: ServiceName, connections: number, blocks: ReadonlyArray<Block>): ServiceRow => {
  const sum = (f: (b: Block) => number) => blocks.reduce((a, b) => a + f(b), 0)
  const total = sum((b) => b.requests)
  const emulatorRequests = sum((b) => b.emulatorRequests)
  const decisions = new Map<string, number>()
  for (const b of blocks) for (const [k, n] of b.decisions ?? []) decisions.set(k, (decisions.get(k) ?? 0) + n)
  const counted = [...decisions].filter(([, n]) => n !== 0)
  return {
    name, connections, requests: total, throughput: total / sum((b) => b.durationS), p50: median(blocks.map((b) => b.p50)), p99: median(blocks.map((b) => b.p99)),
    non2xx: sum((b) => b.non2xx), errors: sum((b) => b.errors), serverCpuMicrosPerRequest: total === 0 ? 0 : sum((b) => b.cpuMicros) / total,
    providerCallsPerRequest: total === 0 ? 0 : emulatorRequests / total,
    emulatorCpuMicrosPerRequest: emulatorRequests === 0 ? 0 : sum((b) => b.emulatorCpuMicros) / emulatorRequests,
    ...(name.startsWith("precall service") ? { decisions: Object.fromEntries(counted) } : {})
  }
}

/** `precall_decisions_total{decision="use-x",source="provider"} 12` lines of the service's /metrics, as counts. */
export const decisionCounts = async (url: string): Promise<Map<string, number>> => {
  const counts = new Map<string, number>()
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })
  for (const line of (await res.text()).split("\n")) {
    const m = /^precall_decisions_total\{(.*)\}\s+([\d.e+]+)/.exec(line)
    if (m === null) continue
    const label = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(m[1]!)?.[1] ?? "?"
    counts.set(`${label("decision")}/${label("source")}`, Number(m[2]))
  }
  return counts
}

const describe = (r: ServiceRow): string =>
  `${r.throughput.toFixed(0)}/s, p50 ${r.p50} ms, p99 ${r.p99} ms, server ${r.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req, ` +
  `${r.providerCallsPerRequest.toFixed(2)} provider calls/req` +
  (r.decisions === undefined ? "" : `, decisions ${Object.entries(r.decisions).map(([k, n]) => `${k} ${n}`).join(", ")}`) + (r.non2xx + r.errors > 0 ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : "")

export const serviceSteps = (o: Pick<ServiceOptions, "rounds" | "serverSets">): number => SERVICE_NAMES.length * (o.rounds + o.serverSets)

/** Long enough that no cached answer expires during a run's warm-up and measurement. */
const CACHE_HIT_TTL_MS = "60000"

const startServer = (name: ServiceName, emulator: EmulatorProcess): Promise<Child> => {
  switch (name) {
    case "bare node:http": return startChild(new URL("../bare-server.ts", import.meta.url).pathname, {})
    case "skeleton (node:http + undici, no policy)":
      return startChild(new URL("../skeleton-server.ts", import.meta.url).pathname, { BENCH_EMULATOR_URL: emulator.url })
    case "precall service": return startServiceProcess(emulator.url)
    case "precall service (status-cache hits)": return startServiceProcess(emulator.url, undefined, { PRECALL_STATUS_TTL_MS: CACHE_HIT_TTL_MS })
  }
}

/**
 * Every server started and warmed up first; then `rounds` rounds in which each takes a turn of one
 * block (in order, then in reverse, ...), so this VM's drifting speed falls on all of them alike.
 * The servers are started anew `serverSets` times, each set serving its share of the rounds.
 */
export const runService = async (emulator: EmulatorProcess, targets: ReadonlyArray<Target>, o: ServiceOptions, progress: Progress): Promise<Array<ServiceRow>> => {
  if (o.serverSets < 1 || o.rounds % o.serverSets !== 0) throw new Error(`service: ${o.rounds} rounds do not split over ${o.serverSets} server sets`)
  const roundsPerSet = o.rounds / o.serverSets
  const bodies = decisionBodies(targets)
  const blocks = SERVICE_NAMES.map((): Array<Block> => [])
  for (let set = 0; set < o.serverSets; set++) {
    const servers: Array<Child> = []
    try {
      for (const name of SERVICE_NAMES) {
        progress.step(`service: start and warm up ${name}, ${o.connections} connections${o.serverSets > 1 ? `, process ${set + 1}/${o.serverSets}` : ""}`)
        const server = await startServer(name, emulator)
        servers.push(server)
        if (o.warmupS > 0) await load(server.url, bodies, o.connections, o.warmupS, progress, "warm-up")
        progress.done(server.url)
      }
      for (let inSet = 0; inSet < roundsPerSet; inSet++) {
        const round = set * roundsPerSet + inSet
        const order = SERVICE_NAMES.map((_, i) => (round % 2 === 0 ? i : SERVICE_NAMES.length - 1 - i))
        for (const i of order) {
          progress.step(`service: ${SERVICE_NAMES[i]}, ${o.connections} connections, round ${round + 1}/${o.rounds}`)
          const block = await measureBlock(SERVICE_NAMES[i]!, servers[i]!, emulator, bodies, o, progress)
          blocks[i]!.push(block)
          const blockText = `${(block.requests / block.durationS).toFixed(0)}/s, server ${(block.cpuMicros / Math.max(1, block.requests)).toFixed(0)} µs CPU/req`
          progress.done(round < o.rounds - 1 ? blockText : `${blockText}; all rounds: ${describe(mergeBlocks(SERVICE_NAMES[i]!, o.connections, blocks[i]!))}`)
        }
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()))
    }
  }
  return SERVICE_NAMES.map((name, i) => mergeBlocks(name, o.connections, blocks[i]!))
}
