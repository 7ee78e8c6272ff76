/** The emulator process and its control API (docs/emulator.md), as the benchmark uses them. */
import type { AliyunEmulatorOptions, CreatedBinding, FaultSpec, StatsView } from "../src/emulator/aliyun/index.ts"
import { type Child, startChild } from "./procs.ts"

export interface EmulatorProcess extends Child {
  readonly createBinding: (input: { mode: "AXB"; phoneNoA: string; phoneNoB: string; ttlSeconds: number }) => Promise<CreatedBinding>
  readonly setFault: (action: string, spec: FaultSpec) => Promise<void>
  readonly clearFaults: () => Promise<void>
  readonly resetStats: () => Promise<void>
  readonly stats: () => Promise<StatsView>
}

export const startEmulatorProcess = async (options: AliyunEmulatorOptions): Promise<EmulatorProcess> => {
  const child = await startChild(new URL("./emulator-process.ts", import.meta.url).pathname, {
    BENCH_EMULATOR_OPTIONS: JSON.stringify(options)
  })
  const control = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
    const res = await fetch(`${child.url}/_emulator${path}`, {
      method,
      signal: AbortSignal.timeout(5000),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
    })
    const text = await res.text()
    if (res.status >= 300) throw new Error(`emulator ${method} ${path}: ${res.status} ${text}`)
    return JSON.parse(text) as A
  }
  return {
    ...child,
    createBinding: (input) => control("POST", "/bindings", input),
    setFault: (action, spec) => control("PUT", `/faults/${encodeURIComponent(action)}`, spec),
    clearFaults: () => control("DELETE", "/faults"),
    resetStats: () => control("POST", "/stats/reset"),
    stats: () => control("GET", "/stats")
  }
}

/** Emulator CPU (user + system micros) per request served since the last stats reset. */
export const emulatorCpuPerRequest = (s: StatsView): number =>
  s.totalRequests === 0 ? 0 : (s.cpu.userMicros + s.cpu.systemMicros) / s.totalRequests
