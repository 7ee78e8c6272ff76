/**
 * The HTTP server: PrecallApi's routes with their middleware on a Node http server. Shutdown is
 * graceful: on scope close the server stops accepting, in-flight requests get `shutdownGraceMs`
 * to finish, and only then are stragglers interrupted (counted in the RequestTracker).
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Effect, Layer, type Redacted } from "effect"
import { HttpRouter } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { OPENAPI_PATH, PrecallApi } from "./api.ts"
import type { NumberHasher } from "../audit/record.ts"
import { adminAuthorizationLayer, authorizationLayer } from "./auth.ts"
import { exposureRoutes } from "./exposures.ts"
import { jsonBodyLayer } from "./body.ts"
import { decisionRouteLayer, DecisionServer } from "./decisionRoute.ts"
import { requestMiddleware, type RequestTracker } from "./middleware.ts"
import { outcomeRoutes } from "./outcomes.ts"
import { huaweiPushRoute, type HuaweiPushOptions } from "./pushes.ts"
import { decisionRoutes, operationRoutes } from "./routes.ts"

export interface ServerOptions {
  /** 0 picks a free port. */
  readonly port: number
  readonly host: string
  /** Empty: `/v1/*` is open (the embedded emulator demo only; see config.ts). */
  readonly apiKeys: ReadonlyArray<Redacted.Redacted<string>>
  /** Keys of GET /v1/exposures (and only of it); with none it refuses everyone unless `apiKeys` is empty too (the open demo). */
  readonly adminKeys?: ReadonlyArray<Redacted.Redacted<string>> | undefined
  /** Hashes the `number` of an exposure search; without it (no PRECALL_AUDIT_HASH_SECRET) searching by number is refused. */
  readonly numberHasher?: NumberHasher | undefined
  readonly shutdownGraceMs: number
  readonly tracker: RequestTracker
  /** Huawei privacy-call pushes (POST /v1/providers/huawei/events), when a Huawei app is configured. */
  readonly huaweiPushes?: HuaweiPushOptions | undefined
  /** Limits against slow or greedy clients; `connectionLimits` has the defaults. */
  readonly limits?: Partial<ConnectionLimits> | undefined
  /**
   * Answer `POST /v1/decisions` on node:http (decisionRoute.ts; default true). False leaves it to
   * HttpApi: only the parity test, which compares the two, sets it.
   */
  readonly fastDecisionRoute?: boolean | undefined
}

export interface ConnectionLimits {
  /** A client must have sent its request headers within this time, else its connection is cut. */
  readonly headersTimeoutMs: number
  /** ... and its whole request within this one. */
  readonly requestTimeoutMs: number
  /** Connections beyond this many at once are refused at accept. */
  readonly maxConnections: number
}

/** Headers within 10 s, the whole request within 15 s, at most 1024 connections at once. */
export const connectionLimits: ConnectionLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, maxConnections: 1024 }

/**
 * A node:http server that cuts slow-header (slowloris) and slow-body clients and caps connections.
 * Node enforces the timeouts on a periodic sweep; the sweep runs every quarter of the header timeout
 * (at most 1 s) so a slow client is cut within a few hundred ms of its deadline.
 */
const boundedServer = (limits: ConnectionLimits): DecisionServer => {
  const server = new DecisionServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)))
  })
  server.maxConnections = limits.maxConnections
  return server
}

/** Built after the server, so its finalizer runs first on shutdown: it marks the drain before the server stops listening. */
const drainMarker = (options: ServerOptions) =>
  Layer.effectDiscard(Effect.addFinalizer(() =>
    Effect.andThen(
      Effect.sync(() => (options.tracker.draining = true)),
      Effect.logInfo({ msg: "shutting down", inFlight: options.tracker.inFlight, graceMs: options.shutdownGraceMs })
    )
  ))

export const serverLayer = (options: ServerOptions) => {
  const api = HttpApiBuilder.layer(PrecallApi, { openapiPath: OPENAPI_PATH }).pipe(
    Layer.provide(Layer.mergeAll(decisionRoutes, operationRoutes, outcomeRoutes(PrecallApi), exposureRoutes(PrecallApi, options.numberHasher))),
    Layer.provide(Layer.mergeAll(
      authorizationLayer(options.apiKeys),
      adminAuthorizationLayer(options.adminKeys ?? [], options.apiKeys.length === 0),
      jsonBodyLayer
    ))
  )
  const pushes = options.huaweiPushes === undefined ? Layer.empty : huaweiPushRoute(options.huaweiPushes)
  const serve = HttpRouter.serve(Layer.mergeAll(api, pushes, requestMiddleware(options.tracker)), { disableLogger: true, disableListenLog: true })
  // One node server per build; the decision route is built between it and `serve`, so on shutdown
  // it outlives the graceful drain of `serve`'s finalizer (decisionRoute.ts).
  return Layer.unwrap(Effect.sync(() => {
    const server = boundedServer({ ...connectionLimits, ...options.limits })
    return drainMarker(options).pipe(
      Layer.provideMerge(serve),
      Layer.provideMerge(options.fastDecisionRoute === false ? Layer.empty : decisionRouteLayer(server, options)),
      Layer.provideMerge(NodeHttpServer.layer(() => server, {
        port: options.port,
        host: options.host,
        gracefulShutdownTimeout: Duration.millis(options.shutdownGraceMs)
      }))
    )
  }))
}
