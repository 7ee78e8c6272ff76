/**
 * The engine pipeline against a scripted provider, on the TestClock. Properties run every generated
 * fault sequence in its own runtime (fresh TestClock, seeded Random for the jitter); examples use
 * it.effect. Numbers: real parties 138/139, X numbers 170 (request) and 171 (new bindings).
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Random, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { Decision } from "../../src/domain/decision.ts"
import { type ErrorClass, isRetryable } from "../../src/domain/errors.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import type { StatusAnswer } from "../../src/domain/status.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { type Settings, settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import type { BindingDetail, BindRequest, NewBinding, ProviderShape } from "../../src/providers/Provider.ts"
import { PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import {
  type Action,
  ACTIONS,
  type CallRecord,
  fail,
  failWith,
  hang,
  makeFakeProvider,
  ok,
  type Outcome,
  type Script,
  script
} from "./fakeProvider.ts"

// ---------------------------------------------------------------------------------------------------
// Fixtures

const X = "17000000001"
const NEW_X = "17100000002"
const A = "13800138000"
const B = "13900139000"
const OTHER = "13800000099"

const baseRequest = { poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: X } as DecideRequest
const request = (extra: Partial<Record<keyof DecideRequest, unknown>> = {}): DecideRequest => ({ ...baseRequest, ...extra }) as DecideRequest

type Answer = Omit<StatusAnswer, "requestId">
const status = (s: 1 | 2 | 3 | 4, calledNo?: string): Answer => ({ status: s, calledNo, extension: undefined })
const detailOf = (d: Partial<Omit<BindingDetail, "requestId">> = {}): Omit<BindingDetail, "requestId"> => ({
  subsId: baseRequest.subsId, phoneNoA: A, phoneNoB: B, phoneNoX: X, extension: undefined, active: false, ...d
})
const newBinding: Omit<NewBinding, "requestId"> = { subsId: "2000000000000001", phoneNoX: NEW_X, extension: undefined }

const settingsSync = (input: SettingsInput): Settings => Effect.runSync(settingsFromObject(input))

const isRealNumber = (n: string) => /^13[89]/.test(n)

/** Builds the engine from its layer over the given provider. */
const engineOver = (settings: Settings, provider: ProviderShape) =>
  Effect.gen(function*() {
    return yield* Engine
  }).pipe(Effect.provide(engineLayer(settings).pipe(Layer.provide(Layer.succeed(PrivacyNumberProvider, provider)))))

interface Run {
  readonly exit: Exit.Exit<Decision> | undefined
  readonly log: ReadonlyArray<CallRecord>
  readonly started: number
}

/**
 * Forks one decision, advances the TestClock by exactly the deadline, then looks at the fiber without
 * waiting: a decision that is not there yet is a failed property, not a hung test.
 */
const runOnce = (settings: Settings, sc: Script, req: DecideRequest) =>
  Effect.gen(function*() {
    const { log, provider } = makeFakeProvider(sc)
    const engine = yield* engineOver(settings, provider)
    const started = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.forkChild(engine.decide(req))
    yield* TestClock.adjust(settings.deadlineMs)
    yield* Effect.yieldNow
    const exit = fiber.pollUnsafe()
    if (exit === undefined) yield* Fiber.interrupt(fiber)
    return { exit, log, started } satisfies Run
  })

const decisionOf = (run: Run): Decision => {
  if (run.exit === undefined) assert.fail("no decision after advancing the clock by deadlineMs")
  if (Exit.isFailure(run.exit)) assert.fail(`decide failed: ${String(run.exit.cause)}`)
  return run.exit.value
}

const callsOf = (run: Run, action: Action) => run.log.filter((c) => c.action === action)

// ---------------------------------------------------------------------------------------------------
// Generators

const CLASSES: ReadonlyArray<ErrorClass> = ["transient", "throttled", "binding", "pool", "configuration", "bad-input", "local"]
const digits = (n: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: n, maxLength: n })
const realArb = fc.tuple(fc.constantFrom("138", "139"), digits(8)).map(([p, r]) => p + r)
/** Odd delays and even timeouts: a reply never lands on the very instant its attempt times out. */
const delayArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }).map((n) => 2 * n + 1))

/** The codes the retry rules branch on: transient failures after which a Bind may or may not have acted. */
const OUTCOME_UNKNOWN_CODES = ["Transport.Timeout", "Transport.ConnectionError", "Reply.Malformed", "Reply.HttpStatus502"] as const

