/**
 * HTTP-level metrics, next to the engine's (engine/metrics.ts). Attributes stay bounded: the route is
 * a declared path or "other", the method is one Node's parser accepts, the status a status code.
 */
import { type Context, Metric } from "effect"
import { routeTable } from "./api.ts"

export const httpRequestsTotal = Metric.counter("precall_http_requests_total", {
  description: "HTTP requests answered, by method, route and status"
})

const knownPaths = new Set(routeTable.map((r) => r.path))

/**
 * The counter tagged once per (method, route, status), found through nested Maps: tagging on every
 * request re-made the tagged metric, and a joined key string per request was the next cost.
 */
const tagged = new Map<string, Map<string, Map<number, Metric.Metric<number, unknown>>>>()

const taggedFor = (method: string, path: string, status: number): Metric.Metric<number, unknown> => {
  const route = knownPaths.has(path) ? path : "other"
  let byRoute = tagged.get(method)
  if (byRoute === undefined) tagged.set(method, byRoute = new Map())
  let byStatus = byRoute.get(route)
  if (byStatus === undefined) byRoute.set(route, byStatus = new Map())
  let metric = byStatus.get(status)
  if (metric === undefined) byStatus.set(status, metric = Metric.withAttributes(httpRequestsTotal, { method, route, status: String(status) }))
  return metric
}

export const recordHttpRequest = (method: string, path: string, status: number) => Metric.update(taggedFor(method, path, status), 1)

/** The same update for a caller holding the context (the decision route, outside any fiber). */
export const recordHttpRequestUnsafe = (method: string, path: string, status: number, context: Context.Context<never>): void =>
  taggedFor(method, path, status).updateUnsafe(1, context)
