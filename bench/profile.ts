/**
 * Where precall's time goes. Two uses:
 *   node --cpu-prof --cpu-prof-dir=bench/results bench/profile.ts [concurrency] [seconds] [contender]
 *     runs only one contender (precall unless named; emulator in its own process) for a few seconds;
 *   node bench/profile.ts --service [seconds] [top]
 *     runs the HTTP service process under --cpu-prof with 64 autocannon connections, then summarizes
 *     (BENCH_CACHE_HITS=1: with a 60 s status TTL, so after the first answers every one is a cache hit);
 *   node bench/profile.ts --summarize <file.cpuprofile> [top]
 *     prints self time by function and by file (src/ files, node_modules packages, node internals);
 *   node bench/profile.ts --alloc [contender] [decisions] [top]
 *     bytes allocated per decision by function (V8's sampling heap profiler, every 1 KB, objects the
 *     GC has since collected included): what a decision leaves for the young generation to collect;
 *   node bench/profile.ts --instructions [live|production] [decisions] [at-once|next-turn]
 *     machine instructions per decision (bench/instructions.ts under valgrind's callgrind, which
 *     counts instructions, not time): two runs, 2,000 decisions and 2,000 + `decisions`, and the
 *     difference per decision, so start-up and warm-up cancel out. Repeats within about 0.5 %,
 *     where timings on this VM move by tens of percent: for A/B of a change to precall's own CPU.
 *     `next-turn`: the provider's reply comes on the next event-loop turn, as a socket's does, so
 *     the cost of waiting for it (timers, fibers suspending and resuming) is counted as well;
 *   node bench/profile.ts --service-instructions [precall|precall-hits|skeleton|bare] [requests]
 *     machine instructions per HTTP request of one of scenario (b)'s servers, counted under callgrind
 *     over `requests` requests (default 15,000) after a warm-up (bench/service-instructions.ts).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { closedLoop } from "./driver.ts"
import { startEmulatorProcess } from "./emulator.ts"
import { makeTargets } from "./run-helpers.ts"
import { CONTENDERS, type ContenderName, makeContender } from "./contenders.ts"
import { makeProgress } from "./progress.ts"
import { decisionBodies, load, startServiceProcess } from "./scenarios/service.ts"
import { callgrindNode, INSTRUMENTED_SERVERS, type InstrumentedServer, serviceInstructions } from "./service-instructions.ts"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** A short file name: `src/...`, `effect/dist/...` (package-relative), `node:...` or `(native)`. */
const where = (url: string): string => {
  if (url === "") return "(native)"
  const nm = /node_modules\/(.*)$/.exec(url)
  if (nm !== null) return nm[1]!
  const own = /\/((?:src|bench)\/.*)$/.exec(url)
  return own !== null ? own[1]! : url
}
const packageOf = (file: string): string =>
  file.startsWith("src/") || file.startsWith("bench/") ? "precall src/" : file.startsWith("node:") ? "node internals" : file === "(native)" ? "(native: gc, syscalls, crypto, ...)" : /^((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file

export const summarize = (file: string, top = 25): string => {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const label = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"}  ${where(n.callFrame.url)}${n.callFrame.url === "" ? "" : `:${n.callFrame.lineNumber + 1}`}`
  let total = 0
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us)
  const byPackage = new Map<string, number>()
  const byFile = new Map<string, number>()
  const byFn = new Map<string, number>()
  /** Time with a precall src/ function on the stack, each function counted once per sample. */
  const inclusiveSrc = new Map<string, number>()
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0
    const n = byId.get(id)!
    if (n.callFrame.functionName === "(idle)" || n.callFrame.functionName === "(program)") return
    total += us
    const f = where(n.callFrame.url)
    add(byPackage, packageOf(f), us)
    add(byFile, f, us)
    add(byFn, label(n), us)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!
      if (!/\/src\//.test(frame.callFrame.url)) continue
      const k = label(frame)
      if (!seen.has(k)) (seen.add(k), add(inclusiveSrc, k, us))
    }
  })
  const table = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `${(100 * us / total).toFixed(1).padStart(5)} %  ${k}`).join("\n")
  return [
    `busy ${(total / 1000).toFixed(0)} ms (idle and "(program)" left out)`,
    `self time by package:\n${table(byPackage)}`,
    `self time by file:\n${table(byFile)}`,
    `self time by function:\n${table(byFn)}`,
    `inclusive time of precall src/ functions (stack contains it):\n${table(inclusiveSrc)}`
  ].join("\n\n") + "\n"
}

interface SamplingNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: ReadonlyArray<SamplingNode>
}

/** Allocation by function for `decisions` decisions of a contender at concurrency 16, after a warm-up. */
const allocations = async (name: ContenderName, decisions: number, top: number): Promise<string> => {
  const emulator = await startEmulatorProcess({ verifySignatures: false })
  try {
    const targets = await makeTargets(emulator, 64)
    const c = await makeContender(name, emulator.url, { strict: true })
    const run = async (n: number) => {
      let started = 0
      await Promise.all(Array.from({ length: 16 }, async (_, w) => {
        while (started < n) {
          started++
          await c.call(targets[w % targets.length]!)
        }
      }))
    }
    await run(3000)
    const session = new Session()
    session.connect()
    await session.post("HeapProfiler.startSampling", { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    await run(decisions)
    const { profile } = await session.post("HeapProfiler.stopSampling")
    session.disconnect()
    await c.close()
    const byFunction = new Map<string, number>()
    let total = 0
    const walk = (n: SamplingNode) => {
      const k = `${n.callFrame.functionName || "(anonymous)"}  ${where(n.callFrame.url)}${n.callFrame.url === "" ? "" : `:${n.callFrame.lineNumber + 1}`}`
      total += n.selfSize
      byFunction.set(k, (byFunction.get(k) ?? 0) + n.selfSize)
      n.children.forEach(walk)
    }
    walk(profile.head as SamplingNode)
    const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, bytes]) => `${(bytes / decisions).toFixed(0).padStart(7)} B  ${k}`)
    return [`${name}: about ${(total / decisions).toFixed(0)} bytes allocated per decision (sampled)`, ...rows].join("\n") + "\n"
  } finally {
    await emulator.stop()
  }
}

