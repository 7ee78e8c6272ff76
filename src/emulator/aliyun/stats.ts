/**
 * Request accounting for benchmarks: totals per action and per reply code, a per-second series over
 * the last minute (real time), and the emulator process's CPU time, so a benchmark can show that the
 * provider side was never the bottleneck.
 */

const SERIES_SECONDS = 60

/** Requests whose action could not be read are counted under this name (keeps the key set bounded). */
export const UNKNOWN_ACTION = "(unknown)"

export interface StatsView {
  /** ISO time of the last stats reset (or start). */
  readonly since: string
  readonly totalRequests: number
  /** Per action: requests in total and by reply code (`OK`, `isv.*`, gateway codes, `(hang)`, `(reset)`, `(malformed)`). */
  readonly actions: Readonly<Record<string, { readonly requests: number; readonly codes: Readonly<Record<string, number>> }>>
  /** Requests per wall-clock second, oldest first, for the last 60 seconds (zeros included). */
  readonly perSecond: ReadonlyArray<{ readonly second: string; readonly requests: number }>
  /** process.cpuUsage() since the last reset, in microseconds. */
  readonly cpu: { readonly userMicros: number; readonly systemMicros: number }
  readonly uptimeSeconds: number
}

export class Stats {
  private readonly realNow: () => number
  private readonly startedAt: number
  private since: number
  private cpuBase: NodeJS.CpuUsage
  private total = 0
  private readonly byAction = new Map<string, { requests: number; codes: Map<string, number> }>()
  private readonly buckets = new Float64Array(SERIES_SECONDS)
  private readonly bucketSecond = new Float64Array(SERIES_SECONDS).fill(-1)

  constructor(realNow: () => number = Date.now) {
    this.realNow = realNow
    this.startedAt = realNow()
    this.since = this.startedAt
    this.cpuBase = process.cpuUsage()
  }

  /** Counts a request when it arrives (the per-second series is about offered load). */
  arrived(): void {
    this.total++
    const second = Math.floor(this.realNow() / 1000)
    const i = second % SERIES_SECONDS
    if (this.bucketSecond[i] !== second) {
      this.bucketSecond[i] = second
      this.buckets[i] = 0
    }
    this.buckets[i]!++
  }

  /** Counts the outcome once the action and the reply code are known. */
  answered(action: string, code: string): void {
    let a = this.byAction.get(action)
    if (a === undefined) this.byAction.set(action, (a = { requests: 0, codes: new Map() }))
    a.requests++
    a.codes.set(code, (a.codes.get(code) ?? 0) + 1)
  }

  reset(): void {
    this.since = this.realNow()
    this.cpuBase = process.cpuUsage()
    this.total = 0
    this.byAction.clear()
    this.buckets.fill(0)
    this.bucketSecond.fill(-1)
  }

  view(): StatsView {
    const nowSecond = Math.floor(this.realNow() / 1000)
    const perSecond = Array.from({ length: SERIES_SECONDS }, (_, k) => {
      const second = nowSecond - (SERIES_SECONDS - 1) + k
      const i = second % SERIES_SECONDS
      return { second: new Date(second * 1000).toISOString(), requests: this.bucketSecond[i] === second ? this.buckets[i]! : 0 }
    })
    const cpu = process.cpuUsage(this.cpuBase)
    return {
      since: new Date(this.since).toISOString(),
      totalRequests: this.total,
      actions: Object.fromEntries(
        [...this.byAction].map(([name, a]) => [name, { requests: a.requests, codes: Object.fromEntries(a.codes) }])
      ),
      perSecond,
      cpu: { userMicros: cpu.user, systemMicros: cpu.system },
      uptimeSeconds: (this.realNow() - this.startedAt) / 1000
    }
  }
}