const failArb = fc.record({
  errorClass: fc.constantFrom(...CLASSES),
  retryAfterMs: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
  unknownOutcome: fc.option(fc.constantFrom(...OUTCOME_UNKNOWN_CODES), { nil: undefined, freq: 2 }),
  delayMs: delayArb
}).map(({ errorClass, retryAfterMs, unknownOutcome, delayMs }) =>
  fail(
    failWith(errorClass, {
      ...(errorClass === "throttled" && retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(errorClass === "transient" && unknownOutcome !== undefined ? { code: unknownOutcome } : {})
    }),
    delayMs
  )
)

const outcomeArb = <A>(value: fc.Arbitrary<A>): fc.Arbitrary<Outcome<A>> =>
  fc.oneof(
    { arbitrary: fc.record({ value, delayMs: delayArb }).map(({ value, delayMs }) => ok(value, delayMs)), weight: 3 },
    { arbitrary: failArb as fc.Arbitrary<Outcome<A>>, weight: 4 },
    { arbitrary: fc.constant(hang as Outcome<A>), weight: 1 }
  )

const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  fc.constant(status(1, X)),
  fc.constant(status(1)),
  fc.constant(status(2, "17000000077")),
  fc.constant(status(2)),
  fc.constant(status(3)),
  fc.constant(status(4))
)
const detailArb = fc.record({
  phoneNoA: fc.option(realArb, { nil: undefined }),
  phoneNoB: fc.option(realArb, { nil: undefined }),
  extension: fc.option(fc.constantFrom("1", "23"), { nil: undefined })
}).map((d) => detailOf(d))

const scriptArb: fc.Arbitrary<Script> = fc.record({
  status: fc.array(outcomeArb(answerArb), { maxLength: 6 }),
  detail: fc.array(outcomeArb(detailArb), { maxLength: 6 }),
  bind: fc.array(outcomeArb(fc.constant(newBinding)), { maxLength: 6 }),
  exhausted: fc.oneof(fc.constant(hang), failArb.map((o) => o as Outcome<never>))
}).map(({ status, detail, bind, exhausted }) => ({
  status: { outcomes: status, exhausted: exhausted as Outcome<Answer> },
  detail: { outcomes: detail, exhausted: exhausted as Outcome<Omit<BindingDetail, "requestId">> },
  bind: { outcomes: bind, exhausted: exhausted as Outcome<Omit<NewBinding, "requestId">> }
}))

const settingsArb: fc.Arbitrary<Settings> = fc.record({
  allowRealFallback: fc.boolean(),
  degraded: fc.constantFrom("use-x", "fallback-real", "refuse"),
  maxAttempts: fc.integer({ min: 1, max: 5 }),
  retryBaseMs: fc.integer({ min: 5, max: 150 }),
  attemptTimeoutMs: fc.integer({ min: 10, max: 200 }).map((n) => 2 * n),
  extraDeadlineMs: fc.integer({ min: 0, max: 1250 }).map((n) => 2 * n)
}).map((r) =>
  settingsSync({
    allowRealFallback: r.allowRealFallback,
    degradedDecision: r.degraded === "fallback-real" && !r.allowRealFallback ? "use-x" : r.degraded as "use-x",
    maxAttempts: r.maxAttempts,
    retryBaseMs: r.retryBaseMs,
    attemptTimeoutMs: r.attemptTimeoutMs,
    deadlineMs: Math.max(10, r.attemptTimeoutMs + r.extraDeadlineMs)
  })
)

const requestArb: fc.Arbitrary<DecideRequest> = fc.record({
  realCallee: fc.option(realArb, { nil: undefined }),
  callerNo: fc.option(fc.oneof(fc.constant(A), fc.constant(B), realArb), { nil: undefined }),
  binding: fc.option(
    fc.record({
      // mostly complete, so that rebinds without a detail lookup are common too
      phoneNoA: fc.option(fc.constant(A), { nil: undefined, freq: 5 }),
      phoneNoB: fc.option(fc.constant(B), { nil: undefined, freq: 5 }),
      mode: fc.option(fc.constantFrom("AXB", "AXN", "AXN_EXTENSION"), { nil: undefined, freq: 5 })
    }),
    { nil: undefined }
  )
}).map((r) => {
  const out: Record<string, unknown> = { ...baseRequest }
  if (r.realCallee !== undefined) out["realCallee"] = r.realCallee
  if (r.callerNo !== undefined) out["callerNo"] = r.callerNo
  if (r.binding !== undefined) {
    const b: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(r.binding)) if (v !== undefined) b[k] = v
    out["binding"] = b
  }
  return out as DecideRequest
})

interface Case {
  readonly settings: Settings
  readonly script: Script
  readonly request: DecideRequest
  readonly seed: number
}
const caseArb: fc.Arbitrary<Case> = fc.record({ settings: settingsArb, script: scriptArb, request: requestArb, seed: fc.integer() })

