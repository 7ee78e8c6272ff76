/**
 * `POST /v1/decisions` answered on node:http, below effect's HttpApi stack (issue 11).
 *
 * Why: per request, the HttpApi route ran effect's HttpRouter, NodeHttpServer's request→fiber
 * adapter (an HttpServerRequest, a request scope, a response encoder), the request middleware, the
 * security decode, the JsonBody middleware, the payload decode and the response encode, each as
 * effects: ~60-100 µs of server CPU per decision. Here the checks run as plain functions on node's
 * `(req, res)` and only the decision itself (`engine.decide`, its log line, the encoding of the
 * answer) runs as an Effect, one fiber per request. Measured (2026-12-04, 2 cores, 32 connections,
 * median of 3 interleaved 8 s runs on one emulator): live decisions 417 → 320 µs of server CPU per
 * request (the skeleton, node:http plus the same signed provider call: 130 µs), status-cache hits
 * 176 → 113 µs (a bare node:http answer: 27 µs). What is left is mostly the engine's.
 *
 * The contract is unchanged: the same checks in the same order, the same status, body and headers,
 * the same log lines and metrics (test/service/decisionRoute.test.ts sends one table of requests to a
 * server with this route and one without and compares the answers). The checks are the functions the
 * HttpApi path uses too (auth.ts, body.ts, middleware.ts, errors.ts, routes.ts); the endpoint stays
 * declared in api.ts, which drives `/openapi.json` and answers whenever this route is not installed.
 *
 * How: `DecisionServer` is the node:http server; while `decisionRouteLayer` is built it hands its
 * `request` events for exactly `POST /v1/decisions` (any query string) to this route, and every other
 * request (other paths and methods, absolute-form targets, `Expect: 100-continue`, which node emits
 * as `checkContinue`) to the listeners effect's NodeHttpServer registered. Decision fibers run in a
 * scope forked like NodeHttpServer.makeHandler's: the layer is built before HttpRouter.serve, so on
 * shutdown its finalizer runs after the server's graceful drain, and only then interrupts stragglers
 * (counted in `tracker.cut`). A client that goes away interrupts its fiber, as makeHandler does.
 *
 * With an exporting tracer (OTEL_EXPORTER_OTLP_ENDPOINT) the route is not installed: HttpApi's
 * tracer middleware makes the HTTP server span (and continues a caller's `traceparent`), which this
 * route does not.
 */
import { Cause, type Context, Effect, Exit, Fiber, Layer, type Redacted, Result, Schema, Scope } from "effect"
import { HttpServerError } from "effect/http"
import { type IncomingMessage, type OutgoingHttpHeaders, Server, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { finished } from "node:stream"
import { Decision } from "../domain/decision.ts"
import { Engine, type EngineShape } from "../engine/Engine.ts"
import { spansReceived } from "../telemetry/spans.ts"
import { bearerCredential, makeApiKeyAuthorize } from "./auth.ts"
import { decodeDecideRequest, declaresTooLarge, isJsonMediaType, MAX_BODY_BYTES, notJson, parseJsonBody, payloadMismatch, tooLarge, unreadable } from "./body.ts"
import { errorBody, type Issue } from "./errors.ts"
import { recordHttpRequestUnsafe } from "./metrics.ts"
import { internalErrorMessage, isServerInterrupt, logRequestFailed, REQUEST_ID_HEADER, requestIdFrom, type RequestTracker } from "./middleware.ts"
import { decideAndLog } from "./routes.ts"
import { makeTurnWriter } from "./turnWriter.ts"

export const DECISION_PATH = "/v1/decisions"

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/** `POST /v1/decisions`, with or without a query string: the requests the router gives the decide endpoint. */
const isDecisionRequest = (request: IncomingMessage): boolean => {
  if (request.method !== "POST") return false
  const url = request.url ?? ""
  return url.startsWith(DECISION_PATH) && (url.length === DECISION_PATH.length || url.charCodeAt(DECISION_PATH.length) === 63 /* ? */)
}

/** A node:http server whose decision requests go to `decisionRoute` while it is installed. */
export class DecisionServer extends Server {
  decisionRoute: Handler | undefined = undefined

  override emit(event: string, ...args: Array<any>): boolean {
    if (event === "request" && this.decisionRoute !== undefined && isDecisionRequest(args[0])) {
      this.decisionRoute(args[0], args[1])
      return true
    }
    return super.emit(event, ...args)
  }
}

export interface DecisionRouteOptions {
  readonly apiKeys: ReadonlyArray<Redacted.Redacted<string>>
  readonly tracker: RequestTracker
}

/** Installs the route on `server` for as long as the layer lives (see the module comment for the scope order). */
export const decisionRouteLayer = (server: DecisionServer, options: DecisionRouteOptions): Layer.Layer<never, never, Engine> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const engine = yield* Engine
    const parent = yield* Effect.withFiber((fiber) => Effect.succeed(fiber))
    // a receiving tracer gets HttpApi's HTTP server spans: the route stays there
    if (spansReceived(parent)) return
    const fibers = Scope.forkUnsafe(yield* Effect.scope, "parallel")
    server.decisionRoute = makeRoute(engine, parent.context, fibers, parent.id, options)
    yield* Effect.addFinalizer(() => Effect.sync(() => (server.decisionRoute = undefined)))
  }))

