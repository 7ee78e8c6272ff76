/**
 * src/engine/timeout.ts against effect's own timeoutOption (as timeoutWith gives it): the same answers on the TestClock, the
 * effect interrupted (and awaited) when the timer wins or the caller gives up. Under effect's live
 * Clock the timer is a plain setTimeout: those cases run on vitest's fake setTimeout.
 */
import { afterEach, assert, beforeEach, describe, it, vi } from "@effect/vitest"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { timeoutFail, timeoutWith } from "../../src/engine/timeout.ts"

const ms = Duration.millis

/** effect's timeoutOption, on the engine's cut: Some answer, None once the timer won. */
const timeoutOption = <A, E>(self: Effect.Effect<A, E>, duration: Duration.Duration): Effect.Effect<Option.Option<A>, E> =>
  timeoutWith(self, duration, (exit) => (exit === undefined ? Exit.succeed(Option.none()) : Exit.map(exit, Option.some)))

describe("timeoutWith (engine decisions), as timeoutOption", () => {
  it.effect("an effect that answers in time: Some", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(timeoutOption(Effect.as(Effect.sleep(ms(100)), "a"), ms(300)))
      yield* TestClock.adjust(ms(100))
      assert.deepStrictEqual(yield* Fiber.join(fiber), Option.some("a"))
      // the spent timer changes nothing later
      yield* TestClock.adjust(ms(1000))
    }))

  it.effect("an effect that answers at once: Some, without a timer", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* timeoutOption(Effect.succeed(1), ms(300)), Option.some(1))
      assert.deepStrictEqual(yield* Effect.exit(timeoutOption(Effect.fail("e"), ms(300))), Exit.fail("e"))
    }))

  it.effect("an effect still running at the timeout: None, after it was interrupted and its finalizer ran", () =>
    Effect.gen(function*() {
      let finalized = false
      const slow = Effect.sleep(ms(1000)).pipe(Effect.onInterrupt(() => Effect.sync(() => (finalized = true))))
      const fiber = yield* Effect.forkChild(timeoutOption(slow, ms(300)))
      yield* TestClock.adjust(ms(300))
      assert.deepStrictEqual(yield* Fiber.join(fiber), Option.none())
      assert.isTrue(finalized)
    }))

  it.effect("a failure in time is the effect's failure", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Effect.exit(timeoutOption(Effect.andThen(Effect.sleep(ms(10)), Effect.fail("boom")), ms(300))))
      yield* TestClock.adjust(ms(10))
      assert.deepStrictEqual(yield* Fiber.join(fiber), Exit.fail("boom"))
    }))

  it.effect("an answer that throws is a defect of the caller, also when the effect ended later (in its exit observer)", () =>
    Effect.gen(function*() {
      const boom = (): Exit.Exit<number> => {
        throw new Error("boom")
      }
      const later = yield* Effect.forkChild(Effect.exit(timeoutWith(Effect.as(Effect.sleep(ms(100)), 1), ms(300), boom)))
      yield* TestClock.adjust(ms(100))
      const exit = yield* Fiber.join(later)
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      const atOnce = yield* Effect.exit(timeoutWith(Effect.succeed(1), ms(300), boom))
      assert.isTrue(Exit.isFailure(atOnce) && Cause.hasDies(atOnce.cause))
    }))

  it.effect("a caller that is interrupted interrupts the effect", () =>
    Effect.gen(function*() {
      let finalized = false
      const slow = Effect.sleep(ms(1000)).pipe(Effect.onInterrupt(() => Effect.sync(() => (finalized = true))))
      const fiber = yield* Effect.forkChild(timeoutOption(slow, ms(300)))
      yield* TestClock.adjust(ms(50))
      yield* Fiber.interrupt(fiber)
      assert.isTrue(finalized)
    }))
})

