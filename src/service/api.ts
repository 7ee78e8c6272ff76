/**
 * The HTTP contract, declared once with HttpApi: the schemas here decode requests, encode responses
 * and generate `GET /openapi.json`, so the document cannot drift from what the server accepts.
 */
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Decision } from "../domain/decision.ts"
import { DecideRequest } from "../domain/request.ts"
import { Authorization } from "./auth.ts"
import { JsonBody, payloadParseOptions } from "./body.ts"
import { exposuresGroup } from "./exposures.ts"
import { outcomesGroup } from "./outcomes.ts"
import { ReadinessReport } from "./readiness.ts"

export const Health = Schema.Struct({ status: Schema.Literal("ok") })

export class NotReady extends Schema.Error<NotReady>("NotReady")(ReadinessReport.fields, {
  httpApiStatus: 503,
  description: "A check failed; the body says which"
}) {}

export const PrometheusText = Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/plain; version=0.0.4; charset=utf-8" }))

const decisions = HttpApiGroup.make("decisions").add(
  HttpApiEndpoint.post("decide", "/v1/decisions", { payload: DecideRequest, success: Decision })
    .annotate(OpenApi.Summary, "One pre-call decision for a masked-number binding")
    // Listed inner first: the key is checked before the body is read.
    .middleware(JsonBody)
    .middleware(Authorization)
)

const operations = HttpApiGroup.make("operations").add(
  HttpApiEndpoint.get("healthz", "/healthz", { success: Health }).annotate(OpenApi.Summary, "Liveness: the process serves HTTP"),
  HttpApiEndpoint.get("readyz", "/readyz", { success: ReadinessReport, error: NotReady })
    .annotate(OpenApi.Summary, "Readiness: configuration valid and provider endpoint reachable"),
  HttpApiEndpoint.get("metrics", "/metrics", { success: PrometheusText }).annotate(OpenApi.Summary, "Prometheus metrics")
)

export class PrecallApi extends HttpApi.make("precall")
  .add(decisions)
  .add(operations)
  .add(outcomesGroup)
  .add(exposuresGroup)
  .annotate(OpenApi.Title, "precall")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Description, "Pre-call decisions for masked-number (privacy number) calls")
  // the decision route on node:http decodes with the same options (body.ts)
  .annotate(HttpApi.PayloadParseOptions, payloadParseOptions)
{}

export const OPENAPI_PATH = "/openapi.json"

/** Method and path of every route, for 405 answers with an Allow header. */
export const routeTable: ReadonlyArray<{ readonly method: string; readonly path: string }> = [
  ...Object.values(PrecallApi.groups).flatMap((group) =>
    Object.values(group.endpoints).map((endpoint) => ({ method: endpoint.method, path: endpoint.path }))
  ),
  { method: "GET", path: OPENAPI_PATH }
]
