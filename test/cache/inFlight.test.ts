/**
 * In-process single-flight. The orderings come from fast-check's scheduler: request arrivals, the
 * ends of `decide` runs and interruptions are scheduled tasks it releases in every order it likes.
 * Engine-level examples on the TestClock check the provider sees one call.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { makeInFlight } from "../../src/cache/InFlight.ts"
import type { Decision } from "../../src/domain/decision.ts"
import type { StatusAnswer } from "../../src/domain/status.ts"
import { makeFakeProvider, ok, script } from "../engine/fakeProvider.ts"
import { cachedEngine, request, settingsSync, X } from "./support.ts"

/** A decision that names the run that made it (in requestIds, which waiters keep). */
const decisionOf = (run: number): Decision => ({
  decision: "use-x", dial: X, extension: null, subsId: "1000000123456789", provider: "aliyun", poolKey: "FC100000000001", status: 1, source: "provider",
  reason: "status 1", providerCode: null, attempts: 1, elapsedMs: 0, requestIds: [`run-${run}`]
})
const runOf = (d: Decision) => Number(d.requestIds[0]!.slice(4))

interface Run {
  readonly id: number
  readonly key: string
  released: boolean
}

/**
 * A world where every `decide` run ends when the scheduler says, successfully or (when `dies` says
 * so for that run) with a defect.
 */
const world = (s: fc.Scheduler, dies: (run: number) => boolean = () => false) => {
  const coalesce = makeInFlight()
  const runs: Array<Run> = []
  const decide = (key: string) =>
    Effect.suspend(() => {
      const run: Run = { id: runs.length, key, released: false }
      runs.push(run)
      return Effect.promise(() =>
        s.schedule(Promise.resolve(run.id), `end of run ${run.id} (${key})`, undefined, (release) => {
          run.released = true
          return release()
        })
      ).pipe(Effect.flatMap((id) => dies(id) ? Effect.die(`run ${id} died`) : Effect.succeed(decisionOf(id))))
    })
  /** Runs still going for a key: a request arriving now must join one of them. */
  const open = (key: string) => runs.filter((r) => r.key === key && !r.released).map((r) => r.id)
  return { coalesce, runs, decide, open }
}

const keysArb = fc.array(fc.constantFrom("a", "b"), { minLength: 1, maxLength: 8 })

describe("in-process single-flight, every ordering", () => {
  it("a request arriving while a run for its key is going gets that run's decision; keys never mix", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), keysArb, async (s, keys) => {
        const w = world(s)
        const arrivals = keys.map((key, i) =>
          s.schedule(Promise.resolve(), `arrival ${i} (${key})`).then(() => {
            const openAtArrival = w.open(key)
            return Effect.runPromise(w.coalesce(key, 60_000, () => w.decide(key))).then((d) => ({ key, d, openAtArrival }))
          })
        )
        const results = await s.waitFor(Promise.all(arrivals))
        for (const { key, d, openAtArrival } of results) {
          assert.strictEqual(w.runs[runOf(d)]!.key, key)
          if (openAtArrival.length > 0) assert.include(openAtArrival, runOf(d))
        }
        // every run was led by a request that got its decision: no run without a reason
        assert.isAtMost(w.runs.length, keys.length)
        assert.strictEqual(new Set(results.map((r) => runOf(r.d))).size, w.runs.length)
        // once all is done nothing is left in flight: a new request makes a new run
        const later = await s.waitFor(Effect.runPromise(w.coalesce("a", 60_000, () => w.decide("a"))))
        assert.strictEqual(runOf(later), w.runs.length - 1)
        assert.strictEqual(later.attempts, 1)
      }),
      { numRuns: 200, seed: 42 }
    )
  })

  it("all arriving before the first run ends: one run per key, and every request of a key has the same decision", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), keysArb, async (s, keys) => {
        const w = world(s)
        const pending = keys.map((key) => Effect.runPromise(w.coalesce(key, 60_000, () => w.decide(key))).then((d) => ({ key, d })))
        const results = await s.waitFor(Promise.all(pending))
        assert.strictEqual(w.runs.length, new Set(keys).size)
        for (const { key, d } of results) {
          assert.strictEqual(w.runs[runOf(d)]!.key, key)
          assert.strictEqual(runOf(d), w.runs.find((r) => r.key === key)!.id)
          // waiters report their own timing and no provider call; the leader its own
          assert.strictEqual(d.attempts, results.filter((r) => r.key === key)[0]!.d === d ? 1 : 0)
        }
      }),
      { numRuns: 100, seed: 7 }
    )
  })

  it("a leader that dies or is interrupted: every waiter still gets a decision, from a run that did not fail", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 6 }), fc.boolean(), async (s, waiters, interrupt) => {
        // Run 0 (the leader's) dies, or its caller is interrupted at a point the scheduler picks.
        const w = world(s, (run) => !interrupt && run === 0)
        const leader = Effect.runFork(w.coalesce("a", 60_000, () => w.decide("a")))
        const waiting = Array.from({ length: waiters }, () => Effect.runPromise(w.coalesce("a", 60_000, () => w.decide("a"))))
        if (interrupt) void s.schedule(Promise.resolve(), "interrupt the leader").then(() => leader.interruptUnsafe())
        const results = await s.waitFor(Promise.all(waiting))
        const leaderExit = await s.waitFor(Effect.runPromise(Fiber.await(leader)))
        const leaderFailed = Exit.isFailure(leaderExit)
        for (const d of results) {
          if (leaderFailed) assert.notStrictEqual(runOf(d), 0)
        }
        // After a failed leader the waiters start over together: one more run, not one per waiter.
        assert.strictEqual(w.runs.length, leaderFailed ? 2 : 1)
      }),
      { numRuns: 200, seed: 3 }
    )
  })
})