const runCase = (c: Case): Promise<Run> =>
  Effect.runPromise(runOnce(c.settings, c.script, c.request).pipe(Effect.provide(TestClock.layer()), Random.withSeed(c.seed)))

const PROP = { numRuns: 150, seed: 424242 }
const property = (body: (c: Case, run: Run) => void) => () =>
  fc.assert(fc.asyncProperty(caseArb, async (c) => body(c, await runCase(c))), PROP)

/** The class the engine saw for a failed call: the scripted one, or transient for an attempt timeout. */
const outcomeUnknownCodes = /^(Transport\.Timeout|Transport\.ConnectionError|Reply\.Malformed|Reply\.HttpStatus\d+)$/

const seenClass = (call: CallRecord): ErrorClass | undefined =>
  call.result === "fail" && call.outcome._tag === "fail"
    ? call.outcome.error.errorClass
    : call.result === "interrupted"
    ? "transient"
    : undefined

// ---------------------------------------------------------------------------------------------------
// Properties

describe("engine properties over generated fault sequences (TestClock)", () => {
  it("the generated cases reach every decision kind, retries, attempt timeouts and the deadline", async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const run = await runCase(c)
        const d = decisionOf(run)
        seen.add(d.decision)
        if (d.elapsedMs === c.settings.deadlineMs) seen.add("deadline")
        if (run.log.some((call) => call.index > 0)) seen.add("retry")
        if (run.log.some((call) => call.result === "interrupted" && call.end! < run.started + c.settings.deadlineMs)) seen.add("attempt-timeout")
        if (run.log.some((call) => call.result === "fail" && call.outcome._tag === "fail" && call.outcome.error.errorClass === "throttled" && call.index + 1 < callsOf(run, call.action).length)) seen.add("throttled-retry")
        const binds = callsOf(run, "Bind")
        if (binds.some((call) => call.result === "fail" || call.result === "interrupted") && d.decision !== "rebind") seen.add("failed-rebind")
        if (binds.some((call) => (call.result === "interrupted" || (call.outcome._tag === "fail" && call.outcome.error.code === "Transport.Timeout")) && call.end !== undefined && call.end + c.settings.attemptTimeoutMs < run.started + c.settings.deadlineMs)) seen.add("bind-timeout-with-time-left")
        if (run.log.some((call) => call.result === "fail" && call.outcome._tag === "fail" && outcomeUnknownCodes.test(call.outcome.error.code))) seen.add("transport-or-reply-code")
      }),
      PROP
    )
    for (const k of ["use-x", "use-temporary-x", "fallback-real", "rebind", "refuse", "deadline", "retry", "attempt-timeout", "throttled-retry", "failed-rebind", "bind-timeout-with-time-left", "transport-or-reply-code"]) {
      assert.isTrue(seen.has(k), k)
    }
  })

  it("a decision always comes, no later than deadlineMs, and it is a valid Decision", property((c, run) => {
    const d = decisionOf(run)
    assert.isAtMost(d.elapsedMs, c.settings.deadlineMs)
    assert.isAtLeast(d.elapsedMs, 0)
    assert.isTrue(Schema.is(Decision)(d))
    assert.strictEqual(d.poolKey, c.request.poolKey)
    // No provider call outlives the decision.
    for (const call of run.log) assert.isDefined(call.end, `${call.action}#${call.index} still running`)
  }))

  it("attempts per action never exceed maxAttempts, and attempts counts every call", property((c, run) => {
    const d = decisionOf(run)
    for (const action of ACTIONS) assert.isAtMost(callsOf(run, action).length, c.settings.maxAttempts, action)
    assert.strictEqual(d.attempts, run.log.length)
  }))

  it("non-retryable classes (configuration, bad-input, binding, pool) are tried exactly once", property((_c, run) => {
    decisionOf(run)
    for (const action of ACTIONS) {
      const calls = callsOf(run, action)
      calls.forEach((call, i) => {
        const cls = seenClass(call)
        if (cls !== undefined && !isRetryable(cls)) {
          assert.strictEqual(i, calls.length - 1, `${action} retried after ${cls}`)
        }
      })
    }
  }))

  it("retryable failures are retried while attempts and time remain", property((c, run) => {
    decisionOf(run)
    const deadlineAt = run.started + c.settings.deadlineMs
    for (const action of ACTIONS) {
      const calls = callsOf(run, action)
      calls.forEach((call, i) => {
        const cls = seenClass(call)
        if (cls === undefined || !isRetryable(cls) || i + 1 >= c.settings.maxAttempts) return
        if (call.end! >= deadlineAt) return // cut by the deadline
        // A bind whose outcome is unknown (timeout, reset, unreadable reply) is not retried: it may have bound.
        if (action === "Bind" && (call.result === "interrupted" || (call.outcome._tag === "fail" && outcomeUnknownCodes.test(call.outcome.error.code)))) {
          assert.isUndefined(calls[i + 1], "bind retried after an unknown outcome")
          return
        }
        const retryAfter = call.outcome._tag === "fail" ? call.outcome.error.retryAfterMs ?? 0 : 0
        const exp = c.settings.retryBaseMs * 2 ** i
        const longest = 1.2 * (cls === "throttled" ? Math.max(4 * exp, retryAfter) : exp)
        if (call.end! + longest < deadlineAt - 1e-6) assert.isDefined(calls[i + 1], `${action} not retried after ${cls}`)
      })
    }
  }))

  it("throttled retries back off longer than transient ones (jittered exponential, x4 for throttled)", property((c, run) => {
    decisionOf(run)
    for (const action of ACTIONS) {
      const calls = callsOf(run, action)
      for (let i = 0; i + 1 < calls.length; i++) {
        const call = calls[i]!
        const cls = seenClass(call)!
        const gap = calls[i + 1]!.start - call.end!
        const exp = c.settings.retryBaseMs * 2 ** i
        if (cls === "transient") {
          assert.isAtLeast(gap, 0.8 * exp - 1e-6)
          assert.isAtMost(gap, 1.2 * exp + 1e-6)
        } else {
          assert.strictEqual(cls, "throttled")
          // Longer than the longest transient wait at the same position.
          assert.isAbove(gap, 1.2 * exp)
          assert.isAtLeast(gap, 0.8 * 4 * exp - 1e-6)
        }
      }
    }
  }))

  it("request ids of every answered call are kept, in order", property((_c, run) => {
    const d = decisionOf(run)
    const answered = run.log.filter((c) => c.result === "ok" || c.result === "fail").map((c) => c.requestId)
    assert.deepStrictEqual([...d.requestIds], answered)
  }))

  it("never dials a real number unless fallback-real is allowed; never dials the expired X on status 4", property((c, run) => {
    const d = decisionOf(run)
    if (d.decision === "fallback-real") {
      assert.isTrue(c.settings.allowRealFallback)
      assert.isTrue(isRealNumber(d.dial))
      if (c.request.realCallee !== undefined) assert.strictEqual(d.dial, c.request.realCallee)
    } else if (d.dial !== null) {
      assert.isFalse(isRealNumber(d.dial), `${d.decision} dialled ${d.dial}`)
    }
    if (d.status === 4) {
      assert.notStrictEqual(d.dial, X)
      assert.notStrictEqual(d.decision, "use-x")
    }
    if (d.decision === "rebind") assert.strictEqual(d.dial, NEW_X)
    // The detail is only looked up to find a real callee (status 3) when that callee could be dialled.
    if (d.status === 3 && (!c.settings.allowRealFallback || c.request.realCallee !== undefined)) {
      assert.lengthOf(callsOf(run, "QuerySubscriptionDetail"), 0)
    }
  }))

  it("the decision follows the status the provider gave", property((_c, run) => {
    const d = decisionOf(run)
    const answered = callsOf(run, "QueryCallStatus").find((call) => call.result === "ok")
    if (answered === undefined) {
      assert.strictEqual(d.source, "degraded")
      assert.isNull(d.status)
      assert.lengthOf(callsOf(run, "Bind"), 0)
      assert.lengthOf(callsOf(run, "QuerySubscriptionDetail"), 0)
      return
    }
    const answer = (answered.outcome as { value: Answer }).value
    assert.strictEqual(d.source, "provider")
    assert.strictEqual(d.status, answer.status)
    if (answer.status === 1) assert.strictEqual(d.decision, "use-x")
    if (answer.status === 2 && answer.calledNo) assert.strictEqual(d.decision, "use-temporary-x")
    if (answer.status !== 4) assert.lengthOf(callsOf(run, "Bind"), 0)
    if (answer.status === 1 || (answer.status === 2 && answer.calledNo)) assert.lengthOf(callsOf(run, "QuerySubscriptionDetail"), 0)
  }))
})

