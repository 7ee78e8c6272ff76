/**
 * In-process single-flight: identical requests in flight at once in this instance share one
 * decision. The first runs `decide` (the leader); the others await its Deferred within their budget.
 * The entry goes as soon as the leader is done: a later request asks again.
 *
 * A leader that dies or is interrupted (its caller gave up) leaves nothing to share. Its waiters then
 * start over, so one of them leads and the rest wait for it: a failed leader costs one more provider
 * call, not one per waiter. A waiter whose budget runs out first decides alone.
 */
import { Clock, Deferred, Duration, Effect, Option } from "effect"
import type { Decision } from "../domain/decision.ts"
import { joined } from "./joined.ts"

export type Coalesce = (key: string, budgetMs: number, decide: (budgetMs: number) => Effect.Effect<Decision>) => Effect.Effect<Decision>

export const makeInFlight = (): Coalesce => {
  const flights = new Map<string, Deferred.Deferred<Decision>>()

  /** The time left of a budget that started at `startedAt`. */
  const left = (startedAt: number, budgetMs: number) => Effect.map(Clock.currentTimeMillis, (now) => Math.max(0, startedAt + budgetMs - now))

  /**
   * Registers the flight inside its clean-up's reach, so no entry can be left behind: the clean-up is
   * in place before the entry is made (an interruption before that finds nothing to remove), and it
   * removes only its own entry. No mask is needed (it cost four Effect steps per decision).
   */
  const lead = (key: string, decide: (budgetMs: number) => Effect.Effect<Decision>, budgetLeft: number) => {
    const flight = Deferred.makeUnsafe<Decision>()
    return Effect.onExit(
      Effect.suspend(() => {
        flights.set(key, flight)
        return decide(budgetLeft)
      }),
      // done in the handler itself, which the fiber calls once the exit is known: no step of its own
      (exit) => {
        if (flights.get(key) === flight) flights.delete(key)
        Deferred.doneUnsafe(flight, exit)
        return Effect.void
      }
    )
  }

  /** Built when it runs, on the running fiber's `clock`. */
  const join = (
    clock: Clock.Clock,
    key: string,
    decide: (budgetMs: number) => Effect.Effect<Decision>,
    startedAt: number,
    budgetMs: number
  ): Effect.Effect<Decision> => {
    const running = flights.get(key)
    if (running === undefined) return lead(key, decide, Math.max(0, startedAt + budgetMs - clock.currentTimeMillisUnsafe()))
    return Effect.gen(function*() {
      const shared = yield* Effect.exit(Effect.timeoutOption(Deferred.await(running), Duration.millis(yield* left(startedAt, budgetMs))))
      if (shared._tag === "Failure") return yield* join(clock, key, decide, startedAt, budgetMs)
      return Option.isSome(shared.value) ? yield* joined(shared.value.value, startedAt) : yield* decide(yield* left(startedAt, budgetMs))
    })
  }

  return (key, budgetMs, decide) => Effect.clockWith((clock) => join(clock, key, decide, clock.currentTimeMillisUnsafe(), budgetMs))
}