/** Instructions valgrind counted for `decisions` decisions of bench/instructions.ts (start-up included). */
const countInstructions = (settings: string, decisions: number, reply: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const proc = spawn("valgrind", callgrindNode("/dev/null", new URL("./instructions.ts", import.meta.url).pathname), {
      env: { ...process.env, BENCH_INSTRUCTIONS: JSON.stringify({ decisions, settings, reply }) },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    proc.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)))
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15 * 60_000)
    proc.on("error", (e) => reject(new Error(`valgrind could not be started (is it installed?): ${e.message}`)))
    proc.on("close", (code) => {
      clearTimeout(timer)
      const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr)?.[1]
      if (code === 0 && refs !== undefined) resolve(Number(refs.replaceAll(",", "")))
      else reject(new Error(`valgrind exited with ${code}: ${stderr.trim().split("\n").slice(-5).join("\n")}`))
    })
  })

/** A contender named on the command line, or `precall` when none is. */
const contenderArg = (arg: string | undefined): ContenderName => {
  const name = arg ?? "precall"
  if (!(CONTENDERS as ReadonlyArray<string>).includes(name)) throw new Error(`no contender ${name}: one of ${CONTENDERS.join(", ")}`)
  return name as ContenderName
}

if (process.argv[2] === "--instructions") {
  const settings = process.argv[3] ?? "live"
  if (settings !== "live" && settings !== "production") throw new Error(`--instructions takes live or production, not ${settings}`)
  const decisions = Number(process.argv[4] ?? 10_000)
  const reply = process.argv[5] ?? "at-once"
  if (reply !== "at-once" && reply !== "next-turn") throw new Error(`--instructions replies at-once or next-turn, not ${reply}`)
  const base = 2_000
  const [short, long] = await Promise.all([countInstructions(settings, base, reply), countInstructions(settings, base + decisions, reply)])
  process.stdout.write(`${settings}, reply ${reply}: ${((long - short) / decisions).toFixed(0)} instructions per decision ` +
    `(${short.toLocaleString("en")} for ${base}, ${long.toLocaleString("en")} for ${base + decisions})\n`)
} else if (process.argv[2] === "--service-instructions") {
  const server = (process.argv[3] ?? "precall") as InstrumentedServer
  if (!INSTRUMENTED_SERVERS.includes(server)) throw new Error(`--service-instructions takes ${INSTRUMENTED_SERVERS.join(", ")}, not ${server}`)
  const requests = Number(process.argv[4] ?? 15_000)
  process.stdout.write(`${server}: ${(await serviceInstructions(server, requests)).toFixed(0)} instructions per request (${requests} requests)\n`)
} else if (process.argv[2] === "--alloc") {
  process.stdout.write(await allocations(contenderArg(process.argv[3]), Number(process.argv[4] ?? 20_000), Number(process.argv[5] ?? 30)))
} else if (process.argv[2] === "--summarize") {
  process.stdout.write(summarize(process.argv[3]!, Number(process.argv[4] ?? 25)))
} else if (process.argv[2] === "--service") {
  // The service process under --cpu-prof, 64 autocannon connections for a few seconds, then its profile summarized.
  const seconds = Number(process.argv[3] ?? 8)
  const dir = mkdtempSync(join(tmpdir(), "precall-service-prof-"))
  const emulator = await startEmulatorProcess({ verifySignatures: false })
  try {
    const targets = await makeTargets(emulator, 64)
    const service = await startServiceProcess(emulator.url, ["--cpu-prof", `--cpu-prof-dir=${dir}`], process.env.BENCH_CACHE_HITS === "1" ? { PRECALL_STATUS_TTL_MS: "60000" } : {})
    const r = await load(service.url, decisionBodies(targets), 64, seconds, makeProgress(1), "load")
    process.stderr.write(`\nservice: ${(r.requests.total / r.duration).toFixed(0)} req/s, ${r.non2xx} non-2xx\n`)
    await service.stop()
  } finally {
    await emulator.stop()
  }
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
  if (file === undefined) throw new Error(`no profile written to ${dir}`)
  process.stdout.write(`${join(dir, file)}\n${summarize(join(dir, file), Number(process.argv[4] ?? 30))}`)
} else {
  const concurrency = Number(process.argv[2] ?? 16)
  const seconds = Number(process.argv[3] ?? 5)
  const emulator = await startEmulatorProcess({ verifySignatures: false })
  try {
    const targets = await makeTargets(emulator, 64)
    const name = contenderArg(process.argv[4])
    const c = await makeContender(name, emulator.url, { strict: true })
    const r = await closedLoop((w) => c.call(targets[w % targets.length]!), {
      concurrency, durationMs: seconds * 1000, warmupMs: 500, maxCount: 1_000_000
    })
    await c.close()
    process.stderr.write(`${name} at ${concurrency}: ${r.throughput.toFixed(0)}/s, ${r.cpuMicrosPerOp.toFixed(0)} µs CPU/op, ${r.errors} errors\n`)
  } finally {
    await emulator.stop()
  }
}