describe("through the engine (TestClock)", () => {
  const answer: Omit<StatusAnswer, "requestId"> = { status: 1, calledNo: X, extension: undefined }
  const setup = Effect.gen(function*() {
    const { log, provider } = makeFakeProvider(script({ status: Array.from({ length: 10 }, () => ok(answer, 50)) }))
    const engine = yield* cachedEngine(settingsSync({ statusTtlMs: 0 }), provider)
    return { engine, statusCalls: () => log.filter((c) => c.action === "QueryCallStatus").length }
  })

  it.effect("N identical requests at once: one provider call, one decision for all", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup
      const fibers = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.forkChild(engine.decide(request())))
      yield* TestClock.adjust(50)
      const decisions = yield* Effect.forEach(fibers, Fiber.join)
      assert.strictEqual(statusCalls(), 1)
      const { attempts: _a, elapsedMs: _e, ...leader } = decisions[0]!
      for (const d of decisions.slice(1)) {
        const { attempts, elapsedMs, ...rest } = d
        assert.deepStrictEqual(rest, leader)
        assert.deepStrictEqual([attempts, elapsedMs], [0, 50])
      }
      assert.strictEqual(decisions[0]!.attempts, 1)
    }))

  it.effect("different requests are not coalesced", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup
      const fibers = yield* Effect.forEach(
        [request(), request({ callerNo: "13900139000" }), request({ realCallee: "13900139000" }), request()],
        (r) => Effect.forkChild(engine.decide(r))
      )
      yield* TestClock.adjust(50)
      const decisions = yield* Effect.forEach(fibers, Fiber.join)
      assert.strictEqual(statusCalls(), 3)
      assert.deepStrictEqual(decisions.map((d) => d.attempts), [1, 1, 1, 0])
    }))

  it.effect("the leader interrupted: its waiters decide, with one more provider call", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup
      const leader = yield* Effect.forkChild(engine.decide(request()))
      const waiters = yield* Effect.forEach(Array.from({ length: 3 }), () => Effect.forkChild(engine.decide(request())))
      yield* TestClock.adjust(10)
      yield* Fiber.interrupt(leader)
      yield* TestClock.adjust(50)
      const decisions = yield* Effect.forEach(waiters, Fiber.join)
      assert.strictEqual(statusCalls(), 2)
      assert.deepStrictEqual(decisions.map((d) => [d.decision, d.source]), Array.from({ length: 3 }, () => ["use-x", "provider"]))
      assert.deepStrictEqual(decisions.map((d) => d.attempts).sort(), [0, 0, 1])
    }))
})