describe("timeoutWith (engine decisions) under the live Clock: one setTimeout", () => {
  // only the timers: effect's scheduler runs on setImmediate, which stays real
  beforeEach(() => void vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }))
  afterEach(() => void vi.useRealTimers())

  it.live("an effect that answers in time: Some, and its timer is cleared", () =>
    Effect.gen(function*() {
      const answer = yield* Deferred.make<string>()
      const fiber = yield* Effect.forkChild(timeoutOption(Deferred.await(answer), ms(300)))
      yield* Effect.yieldNow
      assert.strictEqual(vi.getTimerCount(), 1)
      yield* Deferred.succeed(answer, "a")
      assert.deepStrictEqual(yield* Fiber.join(fiber), Option.some("a"))
      assert.strictEqual(vi.getTimerCount(), 0)
    }))

  it.live("an effect still running when the timer fires: None, after it was interrupted and its finalizer ran", () =>
    Effect.gen(function*() {
      let finalized = false
      const fiber = yield* Effect.forkChild(timeoutOption(Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (finalized = true)))), ms(300)))
      yield* Effect.yieldNow
      vi.advanceTimersByTime(299)
      yield* Effect.yieldNow
      assert.isUndefined(fiber.pollUnsafe())
      vi.advanceTimersByTime(1)
      assert.deepStrictEqual(yield* Fiber.join(fiber), Option.none())
      assert.isTrue(finalized)
    }))

  it.live("a caller that is interrupted interrupts the effect and clears the timer", () =>
    Effect.gen(function*() {
      let finalized = false
      const fiber = yield* Effect.forkChild(timeoutOption(Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (finalized = true)))), ms(300)))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      assert.isTrue(finalized)
      assert.strictEqual(vi.getTimerCount(), 0)
    }))
})

describe("timeoutFail (engine attempts): fails with the timeout's error and reports how the run ended", () => {
  const observed = () => {
    const exits: Array<Exit.Exit<unknown, unknown>> = []
    return { exits, observe: (exit: Exit.Exit<unknown, unknown>) => void exits.push(exit) }
  }

  it.effect("an answer in time: the answer, observed once", () =>
    Effect.gen(function*() {
      const { exits, observe } = observed()
      const fiber = yield* Effect.forkChild(timeoutFail(Effect.as(Effect.sleep(ms(100)), "a"), ms(300), () => "timeout", observe))
      yield* TestClock.adjust(ms(100))
      assert.strictEqual(yield* Fiber.join(fiber), "a")
      assert.deepStrictEqual(exits, [Exit.succeed("a")])
      yield* TestClock.adjust(ms(1000))
      assert.lengthOf(exits, 1)
    }))

  it.effect("an answer at once and a failure at once: passed on and observed", () =>
    Effect.gen(function*() {
      const { exits, observe } = observed()
      assert.strictEqual(yield* timeoutFail(Effect.succeed(1), ms(300), () => "timeout", observe), 1)
      assert.deepStrictEqual(yield* Effect.exit(timeoutFail(Effect.fail("e"), ms(300), () => "timeout", observe)), Exit.fail("e"))
      assert.deepStrictEqual(exits, [Exit.succeed(1), Exit.fail("e")])
    }))

  it.effect("still running at the timeout: interrupted (finalizer run), then the timeout's failure, observed", () =>
    Effect.gen(function*() {
      const { exits, observe } = observed()
      let finalized = false
      const slow = Effect.sleep(ms(1000)).pipe(Effect.onInterrupt(() => Effect.sync(() => (finalized = true))))
      const fiber = yield* Effect.forkChild(Effect.exit(timeoutFail(slow, ms(300), () => "timeout", observe)))
      yield* TestClock.adjust(ms(300))
      assert.deepStrictEqual(yield* Fiber.join(fiber), Exit.fail("timeout"))
      assert.isTrue(finalized)
      assert.deepStrictEqual(exits, [Exit.fail("timeout")])
    }))

  it.effect("a caller that is interrupted interrupts the effect, and nothing is observed", () =>
    Effect.gen(function*() {
      const { exits, observe } = observed()
      let finalized = false
      const slow = Effect.sleep(ms(1000)).pipe(Effect.onInterrupt(() => Effect.sync(() => (finalized = true))))
      const fiber = yield* Effect.forkChild(timeoutFail(slow, ms(300), () => "timeout", observe))
      yield* TestClock.adjust(ms(50))
      yield* Fiber.interrupt(fiber)
      assert.isTrue(finalized)
      assert.lengthOf(exits, 0)
    }))
})
