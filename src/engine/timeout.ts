/**
 * `Effect.timeoutOption` for the decision path: one fiber instead of two, and no wait for a spent
 * timer.
 *
 * effect's `timeoutOption` is `raceFirst(asSome(self), as(sleep(d), none))`: both sides run as
 * fibers of their own, and when `self` wins the race the parent also waits for the sleeping fiber
 * to be interrupted and finish before it goes on. The engine times every attempt and every decision,
 * so those two fibers and that wait were paid twice per decision for a timer nobody needed any more.
 *
 * Here only `self` runs as a fiber, on the parent's context (its Clock, its span, its references).
 * The timer is a plain `setTimeout` when the Clock in context is effect's live one (whose `sleep` is
 * that `setTimeout`); under any other Clock (TestClock in tests) it is a fiber sleeping on that
 * Clock, as before. When `self` wins, the timer is stopped and the decision goes on at once; when
 * the timer wins, `self` is interrupted and awaited before the timeout's answer is given; when the
 * caller is interrupted, both are, and `self` is awaited.
 */
import { Clock, type Context, Duration, Effect, Exit, Fiber } from "effect"

/** The class of effect's live Clock: the Clock reference's default. */
const LiveClock = Clock.Clock.defaultValue().constructor

/** The longest delay `setTimeout` takes as given (larger ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Calls `onTimeout` once `duration` has passed on the fiber's Clock; the returned function stops
 * the timer (a no-op once it fired).
 */
const startTimer = (parent: Fiber.Fiber<unknown, unknown>, duration: Duration.Duration, onTimeout: () => void): (() => void) => {
  const clock = parent.getRef(Clock.Clock)
  const ms = Duration.toMillis(duration)
  if (clock.constructor === LiveClock && ms > 0 && ms <= MAX_TIMER_MS) {
    const handle = setTimeout(onTimeout, ms)
    return () => clearTimeout(handle)
  }
  const sleeping = Effect.runForkWith(parent.context)(clock.sleep(duration))
  sleeping.addObserver((exit) => {
    if (Exit.isSuccess(exit)) onTimeout()
  })
  return () => sleeping.interruptUnsafe()
}

/**
 * `ended(exit, context)` as an exit, a throw included (as a defect): it runs in the work fiber's
 * exit observer, outside any run loop that would catch it.
 */
const settled = <A, E, B, E2>(
  ended: (exit: Exit.Exit<A, E>, context: Context.Context<never>) => Exit.Exit<B, E2>,
  exit: Exit.Exit<A, E>,
  context: Context.Context<never>
): Exit.Exit<B, E2> => {
  try {
    return ended(exit, context)
  } catch (defect) {
    return Exit.die(defect)
  }
}

/**
 * Runs `self` as a fiber and waits for it or for the timer, whichever comes first. `ended` turns
 * `self`'s exit into the answer; `timedOut` gives the answer once the timer won and `self` was
 * interrupted and awaited. Both are called with the caller's context, before the caller goes on.
 */
const cutAt = <A, E, B, E2>(
  self: Effect.Effect<A, E>,
  duration: Duration.Duration,
  ended: (exit: Exit.Exit<A, E>, context: Context.Context<never>) => Exit.Exit<B, E2>,
  timedOut: (context: Context.Context<never>) => Exit.Exit<B, E2>
): Effect.Effect<B, E2> =>
  Effect.withFiber((parent) => {
    // an effect that is already its exit (each step answered at once) has nothing to cut: no fiber, no timer
    if (Exit.isExit(self)) return ended(self as Exit.Exit<A, E>, parent.context)
    const work = Effect.runForkWith(parent.context)(self)
    const finished = work.pollUnsafe()
    if (finished !== undefined) return ended(finished, parent.context)
    return Effect.callback<B, E2>((resume) => {
      let done = false
      const stopTimer = startTimer(parent, duration, () => {
        if (done) return
        done = true
        resume(Effect.andThen(Fiber.interrupt(work), Effect.suspend(() => timedOut(parent.context))))
      })
      work.addObserver((exit) => {
        if (done) return
        done = true
        stopTimer()
        resume(settled(ended, exit, parent.context))
      })
      return Effect.suspend(() => {
        done = true
        stopTimer()
        return Fiber.interrupt(work)
      })
    })
  })

/**
 * `self` cut at `duration`, as effect's `timeoutOption` cuts it; `answer` turns how it ended (its
 * exit, or `undefined` once the timer won and `self` was interrupted and awaited) into the result,
 * with the caller's context and no Effect steps of its own: the engine reads a decision's facts there.
 */
export const timeoutWith = <A, E, B, E2>(
  self: Effect.Effect<A, E>,
  duration: Duration.Duration,
  answer: (exit: Exit.Exit<A, E> | undefined, context: Context.Context<never>) => Exit.Exit<B, E2>
): Effect.Effect<B, E2> => cutAt(self, duration, answer, (context) => answer(undefined, context))

/**
 * `self` cut at `duration`, as `timeoutWith` runs it, failing with `onTimeout()` when the timer
 * wins. `observe` is told how the run ended (the timeout's failure included), with the fiber's
 * context, before the caller goes on: the engine records each provider attempt there, with no Effect
 * steps of its own.
 */
export const timeoutFail = <A, E>(
  self: Effect.Effect<A, E>,
  duration: Duration.Duration,
  onTimeout: () => E,
  observe: (exit: Exit.Exit<A, E>, context: Context.Context<never>) => void
): Effect.Effect<A, E> => {
  const ended = (exit: Exit.Exit<A, E>, context: Context.Context<never>): Exit.Exit<A, E> => {
    observe(exit, context)
    return exit
  }
  return cutAt(self, duration, ended, (context) => ended(Exit.fail(onTimeout()), context))
}