// ---------------------------------------------------------------------------------------------------
// Examples

const fast = settingsSync({ deadlineMs: 1000, attemptTimeoutMs: 300, maxAttempts: 3, retryBaseMs: 25 })
const allowReal = settingsSync({ deadlineMs: 1000, attemptTimeoutMs: 300, maxAttempts: 3, retryBaseMs: 25, allowRealFallback: true })

describe("engine examples", () => {
  it.effect("status 1 dials X with one call", () =>
    Effect.gen(function*() {
      const run = yield* runOnce(fast, script({ status: [ok(status(1, X), 40)] }), request())
      const d = decisionOf(run)
      assert.strictEqual(d.decision, "use-x")
      assert.strictEqual(d.dial, X)
      assert.strictEqual(d.attempts, 1)
      assert.strictEqual(d.elapsedMs, 40)
      assert.deepStrictEqual([...d.requestIds], ["rid-1"])
    }))

  it.effect("the decision waits for the provider and no longer than the deadline, even when every call hangs", () =>
    Effect.gen(function*() {
      const s = settingsSync({ deadlineMs: 1000, attemptTimeoutMs: 300, maxAttempts: 5, retryBaseMs: 25 })
      const { log, provider } = makeFakeProvider(script({}))
      const engine = yield* engineOver(s, provider)
      const fiber = yield* Effect.forkChild(engine.decide(request()))
      yield* TestClock.adjust(s.deadlineMs - 1)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      yield* Effect.yieldNow
      const exit = fiber.pollUnsafe()
      if (exit === undefined) yield* Fiber.interrupt(fiber)
      const d = decisionOf({ exit, log, started: 0 })
      assert.strictEqual(d.elapsedMs, s.deadlineMs)
      assert.strictEqual(d.source, "degraded")
      assert.strictEqual(d.decision, "use-x")
      assert.strictEqual(d.providerCode, "Transport.Timeout")
      assert.include(d.reason, "Transport.Timeout")
      assert.include(d.reason, "within the deadline")
      // 300 ms attempts with ~25/50/100 ms backoff: the fourth would start after 1 s.
      assert.strictEqual(log.length, 3)
      assert.strictEqual(d.attempts, 3)
      assert.isTrue(log.every((c) => c.result === "interrupted"))
    }))

  it.effect("a hang longer than the deadline with maxAttempts 1 still decides at the deadline", () =>
    Effect.gen(function*() {
      const s = settingsSync({ deadlineMs: 500, attemptTimeoutMs: 500, maxAttempts: 1, degradedDecision: "refuse" })
      const run = yield* runOnce(s, script({}), request())
      const d = decisionOf(run)
      assert.strictEqual(d.decision, "refuse")
      assert.strictEqual(d.elapsedMs, 500)
    }))

  for (const cls of ["configuration", "bad-input", "binding", "pool"] as const) {
    it.effect(`a ${cls} error on QueryCallStatus is tried once, then degrades`, () =>
      Effect.gen(function*() {
        const run = yield* runOnce(fast, script({ exhausted: fail(failWith(cls)) }), request())
        const d = decisionOf(run)
        assert.strictEqual(run.log.length, 1)
        assert.strictEqual(d.source, "degraded")
        assert.strictEqual(d.providerCode, failWith(cls).code)
      }))
  }

  it.effect("degraded reason contains the provider code after retries run out", () =>
    Effect.gen(function*() {
      const run = yield* runOnce(fast, script({ exhausted: fail(failWith("throttled", { code: "Throttling.User", message: "user flow control" })) }), request())
      const d = decisionOf(run)
      assert.strictEqual(d.decision, "use-x")
      assert.strictEqual(d.dial, X)
      assert.strictEqual(d.providerCode, "Throttling.User")
      assert.include(d.reason, "Throttling.User")
      assert.include(d.reason, "throttled")
      assert.strictEqual(d.attempts, 3)
    }))

  it.effect("transient then success: the retry's answer decides", () =>
    Effect.gen(function*() {
      const run = yield* runOnce(fast, script({ status: [fail(failWith("transient")), ok(status(2, "17000000077"))] }), request())
      const d = decisionOf(run)
      assert.strictEqual(d.decision, "use-temporary-x")
      assert.strictEqual(d.dial, "17000000077")
      assert.strictEqual(d.attempts, 2)
      assert.isNull(d.providerCode)
    }))

  describe("status 4: rebind", () => {
    it.effect("binds again with the parties from the request, without a detail lookup", () =>
      Effect.gen(function*() {
        const s = settingsSync({ bindingTtlS: 600 })
        const run = yield* runOnce(
          s,
          script({ status: [ok(status(4))], bind: [ok(newBinding, 30)] }),
          request({ binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" } })
        )
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "rebind")
        assert.strictEqual(d.dial, NEW_X)
        assert.strictEqual(d.subsId, newBinding.subsId)
        if (d.decision === "rebind") assert.strictEqual(d.previousSubsId, baseRequest.subsId)
        assert.lengthOf(callsOf(run, "QuerySubscriptionDetail"), 0)
        const bind = callsOf(run, "Bind")
        assert.lengthOf(bind, 1)
        const sent = bind[0]!.input as BindRequest
        assert.strictEqual(sent.poolKey, baseRequest.poolKey)
        assert.strictEqual(sent.mode, "AXB")
        assert.strictEqual(sent.phoneNoA, A)
        assert.strictEqual(sent.phoneNoB, B)
        assert.strictEqual(sent.expiresAt, bind[0]!.start + 600_000)
      }))

    it.effect("binds again with the parties from bindingDetail when the request has none", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(
          fast,
          script({ status: [ok(status(4))], detail: [ok(detailOf({ phoneNoA: A, phoneNoB: B }))], bind: [ok(newBinding)] }),
          request()
        )
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "rebind")
        assert.lengthOf(callsOf(run, "QuerySubscriptionDetail"), 1)
        const sent = callsOf(run, "Bind")[0]!.input as BindRequest
        assert.strictEqual(sent.phoneNoA, A)
        assert.strictEqual(sent.phoneNoB, B)
        assert.strictEqual(sent.mode, "AXB")
      }))

    it.effect("an AXN_EXTENSION detail rebinds in that mode", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(
          fast,
          script({ status: [ok(status(4))], detail: [ok(detailOf({ phoneNoB: undefined, extension: "12" }))], bind: [ok(newBinding)] }),
          request()
        )
        assert.strictEqual((callsOf(run, "Bind")[0]!.input as BindRequest).mode, "AXN_EXTENSION")
      }))

    it.effect("the request's parties and caller name the real callee: no detail lookup, even when it would fail", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(
          allowReal,
          script({ status: [ok(status(3))], detail: [fail(failWith("throttled"))] }),
          request({ callerNo: A, binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" } })
        )
        assert.deepInclude(decisionOf(run), { decision: "fallback-real", dial: B })
        assert.strictEqual(callsOf(run, "QuerySubscriptionDetail").length, 0)
      }))

    it.effect("a request that names A but not B or the mode: the rebind takes them from the detail (an AXB stays AXB, with its B)", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(
          fast,
          script({ status: [ok(status(4))], detail: [ok(detailOf({ phoneNoA: A, phoneNoB: B }))], bind: [ok(newBinding)] }),
          request({ binding: { phoneNoA: A } })
        )
        const sent = callsOf(run, "Bind")[0]!.input as BindRequest
        assert.deepInclude(sent, { mode: "AXB", phoneNoA: A, phoneNoB: B })
      }))

    it.effect("without binding.mode in the request, the rebind keeps the expired binding's mode", () =>
      Effect.gen(function*() {
        const axb = yield* runOnce(
          fast,
          script({ status: [ok(status(4))], detail: [ok(detailOf({ phoneNoA: A, phoneNoB: B }))], bind: [ok(newBinding)] }),
          request({ binding: { phoneNoA: A, phoneNoB: B } })
        )
        assert.strictEqual(decisionOf(axb).decision, "rebind")
        assert.strictEqual((callsOf(axb, "Bind")[0]!.input as BindRequest).mode, "AXB")
        const ext = yield* runOnce(
          fast,
          script({ status: [ok(status(4))], detail: [ok(detailOf({ phoneNoA: A, phoneNoB: undefined, extension: "12" }))], bind: [ok(newBinding)] }),
          request({ extension: "12", binding: { phoneNoA: A } })
        )
        assert.strictEqual((callsOf(ext, "Bind")[0]!.input as BindRequest).mode, "AXN_EXTENSION")
      }))

    it.effect("rebind failure → fallback-real to the request's real callee when allowed", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(
          allowReal,
          script({ status: [ok(status(4))], bind: [fail(failWith("pool"))] }),
          request({ realCallee: B, binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" } })
        )
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "fallback-real")
        assert.strictEqual(d.dial, B)
        assert.strictEqual(d.providerCode, "isv.NO_AVAILABLE_NUMBER")
        assert.include(d.reason, "isv.NO_AVAILABLE_NUMBER")
        assert.lengthOf(callsOf(run, "Bind"), 1) // pool: not retried
      }))

    it.effect("rebind failure → fallback-real to the callee learned from the detail (caller is A → B)", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(
          allowReal,
          script({ status: [ok(status(4))], detail: [ok(detailOf())], bind: [fail(failWith("pool"))] }),
          request({ callerNo: A })
        )
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "fallback-real")
        assert.strictEqual(d.dial, B)
        assert.lengthOf(callsOf(run, "QuerySubscriptionDetail"), 1) // looked up once, used twice
      }))

    it.effect("rebind failure → refuse when real fallback is not allowed", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(
          fast,
          script({ status: [ok(status(4))], bind: [fail(failWith("pool"))] }),
          request({ realCallee: B, binding: { phoneNoA: A, mode: "AXN" } })
        )
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "refuse")
        assert.isNull(d.dial)
        assert.include(d.reason, "not allowed by policy")
      }))

    it.effect("unknown parties (detail fails) → no bind, refuse", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(fast, script({ status: [ok(status(4))], detail: [fail(failWith("configuration"))] }), request())
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "refuse")
        assert.lengthOf(callsOf(run, "Bind"), 0)
        assert.include(d.reason, "parties are unknown")
      }))

    it.effect("the deadline hit during a slow rebind never gives use-x with the expired X", () =>
      Effect.gen(function*() {
        for (const [settings, expected] of [[fast, "refuse"], [allowReal, "fallback-real"]] as const) {
          const run = yield* runOnce(
            settings,
            script({ status: [ok(status(4), 100)], bind: [ok(newBinding, 250), ok(newBinding, 250), ok(newBinding, 250)] }),
            request({ realCallee: B, binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" } })
          )
          // 100 ms status + a 250 ms bind fits; make the bind slower than what is left instead.
          assert.strictEqual(decisionOf(run).decision, "rebind")
          const slow = yield* runOnce(
            settings,
            script({ status: [ok(status(4), 100)], bind: [fail(failWith("transient"), 290), fail(failWith("transient"), 290), ok(newBinding, 290)] }),
            request({ realCallee: B, binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" } })
          )
          const d = decisionOf(slow)
          assert.strictEqual(d.elapsedMs, settings.deadlineMs)
          assert.strictEqual(d.status, 4)
          assert.strictEqual(d.decision, expected)
          assert.notStrictEqual(d.dial, X)
          assert.include(d.reason, "within the deadline")
        }
      }))

    it.effect("a bind that hangs past the deadline: status 4 still never dials X", () =>
      Effect.gen(function*() {
        const s = settingsSync({ deadlineMs: 800, attemptTimeoutMs: 800, maxAttempts: 1 })
        const run = yield* runOnce(s, script({ status: [ok(status(4), 10)], bind: [hang] }), request({ binding: { phoneNoA: A, mode: "AXN" } }))
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "refuse")
        assert.strictEqual(d.elapsedMs, 800)
      }))
  })

  describe("status 3: real callee", () => {
    it.effect("allowRealFallback with no realCallee: the detail gives the party that is not the caller", () =>
      Effect.gen(function*() {
        for (const [caller, callee] of [[A, B], [B, A]] as const) {
          const run = yield* runOnce(allowReal, script({ status: [ok(status(3))], detail: [ok(detailOf())] }), request({ callerNo: caller }))
          const d = decisionOf(run)
          assert.strictEqual(d.decision, "fallback-real")
          assert.strictEqual(d.dial, callee)
          assert.lengthOf(callsOf(run, "QuerySubscriptionDetail"), 1)
          assert.lengthOf(callsOf(run, "Bind"), 0)
        }
      }))

    it.effect("AXN: anyone but A dialling X reaches A; AXB with an unknown caller is ambiguous → refuse", () =>
      Effect.gen(function*() {
        const axn = yield* runOnce(
          allowReal,
          script({ status: [ok(status(3))], detail: [ok(detailOf({ phoneNoB: undefined }))] }),
          request({ callerNo: OTHER, binding: { mode: "AXN" } })
        )
        assert.strictEqual(decisionOf(axn).dial, A)
        const axb = yield* runOnce(allowReal, script({ status: [ok(status(3))], detail: [ok(detailOf())] }), request({ callerNo: OTHER }))
        const d = decisionOf(axb)
        assert.strictEqual(d.decision, "refuse")
        assert.include(d.reason, "real callee is unknown")
      }))

    it.effect("a known realCallee is dialled without a lookup", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(allowReal, script({ status: [ok(status(3))] }), request({ realCallee: B }))
        assert.strictEqual(decisionOf(run).dial, B)
        assert.lengthOf(run.log, 1)
      }))

    it.effect("without allowRealFallback there is no lookup and the answer is refuse", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(fast, script({ status: [ok(status(3))] }), request({ callerNo: A }))
        assert.strictEqual(decisionOf(run).decision, "refuse")
        assert.lengthOf(run.log, 1)
      }))

    it.effect("status 2 without a number is handled like 3", () =>
      Effect.gen(function*() {
        const run = yield* runOnce(allowReal, script({ status: [ok(status(2))], detail: [ok(detailOf())] }), request({ callerNo: B }))
        const d = decisionOf(run)
        assert.strictEqual(d.decision, "fallback-real")
        assert.strictEqual(d.dial, A)
      }))
  })

  describe("backoff", () => {
    it.effect("transient retries wait base, 2×base (±20% jitter)", () =>
      Effect.gen(function*() {
        const s = settingsSync({ deadlineMs: 5000, maxAttempts: 3, retryBaseMs: 100 })
        const run = yield* runOnce(s, script({ exhausted: fail(failWith("transient")) }), request())
        const starts = run.log.map((c) => c.start)
        assert.lengthOf(starts, 3)
        const [g1, g2] = [starts[1]! - starts[0]!, starts[2]! - starts[1]!]
        assert.isTrue(g1 >= 80 && g1 <= 120, `first gap ${g1}`)
        assert.isTrue(g2 >= 160 && g2 <= 240, `second gap ${g2}`)
      }))

    it.effect("throttled retries wait four times longer", () =>
      Effect.gen(function*() {
        const s = settingsSync({ deadlineMs: 5000, maxAttempts: 3, retryBaseMs: 100 })
        const run = yield* runOnce(s, script({ exhausted: fail(failWith("throttled")) }), request())
        const starts = run.log.map((c) => c.start)
        const [g1, g2] = [starts[1]! - starts[0]!, starts[2]! - starts[1]!]
        assert.isTrue(g1 >= 320 && g1 <= 480, `first gap ${g1}`)
        assert.isTrue(g2 >= 640 && g2 <= 960, `second gap ${g2}`)
      }))

    it("a throttled retry never goes out before the server's x-acs-retry-after", async () => {
      const s = settingsSync({ deadlineMs: 10_000, attemptTimeoutMs: 300, maxAttempts: 2, retryBaseMs: 10 })
      await fc.assert(
        fc.asyncProperty(fc.integer(), fc.integer({ min: 100, max: 3000 }), async (seed, retryAfterMs) => {
          const run = await runCase({
            settings: s,
            script: script({ exhausted: fail(failWith("throttled", { code: "Throttling.User", retryAfterMs })) }),
            request: request(),
            seed
          })
          const [first, second] = run.log
          assert.isDefined(second)
          assert.isAtLeast(second!.start - first!.end!, retryAfterMs, "retried before x-acs-retry-after")
        }),
        { numRuns: 50, seed: 77 }
      )
    })
  })
})

