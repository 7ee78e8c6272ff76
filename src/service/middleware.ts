/**
 * What every request goes through, whatever its route: a request id (taken when sane, made
 * otherwise) on the request and the response, JSON 404 / 405 answers, a JSON last-resort 500, and
 * the count of requests cut short by shutdown.
 */
import { Cause, Effect, Exit } from "effect"
import { Headers, HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { randomUUID } from "node:crypto"
import { routeTable } from "./api.ts"
import { errorResponse } from "./errors.ts"
import { recordHttpRequest } from "./metrics.ts"

export const REQUEST_ID_HEADER = "x-request-id"

/** Ids from callers go into logs and headers, so only short plain tokens are kept. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/
/** ... and none that could carry a phone number: a run of 7 or more digits. */
const DIGIT_RUN = /\d{7,}/

/** The caller's request id when it is sane, else a fresh one. */
export const requestIdFrom = (header: string | undefined): string =>
  header !== undefined && SANE_REQUEST_ID.test(header) && !DIGIT_RUN.test(header) ? header : randomUUID()

/** The request id the middleware put on the request. */
export const requestIdOf = (request: HttpServerRequest.HttpServerRequest): string => request.headers[REQUEST_ID_HEADER] ?? ""

/** Requests in flight, whether shutdown has begun, and requests the server (not the client) cut short. */
export class RequestTracker {
  inFlight = 0
  draining = false
  cut = 0
}

/** The path of a request URL: without query and fragment. */
const pathOf = (url: string): string => url.split("?")[0]!.split("#")[0]!

/** The route a request is for, as logs may name it: a known path, else "other" (a raw path may carry a number). */
const routeOf = (url: string): string => {
  const path = pathOf(url)
  return routeTable.some((r) => r.path === path) ? path : "other"
}

/** 405 with the methods the path does answer, or 404 when no route has the path; neither repeats the path. */
const noRoute = (request: HttpServerRequest.HttpServerRequest) => {
  const path = pathOf(request.url)
  const methods = routeTable.filter((r) => r.path === path).map((r) => r.method)
  if (methods.length === 0) return errorResponse(404, "not_found", "no such route; see /openapi.json")
  const allow = [...new Set(methods.includes("GET") ? [...methods, "HEAD"] : methods)].join(", ")
  return errorResponse(405, "method_not_allowed", `${request.method} is not allowed here; allowed: ${allow}`, { allow })
}

const isRouteNotFound = (cause: Cause.Cause<unknown>): boolean =>
  cause.reasons.some((r) => r._tag === "Fail" && HttpServerError.isHttpServerError(r.error) && r.error.reason._tag === "RouteNotFound")

/** Interrupted by the server (shutdown), not because the client went away. */
export const isServerInterrupt = (cause: Cause.Cause<unknown>): boolean =>
  cause.reasons.some((r) => r._tag === "Interrupt" && !r.annotations.has(HttpServerError.ClientAbort.key))

/** Names only: messages and values of a failure may carry request data (phone numbers), so they stay out of logs. */
const failureKinds = (cause: Cause.Cause<unknown>): string =>
  cause.reasons.map((r) => {
    const value: unknown = r._tag === "Fail" ? r.error : r._tag === "Die" ? r.defect : undefined
    const name = typeof value === "object" && value !== null ? ((value as { _tag?: unknown })._tag ?? value.constructor.name) : typeof value
    return `${r._tag}(${String(name)})`
  }).join(", ")

/** The last-resort log line: the kinds of failure only, no values. */
export const logRequestFailed = (requestId: string, method: string, url: string, cause: Cause.Cause<unknown>) =>
  Effect.logError({ msg: "request failed", requestId, method, route: routeOf(url), failure: failureKinds(cause) })

/** The message of the last-resort 500. */
export const internalErrorMessage = (requestId: string): string => `internal error; quote request id ${requestId}`

export const requestMiddleware = (tracker: RequestTracker) =>
  HttpRouter.middleware((httpEffect) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const id = requestIdFrom(request.headers[REQUEST_ID_HEADER])
      const withId = request.modify({ headers: Headers.set(request.headers, REQUEST_ID_HEADER, id) })
      tracker.inFlight++
      const response = yield* httpEffect.pipe(
        Effect.provideService(HttpServerRequest.HttpServerRequest, withId),
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause)
            : isRouteNotFound(cause)
            ? Effect.succeed(noRoute(request))
            : Effect.as(logRequestFailed(id, request.method, request.url, cause), errorResponse(500, "internal", internalErrorMessage(id)))
        ),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            tracker.inFlight--
            if (Exit.isFailure(exit) && isServerInterrupt(exit.cause)) tracker.cut++
          })
        )
      )
      yield* recordHttpRequest(request.method, pathOf(request.url), response.status)
      const answered = HttpServerResponse.setHeader(response, REQUEST_ID_HEADER, id)
      // While draining, close kept-alive connections after their response so the server can stop.
      return tracker.draining ? HttpServerResponse.setHeader(answered, "connection", "close") : answered
    }), { global: true })
