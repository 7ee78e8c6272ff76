/**
 * HTTP-level metrics, next to the engine's (engine/metrics.ts). Attributes stay bounded: the route is
 * a declared path or "other", the method is one Node's parser accepts, the status a status code.
 */
import { Metric } from "effect"
import { routeTable } from "./api.ts"

export const httpRequestsTotal = Metric.counter("precall_http_requests_total", {
  description: "HTTP requests answered, by method, route and status"
})

const knownPaths = new Set(routeTable.map((r) => r.path))

export const recordHttpRequest = (method: string, path: string, status: number) =>
  Metric.update(Metric.withAttributes(httpRequestsTotal, { method, route: knownPaths.has(path) ? path : "other", status: String(status) }), 1)
