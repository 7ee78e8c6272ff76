/** Provider error metrics stay bounded whatever codes replies carry. */
import { assert, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { ProviderError } from "../../src/domain/errors.ts"
import { providerErrorsTotal, recordProviderError } from "../../src/engine/metrics.ts"

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
