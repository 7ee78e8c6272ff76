/**
 * The platform's pushes to the customer's callback URL (huawei.md §4): JSON POSTs signed like API
 * calls, with the app's key and secret under its scheme (X-AKSK or X-WSSE), acknowledged by HTTP 200.
 *
 * A push without a 200 (another status, a refused connection, no answer within `timeoutMs`) is
 * pushed again 1, 4, 9, 106, 203 and 300 minutes after each failed try (read as intervals, as
 * precall's receiver does for its replay memory), then given up. The waits run on the emulator clock:
 * `advanceClock` makes due re-pushes go out at once, and a real-time timer covers an emulator that
 * is simply left running. Pushes go out one at a time, in order, so a call's events and its CDR
 * arrive in the order the platform sends them. Each try is signed afresh (new nonce and `Created`),
 * so a receiver's replay check never mistakes a re-push for a replay.
 */
import type { EmulatorClock } from "../aliyun/clock.ts"
import { createdOf, newNonce, signedHeaders } from "../../providers/huawei/signature.ts"
import type { HuaweiAuth } from "../../providers/huawei/signature.ts"
import { huaweiApp } from "./auth.ts"
import type { ResolvedApp } from "./options.ts"

/** Minutes between tries after the first: 6 re-pushes. */
export const REPUSH_MINUTES: ReadonlyArray<number> = [1, 4, 9, 106, 203, 300]

/** Pushes remembered for `pushes()` (the oldest are forgotten first). */
const LOG_LIMIT = 1000

export type PushState = "pending" | "delivered" | "gave-up" | "no-callback"

export interface PushAttempt {
  /** Emulator time of the try, ISO UTC. */
  readonly at: string
  /** HTTP status of the receiver's answer; undefined when none came. */
  readonly status: number | undefined
  readonly error: string | undefined
}

export interface PushView {
  readonly id: number
  readonly eventType: string
  readonly appKey: string
  readonly body: Readonly<Record<string, unknown>>
  readonly state: PushState
  readonly attempts: ReadonlyArray<PushAttempt>
  /** Emulator time of the next re-push, ISO UTC, while one is due. */
  readonly nextAttemptAt: string | undefined
}

export interface PushStats {
  /** Push bodies created (numStatus, call events, CDRs). */
  readonly created: number
  /** HTTP tries, first pushes and re-pushes together. */
  readonly sent: number
  readonly delivered: number
  /** Tries without a 200. */
  readonly failed: number
  readonly gaveUp: number
  /** Waiting for a re-push. */
  readonly pending: number
}

interface Push {
  readonly id: number
  /** The outbox generation it belongs to: a try queued before a reset must not go out after it. */
  readonly generation: number
  readonly eventType: string
  readonly app: ResolvedApp
  readonly body: Readonly<Record<string, unknown>>
  state: PushState
  readonly attempts: Array<PushAttempt>
  nextAt: number | undefined
}

export interface OutboxOptions {
  readonly callbackUrl: string | undefined
  readonly pushAuth: HuaweiAuth | undefined
  readonly timeoutMs: number
  readonly clock: EmulatorClock
}

export class PushOutbox {
  private readonly options: OutboxOptions
  private readonly log: Array<Push> = []
  private nextId = 1
  private counts = { created: 0, sent: 0, delivered: 0, failed: 0, gaveUp: 0 }
  /** Tries run one after another on this chain. */
  private chain: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private abort = new AbortController()
  private generation = 0
  /** Where pushes go; set after start by `setCallbackUrl` when the receiver learns its port later. */
  private callbackUrl: string | undefined

  constructor(options: OutboxOptions) {
    this.options = options
    this.callbackUrl = options.callbackUrl
  }

  get url(): string | undefined {
    return this.callbackUrl
  }

  /** Pushes created from now on go to `url` (already validated); earlier ones keep their state. */
  setCallbackUrl(url: string | undefined): void {
    this.callbackUrl = url
  }

