/**
 * One call's turn under a calls-per-second limit, on effect's `RateLimiter` (any store).
 *
 * The bucket holds `burst` = ceil(perSecond / 1000) tokens (1 up to 1000/s) refilled at `perSecond`:
 * calls are spaced 1000/perSecond ms apart instead of bursting. A bucket as large as the limit would
 * let a full burst and a second's refill through within one second, nearly twice the limit in the
 * provider's per-second window. (effect's window is at least 1 ms, hence the small burst above 1000/s.)
 *
 * A slowed-down action (`halvings` > 0) reserves 2^halvings − 1 more turns after each call's own,
 * which nobody uses. The bucket keeps its size and its refill, so turns already reserved keep their
 * place when the rate changes: refilling more slowly would re-price them (once the rate went up again,
 * calls reserved at the slow rate would go out alongside new ones at the full rate), and a bucket grown
 * to hold a dearer call could hold a burst of cheap ones once the rate went up.
 *
 * A call that must wait takes a reservation only when the wait fits its `maxWaitMs`: it first asks in
 * "fail" mode, which reserves nothing and answers with the wait behind every reservation already made;
 * only then in "delay" mode, which reserves. Reserving first and giving up afterwards (plain "delay")
 * keeps the reservations of calls that gave up: with demand above the limit the queue then grows without
 * bound and, once it is longer than any budget, no call goes out at all. Between the two, other calls
 * may reserve: the reservation then lands a few turns later, and is used if it still comes before
 * `deadlineMs` (a turn given up would be a turn lost).
 */
import { Duration, Effect } from "effect"
import type { RateLimiter } from "effect/persistence"

export type Turn =
  /** Go after `delayMs` (0: at once); the turn is taken. */
  | { readonly _tag: "Go"; readonly delayMs: number }
  /** No turn within the budget; the next is `waitMs` away. Nothing was taken (but see above). */
  | { readonly _tag: "Full"; readonly waitMs: number }

const goNow: Turn = { _tag: "Go", delayMs: 0 }
const goNowEffect = Effect.succeed(goNow)

type ConsumeOptions = Parameters<RateLimiter.RateLimiter["consume"]>[0]

/** The token bucket of a limit, as `RateLimiter.consume` takes it in each mode: made once per limit. */
export interface Bucket {
  readonly ask: ConsumeOptions
  readonly reserve: ConsumeOptions
}

export const bucketOf = (key: string, perSecond: number): Bucket => {
  const burst = Math.max(1, Math.ceil(perSecond / 1000))
  const window = Duration.millis((burst * 1000) / perSecond)
  const bucket = { key, algorithm: "token-bucket", limit: burst, window } as const
  return { ask: { ...bucket, onExceeded: "fail" }, reserve: { ...bucket, onExceeded: "delay" } }
}

export const takeTurn = (
  limiter: RateLimiter.RateLimiter,
  bucket: Bucket,
  wait: { readonly maxWaitMs: number; readonly deadlineMs: number },
  halvings = 0
): Effect.Effect<Turn, RateLimiter.RateLimiterError> => {
  const turn: Effect.Effect<Turn, RateLimiter.RateLimiterError> = Effect.matchEffect(limiter.consume(bucket.ask), {
    onSuccess: () => goNowEffect,
    onFailure: (e) => {
      if (e.reason._tag !== "RateLimitExceeded") return Effect.fail(e)
      const waitMs = Duration.toMillis(e.reason.retryAfter)
      if (waitMs > wait.maxWaitMs) return Effect.succeed<Turn>({ _tag: "Full", waitMs })
      return Effect.map(limiter.consume(bucket.reserve), ({ delay }): Turn => {
        const delayMs = Duration.toMillis(delay)
        return delayMs < wait.deadlineMs ? { _tag: "Go", delayMs } : { _tag: "Full", waitMs: delayMs }
      })
    }
  })
  if (halvings === 0) return turn
  return Effect.flatMap(turn, (taken) =>
    taken._tag === "Full" ? Effect.succeed<Turn>(taken) : Effect.as(limiter.consume({ ...bucket.reserve, tokens: 2 ** halvings - 1 }), taken))
}
