/**
 * `POST /v1/outcomes`: how a decided call ended, reported by the dialing app so X health learns from
 * it (src/evidence/outcomes.ts). Same API keys, body rules and error shape as `/v1/decisions`.
 */
import { Effect } from "effect"
import { HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { OutcomeReceipt, OutcomeReport, Outcomes } from "../evidence/outcomes.ts"
import type { PrecallApi } from "./api.ts"
import { Authorization } from "./auth.ts"
import { JsonBody } from "./body.ts"
import { BadRequest, badRequest } from "./errors.ts"

export const outcomesGroup = HttpApiGroup.make("outcomes").add(
  HttpApiEndpoint.post("reportOutcome", "/v1/outcomes", { payload: OutcomeReport, success: OutcomeReceipt, error: BadRequest })
    .annotate(OpenApi.Summary, "How a decided call ended: teaches X health (number-class failures on an X make the next decision rebind)")
    .middleware(JsonBody)
    .middleware(Authorization)
)

/** The handler; takes the API (a type-only import of api.ts, which adds this group). */
export const outcomeRoutes = (api: typeof PrecallApi) =>
  HttpApiBuilder.group(api, "outcomes", (handlers) =>
    Effect.gen(function*() {
      const outcomes = yield* Outcomes
      return handlers.handle("reportOutcome", ({ payload }) =>
        // the payload is decoded already; report() decodes the encoded form again and applies the cross-field rules
        outcomes.report({
          provider: payload.provider,
          subsId: payload.subsId,
          phoneNoX: payload.phoneNoX,
          ...(payload.q850 === undefined ? {} : { q850: payload.q850 }),
          ...(payload.stateCode === undefined ? {} : { stateCode: payload.stateCode }),
          ...(payload.callSerialNo === undefined ? {} : { callSerialNo: payload.callSerialNo })
        }).pipe(Effect.mapError((e) => badRequest("invalid_request", "the outcome report cannot be used", e.issues))))
    }))