  /** Queues a push and its first try; answers its id. */
  push(app: ResolvedApp, body: Readonly<Record<string, unknown>>): number {
    const p: Push = { id: this.nextId++, generation: this.generation, eventType: String(body["eventType"]), app, body, state: "pending", attempts: [], nextAt: undefined }
    this.log.push(p)
    if (this.log.length > LOG_LIMIT) this.log.shift()
    this.counts.created++
    if (this.callbackUrl === undefined) p.state = "no-callback"
    else this.enqueue(p)
    return p.id
  }

  /** Sends every re-push whose time has come on the emulator clock (after an advance), then re-arms the timer. */
  runDue(): void {
    const now = this.options.clock.now()
    const due = this.log.filter((p) => p.state === "pending" && p.nextAt !== undefined && p.nextAt <= now)
    due.sort((a, b) => a.nextAt! - b.nextAt! || a.id - b.id)
    for (const p of due) {
      p.nextAt = undefined
      this.enqueue(p)
    }
    this.arm()
  }

  /** Resolves once every queued try has finished (a test awaits this instead of sleeping). */
  async settle(): Promise<void> {
    let seen: Promise<void> | undefined
    while (seen !== this.chain) {
      seen = this.chain
      await seen
    }
  }

  view(): ReadonlyArray<PushView> {
    return this.log.map((p) => ({
      id: p.id,
      eventType: p.eventType,
      appKey: p.app.appKey,
      body: p.body,
      state: p.state,
      attempts: [...p.attempts],
      nextAttemptAt: p.nextAt === undefined ? undefined : new Date(p.nextAt).toISOString()
    }))
  }

  stats(): PushStats {
    return { ...this.counts, pending: this.log.filter((p) => p.state === "pending").length }
  }

  /** Forgets every push and aborts tries under way. */
  reset(): void {
    this.stop()
    this.generation++
    this.abort = new AbortController()
    this.log.length = 0
    this.counts = { created: 0, sent: 0, delivered: 0, failed: 0, gaveUp: 0 }
  }

  stop(): void {
    this.abort.abort()
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private enqueue(p: Push): void {
    this.chain = this.chain.then(() => this.attempt(p))
  }

  private async attempt(p: Push): Promise<void> {
    const url = this.callbackUrl
    if (url === undefined || this.abort.signal.aborted || p.generation !== this.generation) return
    const at = new Date(this.options.clock.now()).toISOString()
    const app = { ...huaweiApp(p.app), auth: this.options.pushAuth ?? p.app.auth }
    let status: number | undefined
    let error: string | undefined
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json;charset=UTF-8", ...signedHeaders(app, newNonce(), createdOf(Date.now())) },
        body: JSON.stringify(p.body),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)])
      })
      status = res.status
      await res.arrayBuffer()
    } catch (e) {
      error = e instanceof Error ? (e.name === "TimeoutError" ? "timeout" : e.message) : String(e)
    }
    if (this.abort.signal.aborted && status === undefined) return
    this.counts.sent++
    p.attempts.push({ at, status, error })
    if (status === 200) {
      p.state = "delivered"
      this.counts.delivered++
      return
    }
    this.counts.failed++
    const wait = REPUSH_MINUTES[p.attempts.length - 1]
    if (wait === undefined) {
      p.state = "gave-up"
      this.counts.gaveUp++
      return
    }
    // the wait counts from when the try ended, on the emulator clock
    p.nextAt = this.options.clock.now() + wait * 60_000
    this.arm()
  }

  /** A real-time timer for the earliest re-push, so a running emulator re-pushes without anyone advancing its clock. */
  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const next = Math.min(...this.log.filter((p) => p.state === "pending" && p.nextAt !== undefined).map((p) => p.nextAt!))
    if (!Number.isFinite(next)) return
    this.timer = setTimeout(() => this.runDue(), Math.max(0, next - this.options.clock.now()))
    this.timer.unref()
  }
}
