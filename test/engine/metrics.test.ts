/** Provider error metrics stay bounded whatever codes replies carry. */
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { ProviderError } from "../../src/domain/errors.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { providerErrorsTotal, recordProviderError } from "../../src/engine/metrics.ts"
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
