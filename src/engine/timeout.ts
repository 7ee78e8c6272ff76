/**
 * `Effect.timeoutOption` for the decision path, with the same fibers and one wait fewer.
 *
 * effect's `timeoutOption` is `raceFirst(asSome(self), as(sleep(d), none))`: both sides run as
 * fibers of their own, and when `self` wins the race the parent also waits for the sleeping fiber
 * to be interrupted and finish before it goes on. The engine times every attempt and every decision,
 * so that wait (scheduler turns on a busy event loop) was paid twice per decision for a timer
 * nobody needed any more. Here the timer fiber is told to stop (`interruptUnsafe`, which clears its
 * timer as it ends) and the decision goes on at once. Everything else is as in effect's race:
 * `self` and the timer run on the parent's context (its Clock, so TestClock works, its span,
 * its references); when the timer wins, `self` is interrupted and awaited before `none` is
 * returned; when the caller is interrupted, both are, and `self` is awaited.
 */
import { type Duration, Effect, Exit, Fiber, Option } from "effect"

export const timeoutOption = <A, E>(self: Effect.Effect<A, E>, duration: Duration.Duration): Effect.Effect<Option.Option<A>, E> =>
  Effect.withFiber((parent) => {
    const run = Effect.runForkWith(parent.context)
    const work = run(self)
    const finished = work.pollUnsafe()
    if (finished !== undefined) return Exit.map(finished, Option.some)
    return Effect.callback<Option.Option<A>, E>((resume) => {
      let done = false
      const timer = run(Effect.sleep(duration))
      work.addObserver((exit) => {
        if (done) return
        done = true
        timer.interruptUnsafe()
        resume(Exit.map(exit, Option.some))
      })
      timer.addObserver((exit) => {
        if (done || Exit.isFailure(exit)) return
        done = true
        resume(Effect.as(Fiber.interrupt(work), Option.none()))
      })
      return Effect.suspend(() => {
        done = true
        timer.interruptUnsafe()
        return Fiber.interrupt(work)
      })
    })
  })