describe("what the provider is asked, and what the reason says", () => {
  it.effect("the status query names the binding (pool, subsId, X) and the caller", () =>
    Effect.gen(function*() {
      const run = yield* runOnce(fast, script({ status: [ok(status(1, X))] }), request({ callerNo: A }))
      assert.deepStrictEqual(callsOf(run, "QueryCallStatus").map((c) => c.input), [
        { poolKey: baseRequest.poolKey, subsId: baseRequest.subsId, phoneNoX: X, callerNo: A }
      ])
    }))

  it.effect("an attempt that times out is named in the reason with the attempt timeout", () =>
    Effect.gen(function*() {
      const s = settingsSync({ deadlineMs: 1000, attemptTimeoutMs: 300, maxAttempts: 1 })
      const d = decisionOf(yield* runOnce(s, script({}), request()))
      assert.strictEqual(d.providerCode, "Transport.Timeout")
      assert.include(d.reason, "Transport.Timeout (transient) no reply within 300 ms")
    }))

  it.effect("parties unknown because the detail lookup failed: the decision carries that failure's code", () =>
    Effect.gen(function*() {
      const run = yield* runOnce(fast, script({ status: [ok(status(4))], detail: [fail(failWith("configuration"))] }), request())
      const d = decisionOf(run)
      assert.strictEqual(d.decision, "refuse")
      assert.strictEqual(d.providerCode, failWith("configuration").code)
      assert.include(d.reason, `the binding's parties are unknown: ${failWith("configuration").code} (configuration)`)
    }))

  it.effect("parties unknown although the detail answered: no failure to name", () =>
    Effect.gen(function*() {
      const run = yield* runOnce(fast, script({ status: [ok(status(4))], detail: [ok(detailOf({ phoneNoA: undefined, phoneNoB: undefined }))] }), request())
      const d = decisionOf(run)
      assert.strictEqual(d.decision, "refuse")
      assert.isNull(d.providerCode)
      assert.lengthOf(callsOf(run, "Bind"), 0)
      assert.include(d.reason, "rebind failed: the binding's parties are unknown; refused")
    }))
})
