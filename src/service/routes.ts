/** The handlers of PrecallApi. Decoding, auth and error rendering happen around them (api.ts, body.ts, auth.ts). */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { PrometheusMetrics } from "effect/observability"
import { CurrentRequest } from "../audit/audited.ts"
import type { Decision } from "../domain/decision.ts"
import type { DecideRequest } from "../domain/request.ts"
import { Engine, type EngineShape } from "../engine/Engine.ts"
import { CurrentApiKeyId } from "./auth.ts"
import { NotReady, PrecallApi } from "./api.ts"
import { logDecision } from "./logging.ts"
import { requestIdOf } from "./middleware.ts"
import { Readiness } from "./readiness.ts"

/**
 * One decision for a decoded request, as both the HttpApi handler and the decision route on
 * node:http (decisionRoute.ts) run it: who asked goes to the exposure audit (src/audit/audited.ts),
 * and the decision is logged.
 */
export const decideAndLog = (engine: EngineShape, payload: DecideRequest, requestId: string, apiKeyId: string | null): Effect.Effect<Decision> =>
  Effect.clockWith((clock) => {
    const started = clock.currentTimeMillisUnsafe()
    return Effect.flatMap(engine.decide(payload).pipe(Effect.provideService(CurrentRequest, { requestId, apiKeyId })), (decision) =>
      Effect.as(logDecision({ requestId, decision, latencyMs: clock.currentTimeMillisUnsafe() - started }), decision))
  })

/** The engine always answers (provider trouble is a degraded decision), so a valid request is always a 200. */
export const decisionRoutes = HttpApiBuilder.group(PrecallApi, "decisions", (handlers) =>
  Effect.gen(function*() {
    const engine = yield* Engine
    return handlers.handle("decide", ({ payload, request }) =>
      Effect.gen(function*() {
        return yield* decideAndLog(engine, payload, requestIdOf(request), yield* CurrentApiKeyId)
      }))
  }))

export const operationRoutes = HttpApiBuilder.group(PrecallApi, "operations", (handlers) =>
  Effect.gen(function*() {
    const readiness = yield* Readiness
    return handlers
      .handle("healthz", () => Effect.succeed({ status: "ok" as const }))
      .handle("readyz", () => Effect.flatMap(readiness.check, (report) => (report.ready ? Effect.succeed(report) : Effect.fail(new NotReady(report)))))
      .handle("metrics", () => PrometheusMetrics.format())
  }))
