/**
 * One call's turn under a calls-per-second limit, in a token bucket of effect's `RateLimiterStore`
 * (its memory store, or RedisRateLimiterStore).
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
 *
 * The turn is asked of the store's `tokenBucket` directly, with the bucket's options made once, and
 * its answer read as `RateLimiter.consume` reads it (the wait: the tokens missing times the refill
 * interval, less the time since the last refill). `consume` rebuilds the bucket's Durations and its
 * answer's on every call, in two more effect steps: a decision with a limit configured and idle took
 * 384,800 instructions through `consume` and 369,200 this way, against 355,200 without a limit
 * (bench/profile.ts --instructions, docs/performance.md round 10).
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

export type TokenBucketStore = Pick<RateLimiter.RateLimiterStore["Service"], "tokenBucket">
type TokenBucketOptions = Parameters<TokenBucketStore["tokenBucket"]>[0]

/** The token bucket of a limit, as the store takes it for each question: made once per limit. */
export interface Bucket {
  /** One turn if there is one now, else nothing taken ("fail" mode). */
  readonly ask: TokenBucketOptions
  /** One turn, reserved however far ahead it is ("delay" mode). */
  readonly reserve: TokenBucketOptions
  /** Ms between two tokens. */
  readonly refillMs: number
}

export const bucketOf = (key: string, perSecond: number): Bucket => {
  const burst = Math.max(1, Math.ceil(perSecond / 1000))
  // effect's window is at least 1 ms; the refill interval is the window over the burst
  const windowMs = Math.max(1, (burst * 1000) / perSecond)
  const refillRate = Duration.millis(windowMs / burst)
  const bucket = { key, tokens: 1, limit: burst, refillRate }
  return { ask: { ...bucket, allowOverflow: false }, reserve: { ...bucket, allowOverflow: true }, refillMs: Duration.toMillis(refillRate) }
}

/** Ms until the bucket's answer is a turn: `RateLimiter.consume`'s delay. */
const waitOf = (bucket: Bucket, remaining: number, elapsedMs: number): number =>
  Math.max(0, Math.ceil(-remaining) * bucket.refillMs - elapsedMs)

/** The bucket's answer to `ask` when it had no turn free: a reservation if the wait fits, else Full. */
export const turnAfterAsking = (
  store: TokenBucketStore,
  bucket: Bucket,
  wait: { readonly maxWaitMs: number; readonly deadlineMs: number },
  [remaining, elapsedMs]: readonly [remaining: number, elapsedMs: number]
): Effect.Effect<Turn, RateLimiter.RateLimiterError> => {
  const waitMs = waitOf(bucket, remaining, elapsedMs)
  if (waitMs > wait.maxWaitMs) return Effect.succeed<Turn>({ _tag: "Full", waitMs })
  return Effect.map(store.tokenBucket(bucket.reserve), ([remaining, elapsedMs]): Turn => {
    const delayMs = waitOf(bucket, remaining, elapsedMs)
    return delayMs < wait.deadlineMs ? { _tag: "Go", delayMs } : { _tag: "Full", waitMs: delayMs }
  })
}

export const takeTurn = (
  store: TokenBucketStore,
  bucket: Bucket,
  wait: { readonly maxWaitMs: number; readonly deadlineMs: number },
  halvings = 0
): Effect.Effect<Turn, RateLimiter.RateLimiterError> => {
  const turn: Effect.Effect<Turn, RateLimiter.RateLimiterError> = Effect.flatMap(store.tokenBucket(bucket.ask), (asked) =>
    asked[0] >= 0 ? goNowEffect : turnAfterAsking(store, bucket, wait, asked))
  if (halvings === 0) return turn
  return Effect.flatMap(turn, (taken) =>
    taken._tag === "Full" ? Effect.succeed<Turn>(taken) : Effect.as(store.tokenBucket({ ...bucket.reserve, tokens: 2 ** halvings - 1 }), taken))
}