const textDecoder = new TextDecoder()
const encodeDecision = Schema.encodeUnknownResult(Schema.toCodecJson(Decision))

/** The decision as its answer's JSON; one the schema refuses is a defect (a 500), as a failure inside the fiber would be. */
const answerJson = (decision: Decision): Exit.Exit<string> => {
  const encoded = encodeDecision(decision)
  return Result.isFailure(encoded) ? Exit.die(encoded.failure) : Exit.succeed(JSON.stringify(encoded.success))
}

const errorJson = (e: { readonly error: { readonly code: string; readonly message: string; readonly issues: ReadonlyArray<Issue> } }): string =>
  JSON.stringify(errorBody(e.error.code, e.error.message, e.error.issues))

const makeRoute = (
  engine: EngineShape,
  context: Context.Context<never>,
  fibers: Scope.Scope,
  parentId: number,
  { apiKeys, tracker }: DecisionRouteOptions
): Handler => {
  const authorize = makeApiKeyAuthorize(apiKeys)
  const runFork = Effect.runForkWith(context)
  const record = (status: number) => recordHttpRequestUnsafe("POST", DECISION_PATH, status, context)
  const end = makeTurnWriter()

  return (request, response) => {
    const id = requestIdFrom(request.headers[REQUEST_ID_HEADER] as string | undefined)
    tracker.inFlight++
    /** True until the request has left `tracker.inFlight` (answered, or abandoned by the client). */
    let open = true
    const leave = (): boolean => {
      if (!open) return false
      open = false
      tracker.inFlight--
      return true
    }
    /** The answer, as the request middleware finishes it: counted, then written with the request id. */
    const answer = (status: number, body: string) => {
      if (!leave()) return
      record(status)
      write(request, response, status, body, id, tracker.draining, end)
    }
    let fiber: Fiber.Fiber<Decision> | undefined = undefined
    let cancelRead: (() => void) | undefined = undefined
    response.on("close", () => {
      if (response.writableEnded) return
      if (fiber !== undefined) fiber.interruptUnsafe(parentId, HttpServerError.ClientAbort.annotation)
      else if (leave()) cancelRead?.()
    })

    const who = authorize(bearerCredential(request.headers.authorization))
    if (Result.isFailure(who)) return answer(401, errorJson(who.failure))
    if (!isJsonMediaType(request.headers["content-type"])) return answer(415, errorJson(notJson))
    if (declaresTooLarge(request.headers["content-length"])) return answer(413, errorJson(tooLarge))

    cancelRead = readBody(request, (body) => {
      cancelRead = undefined
      if (!open) return
      if (body === "tooLarge") return answer(413, errorJson(tooLarge))
      if (body === "unreadable") return answer(400, errorJson(unreadable))
      const json = parseJsonBody(textDecoder.decode(body))
      if (Result.isFailure(json)) return answer(400, errorJson(json.failure))
      const payload = decodeDecideRequest(json.success)
      if (Result.isFailure(payload)) return answer(400, errorJson(payloadMismatch(payload.failure)))

      const running = Fiber.runIn(runFork(decideAndLog(engine, payload.success, id, who.success)), fibers)
      fiber = running
      const onExit = (decided: Exit.Exit<Decision>) => {
        const exit = Exit.isSuccess(decided) ? answerJson(decided.value) : Exit.failCause(decided.cause)
        if (Exit.isSuccess(exit)) {
          // counted when decided, as the request middleware counts a handler's answer
          record(200)
          if (leave()) write(request, response, 200, exit.value, id, tracker.draining, end)
        } else if (Cause.hasInterruptsOnly(exit.cause)) {
          if (leave() && isServerInterrupt(exit.cause)) {
            tracker.cut++
            // NodeHttpServer answers a request it cut with an empty 503.
            if (!response.writableEnded && !response.destroyed) {
              response.writeHead(503, closesConnection(request) ? { connection: "close" } : {})
              response.end()
            }
          }
        } else if (open) {
          // the last resort of the request middleware: the kinds of failure logged, a 500 with the request id
          runFork(logRequestFailed(id, "POST", request.url ?? DECISION_PATH, exit.cause))
          answer(500, JSON.stringify(errorBody("internal", internalErrorMessage(id))))
        }
      }
      const exit = running.pollUnsafe()
      if (exit !== undefined) onExit(exit)
      else running.addObserver(onExit)
    })
  }
}

