/** Provider error metrics stay bounded whatever codes replies carry. */
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { ProviderError } from "../../src/domain/errors.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { decisionDurationMs, decisionsTotal, providerAttemptsTotal, providerErrorsTotal, recordAttempt, recordDecision, recordProviderError } from "../../src/engine/metrics.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import { fail, failWith, makeFakeProvider, ok, script } from "./fakeProvider.ts"

it.effect("past 500 distinct error series, new codes are counted as `other`", () =>
  Effect.gen(function*() {
    const error = (code: string) => new ProviderError({ provider: "p", action: "A", code, errorClass: "transient", message: "" })
    for (let i = 0; i < 700; i++) yield* recordProviderError(error(`invented.${i}`))
    yield* recordProviderError(error("invented.3")) // a code seen before keeps its own series
    const count = (code: string) =>
      Effect.map(Metric.value(Metric.withAttributes(providerErrorsTotal, { provider: "p", action: "A", code, class: "transient" })), (v) => v.count)
    assert.strictEqual(yield* count("invented.3"), 2)
    assert.strictEqual(yield* count("invented.499"), 1)
    assert.strictEqual(yield* count("invented.500"), 0)
    assert.strictEqual(yield* count("other"), 200)
  }))

it.live("a decision after a retried failure shows in /metrics under the documented names and labels", () =>
  Effect.gen(function*() {
    const settings = yield* Effect.orDie(settingsFromObject({ retryBaseMs: 1 }))
    const { provider } = makeFakeProvider(script({ status: [fail(failWith("transient")), ok({ status: 1, calledNo: "17000000001", extension: undefined })] }))
    const engine = yield* Effect.service(Engine).pipe(Effect.provide(engineLayer(settings).pipe(Layer.provide(Layer.succeed(PrivacyNumberProvider, { ...provider, name: "metrics-probe" })))))
    yield* engine.decide({ poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: "17000000001" } as DecideRequest)
    const text = yield* PrometheusMetrics.format()
    for (const line of [
      `precall_provider_attempts_total{provider="metrics-probe",action="QueryCallStatus"} 2`,
      `precall_provider_call_duration_ms_count{provider="metrics-probe",action="QueryCallStatus"} 2`,
      `precall_decisions_total{decision="use-x",source="provider",provider="metrics-probe"} 1`
    ]) assert.include(text, line)
    // the fake names itself in its errors; the test above may have used up the error series, hence `other`
    assert.match(text, /precall_provider_errors_total\{provider="fake",action="QueryCallStatus",code="(isp\.SYSTEM_ERROR|other)",class="transient"\} \d+/)
    for (const name of ["precall_decision_duration_ms", "precall_provider_call_duration_ms"]) assert.match(text, new RegExp(`# TYPE ${name} histogram`))
  }))

it.effect("series of different attribute sets never merge, even when their values run together", () =>
  Effect.gen(function*() {
    yield* recordAttempt("merge-probe", "QueryCallStatus", 1)
    yield* recordAttempt("merge-probeQuery", "CallStatus", 1)
    yield* recordAttempt("merge-probeQuery", "CallStatus", 1)
    const attempts = (provider: string, action: string) =>
      Effect.map(Metric.value(Metric.withAttributes(providerAttemptsTotal, { provider, action })), (v) => v.count)
    assert.strictEqual(yield* attempts("merge-probe", "QueryCallStatus"), 1)
    assert.strictEqual(yield* attempts("merge-probeQuery", "CallStatus"), 2)
  }))

it.effect("every engine metric is described in /metrics, and durations fall into doubling buckets from 1 ms to 1024 ms", () =>
  Effect.gen(function*() {
    yield* recordAttempt("bucket-probe", "QueryCallStatus", 3)
    yield* recordProviderError(new ProviderError({ provider: "bucket-probe", action: "QueryCallStatus", code: "isp.SYSTEM_ERROR", errorClass: "transient", message: "" }))
    const text = yield* PrometheusMetrics.format()
    for (const name of ["precall_decisions_total", "precall_decision_duration_ms", "precall_provider_call_duration_ms", "precall_provider_attempts_total", "precall_provider_errors_total"]) {
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, "m"), `${name} has no description`)
    }
    const buckets = [...text.matchAll(/^precall_provider_call_duration_ms_bucket\{provider="bucket-probe",action="QueryCallStatus",le="([^"]+)"\} (\d+)$/gm)]
      .map(([, le, n]) => [le, Number(n)])
    assert.deepStrictEqual(buckets, [
      ["1", 0], ["2", 0], ["4", 1], ["8", 1], ["16", 1], ["32", 1], ["64", 1], ["128", 1], ["256", 1], ["512", 1], ["1024", 1], ["+Inf", 1]
    ])
  }))

it.effect("decision durations use the same doubling buckets", () =>
  Effect.gen(function*() {
    const before = yield* Metric.value(decisionDurationMs)
    yield* recordDecision({
      decision: "refuse", dial: null, extension: null, subsId: null, provider: "duration-probe", poolKey: "FC1", status: null, source: "degraded",
      reason: "", providerCode: null, attempts: 0, elapsedMs: 600, requestIds: []
    })
    const after = yield* Metric.value(decisionDurationMs)
    const delta = after.buckets.map(([le, n], i) => [le, n - before.buckets[i]![1]])
    assert.deepStrictEqual(delta, [[1, 0], [2, 0], [4, 0], [8, 0], [16, 0], [32, 0], [64, 0], [128, 0], [256, 0], [512, 0], [1024, 1], [Infinity, 1]])
  }))

it.effect("a request naming a provider that is not configured is counted under provider=\"unknown\", not under its name", () =>
  Effect.gen(function*() {
    const settings = yield* Effect.orDie(settingsFromObject({}))
    const { provider } = makeFakeProvider(script({}))
    const engine = yield* Effect.service(Engine).pipe(Effect.provide(engineLayer(settings).pipe(Layer.provide(Layer.succeed(PrivacyNumberProvider, provider)))))
    const d = yield* engine.decide({ provider: "nosuchprovider", poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: "17000000001" } as DecideRequest)
    assert.strictEqual(d.decision, "refuse")
    const counted = (provider: string) =>
      Effect.map(Metric.value(Metric.withAttributes(decisionsTotal, { decision: "refuse", source: "degraded", provider })), (v) => v.count)
    assert.strictEqual(yield* counted("unknown"), 1)
    assert.strictEqual(yield* counted("nosuchprovider"), 0)
  }))
