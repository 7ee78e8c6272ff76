/**
 * HTTP-level metrics, next to the engine's (engine/metrics.ts). Attributes stay bounded: the route is
 * a declared path or "other", the method is one Node's parser accepts, the status a status code.
 */
import { type Context, Metric } from "effect"
import { taggedOnce } from "../engine/metrics.ts"
import { routeTable } from "./api.ts"

export const httpRequestsTotal = Metric.counter("precall_http_requests_total", {
  description: "HTTP requests answered, by method, route and status"
})

const knownPaths = new Set(routeTable.map((r) => r.path))

/** The counter tagged once per (method, route, status), as the engine's metrics are (`taggedOnce`). */
const requestsBy = taggedOnce(httpRequestsTotal, ["method", "route", "status"])

const taggedFor = (method: string, path: string, status: number): Metric.Metric<number, unknown> =>
  requestsBy(method, knownPaths.has(path) ? path : "other", String(status))

export const recordHttpRequest = (method: string, path: string, status: number) => Metric.update(taggedFor(method, path, status), 1)

/** The same update for a caller holding the context (the decision route, outside any fiber). */
export const recordHttpRequestUnsafe = (method: string, path: string, status: number, context: Context.Context<never>): void =>
  taggedFor(method, path, status).updateUnsafe(1, context)