/**
 * Reads the body as NodeHttpServer's `request.text` does with a 64 KiB MaxBodySize: a body past the
 * limit stops being collected and the rest is drained; a stream error, or a close before the end (the
 * client went away mid-body), is an unreadable body. Returns a cancel for a client that goes away
 * mid-body. Listens to the request's own events: `stream.finished` (what `text` uses) checked states a request
 * being read cannot be in and set up and took down more listeners, with closures of its own, per request.
 * Once the body is had (or given up) the listeners stay and do nothing, instead of four `off`
 * calls per request; the `error` one keeps a late stream error from going unhandled.
 */
const readBody = (request: IncomingMessage, done: (body: Buffer | "tooLarge" | "unreadable") => void): () => void => {
  let chunks: Array<Buffer> | undefined = []
  let bytes = 0
  const onData = (chunk: Buffer) => {
    if (chunks === undefined) return
    chunks.push(chunk)
    bytes += chunk.length
    if (bytes > MAX_BODY_BYTES) {
      chunks = undefined
      const drained = finished(request, { readable: true, writable: false }, () => drained())
      request.resume()
      done("tooLarge")
    }
  }
  const onEnd = () => {
    if (chunks === undefined) return
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    chunks = undefined
    done(body)
  }
  const onBroken = () => {
    if (chunks === undefined) return
    chunks = undefined
    destroy(request)
    done("unreadable")
  }
  request.on("data", onData)
  request.on("end", onEnd)
  request.on("error", onBroken)
  request.on("close", onBroken)
  return () => {
    chunks = undefined
    destroy(request)
  }
}

const destroy = (request: IncomingMessage) => {
  const swallowed = finished(request, { readable: true, writable: false }, () => swallowed())
  request.destroy()
}

/**
 * Writes a JSON answer as NodeHttpServer does (a response to a gone client is dropped), with the
 * request id, and `connection: close` while draining or when much of the body is left unread; the
 * body goes out with the turn's other answers (turnWriter.ts).
 */
const write = (
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  body: string,
  id: string,
  draining: boolean,
  end: (response: ServerResponse, body: string) => void
) => {
  if (response.destroyed) return
  // an answer given before the whole body came (a refusal on its headers, a body too large): the rest is seen to once it is sent
  if (request.httpVersionMajor === 1 && !request.complete) response.prependListener("finish", () => teardownBody(request, response))
  const headers: OutgoingHttpHeaders = { "content-type": "application/json", "content-length": Buffer.byteLength(body), [REQUEST_ID_HEADER]: id }
  if (draining || closesConnection(request)) headers["connection"] = "close"
  response.writeHead(status, headers)
  end(response, body)
}

// What follows mirrors NodeHttpServer's handling of a body left unread (its `closesConnection`,
// `teardownBody` and `closeSocket` are internal): the connection is kept for a small rest, which is
// drained, and closed when more than 256 KiB are left.
const MAX_DRAIN_BYTES = 256 * 1024
const CLOSE_GRACE_MS = 500

const closesConnection = (request: IncomingMessage): boolean => {
  if (request.httpVersionMajor !== 1 || request.complete) return false
  const contentLength = request.headers["content-length"]
  return contentLength !== undefined && Number(contentLength) > MAX_DRAIN_BYTES
}

const teardownBody = (request: IncomingMessage, response: ServerResponse) => {
  if (request.complete || request.destroyed) return
  const socket = request.socket
  const internals = response as unknown as { _last: boolean }
  if (internals._last) {
    // skips node's own dump of the body, keeping the parser's backpressure
    ;(request as unknown as { _consuming: boolean })._consuming = true
    internals._last = false
    return closeSocket(socket)
  }
  let bytes = 0
  request.on("data", (chunk: Buffer) => {
    bytes += chunk.length
    if (bytes > MAX_DRAIN_BYTES) {
      request.pause()
      closeSocket(socket)
    }
  })
  request.resume()
}

const closeSocket = (socket: Socket) => {
  if (socket.destroyed) return
  socket.end()
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS)
  socket.once("close", () => clearTimeout(timer))
}
