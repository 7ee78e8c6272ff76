/**
 * What a decision tells tracing and metrics (docs/operations.md): one `precall.decide` span with the
 * provider, decision, source and attempts, one `precall.provider.call` child per attempt with the
 * provider, action and attempt number, and each attempt's duration in
 * precall_provider_call_duration_ms. A recording tracer and the TestClock, no exporter.
 */
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Metric, References, Tracer } from "effect"
import { TestClock } from "effect/testing"
import type { DecideRequest } from "../../src/domain/request.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { providerCallDurationMs } from "../../src/engine/metrics.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import { spansReceived } from "../../src/telemetry/spans.ts"
import { fail, failWith, makeFakeProvider, ok, script } from "./fakeProvider.ts"

const X = "17000000001"
const request = { poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: X, callerNo: "13800138000" } as DecideRequest

/** Decides once over a provider named `name` whose QueryCallStatus fails transiently after 30 ms, then answers status 1 after 40 ms. */
const decideTraced = (name: string, tracingOn = true) =>
  Effect.gen(function*() {
    const spans: Array<Tracer.NativeSpan> = []
    const tracer = Tracer.make({ span: (o) => {
      const s = new Tracer.NativeSpan(o)
      spans.push(s)
      return s
    } })
    const settings = yield* Effect.orDie(settingsFromObject({ retryBaseMs: 10, maxAttempts: 3, deadlineMs: 1000 }))
    const { provider } = makeFakeProvider(script({ status: [fail(failWith("transient"), 30), ok({ status: 1, calledNo: X, extension: undefined }, 40)] }))
    const engine = yield* Effect.service(Engine).pipe(Effect.provide(engineLayer(settings).pipe(Layer.provide(Layer.succeed(PrivacyNumberProvider, { ...provider, name })))))
    const fiber = yield* Effect.forkChild(engine.decide(request).pipe(Effect.provideService(Tracer.Tracer, tracer), Effect.provideService(References.TracerEnabled, tracingOn)))
    yield* TestClock.adjust(1000)
    const decision = yield* Fiber.join(fiber)
    return { decision, spans }
  })

it.effect("a decision is one precall.decide span with provider, decision, source and attempts, and one precall.provider.call child per attempt", () =>
  Effect.gen(function*() {
    const { decision, spans } = yield* decideTraced("trace-probe")
    assert.strictEqual(decision.decision, "use-x")
    const decides = spans.filter((s) => s.name === "precall.decide")
    assert.lengthOf(decides, 1)
    const root = decides[0]!
    assert.deepStrictEqual(Object.fromEntries(root.attributes), {
      "precall.provider": "trace-probe", "precall.decision": "use-x", "precall.source": "provider", "precall.attempts": 2
    })
    const calls = spans.filter((s) => s.name === "precall.provider.call")
    assert.deepStrictEqual(calls.map((c) => Object.fromEntries(c.attributes)), [
      { "precall.provider": "trace-probe", "precall.action": "QueryCallStatus", "precall.attempt": 1 },
      { "precall.provider": "trace-probe", "precall.action": "QueryCallStatus", "precall.attempt": 2 }
    ])
    for (const call of calls) assert.strictEqual(call.parent._tag === "Some" ? call.parent.value.spanId : undefined, root.spanId)
    // no number in any attribute
    for (const s of spans) for (const v of s.attributes.values()) assert.notInclude(String(v), X)
  }))

it.effect("each attempt's duration on the clock is recorded under its provider and action", () =>
  Effect.gen(function*() {
    yield* decideTraced("duration-probe")
    const v = yield* Metric.value(Metric.withAttributes(providerCallDurationMs, { provider: "duration-probe", action: "QueryCallStatus" }))
    assert.strictEqual(v.count, 2)
    // durations are differences of clock readings: equal up to floating-point rounding
    assert.closeTo(v.sum, 70, 1e-6)
    assert.closeTo(v.min, 30, 1e-6)
    assert.closeTo(v.max, 40, 1e-6)
  }))

it.effect("with tracing switched off no span is made, and the decision and its metrics are the same", () =>
  Effect.gen(function*() {
    const { decision, spans } = yield* decideTraced("untraced-probe", false)
    assert.strictEqual(decision.decision, "use-x")
    assert.strictEqual(decision.attempts, 2)
    assert.lengthOf(spans, 0)
    const v = yield* Metric.value(Metric.withAttributes(providerCallDurationMs, { provider: "untraced-probe", action: "QueryCallStatus" }))
    assert.strictEqual(v.count, 2)
  }))

it.effect("spans are made only for a tracer that receives them: not for effect's native one, nor with tracing off", () =>
  Effect.gen(function*() {
    const received = Effect.withFiber((fiber) => Effect.succeed(spansReceived(fiber)))
    const custom = Tracer.make({ span: (o) => new Tracer.NativeSpan(o) })
    assert.isFalse(yield* received)
    assert.isFalse(yield* Effect.provideService(received, Tracer.Tracer, Tracer.nativeTracer))
    assert.isTrue(yield* Effect.provideService(received, Tracer.Tracer, custom))
    assert.isFalse(yield* received.pipe(Effect.provideService(Tracer.Tracer, custom), Effect.provideService(References.TracerEnabled, false)))
  }))
