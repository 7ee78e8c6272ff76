/**
 * How a signed Aliyun request reaches the wire: one POST in, status, body text and the retry-after
 * header out. Two transports stand behind the one interface:
 *
 * - `httpClientTransport`: effect's HttpClient (whatever the context provides: undici, fetch, a stub
 *   in tests). The default when no `AliyunTransport` is set.
 * - `undiciTransport`: undici's `Dispatcher.dispatch` straight from an `Effect.callback`. precall's
 *   own composition (`providerLayer`) uses it on the same Agent its HttpClient uses.
 *
 * Why a transport below the HttpClient: a provider call is the one I/O of a live decision, and
 * effect's HttpClient costs about 110 µs of CPU per call over a bare undici request (issue 11's
 * breakdown): a URL parse, an AbortController and a FinalizationRegistry entry per request, its
 * request and Headers objects, an uninterruptible mask and a Readable body per response. The Aliyun
 * call needs none of it: the URL, headers and body are built and signed here, the reply is a few
 * hundred bytes of JSON, and interruption (the attempt timeout, the deadline) aborts the request
 * through the dispatch controller, as the HttpClient's AbortController would.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Data, Effect, Layer } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { Dispatcher } from "undici"

/** One signed request: always a POST to `origin` + `path`. */
export interface AliyunHttpRequest {
  /** e.g. `https://dyplsapi.aliyuncs.com` (no trailing slash). */
  readonly origin: string
  /** Path and query, e.g. `/?PoolKey=...`. */
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  /** A form body (v1 signature); V3 sends none. */
  readonly body: string | undefined
}

export interface AliyunHttpReply {
  readonly status: number
  readonly text: string
  /** The `x-acs-retry-after` header, if the reply had one. */
  readonly retryAfter: string | undefined
}

/** The request did not get a complete reply (refused, reset, aborted, unreadable). */
export class AliyunTransportError extends Data.TaggedError("AliyunTransportError")<{ readonly description: string }> {}

export interface AliyunTransportShape {
  readonly send: (request: AliyunHttpRequest) => Effect.Effect<AliyunHttpReply, AliyunTransportError>
}

/**
 * The transport the Aliyun rpc uses; unset (undefined), the rpc goes through the HttpClient in
 * context. Set by `undiciTransportLayer`.
 */
export const AliyunTransport = Context.Reference<AliyunTransportShape | undefined>("precall/AliyunTransport", { defaultValue: () => undefined })

/** No client span and no trace headers to Aliyun: the engine's metrics and span already time every attempt. */
const untraced = () => true

/** Through effect's HttpClient: any client, stubs included. */
export const httpClientTransport = (client: HttpClient.HttpClient): AliyunTransportShape => ({
  send: (r) => {
    const base = HttpClientRequest.post(`${r.origin}${r.path}`).pipe(HttpClientRequest.setHeaders(r.headers))
    const request = r.body === undefined ? base : HttpClientRequest.bodyText(base, r.body, r.headers["content-type"])
    return Effect.flatMap(
      client.execute(request).pipe(
        Effect.provideService(HttpClient.TracerDisabledWhen, untraced),
        Effect.provideService(HttpClient.TracerPropagationEnabled, false)
      ),
      (response) => Effect.map(response.text, (text): AliyunHttpReply => ({ status: response.status, text, retryAfter: response.headers["x-acs-retry-after"] }))
    ).pipe(
      Effect.catchTag("HttpClientError", (e) =>
        Effect.fail(new AliyunTransportError({ description: `${e.reason._tag}: ${e.reason.description ?? e.message}` })))
    )
  }
})

/** Replies larger than this are not Aliyun's (its largest is a few KB): the request is aborted. */
const MAX_REPLY_BYTES = 1024 * 1024

const firstOf = (value: string | ReadonlyArray<string> | undefined): string | undefined => (typeof value === "string" ? value : value?.[0])

class Interrupted extends Error {
  constructor() {
    super("The request was interrupted")
  }
}

/**
 * Straight on an undici Dispatcher (see the module comment for why). Each call is one `dispatch`
 * whose handler collects the body; interruption aborts the request through its controller.
 */
export const undiciTransport = (dispatcher: Dispatcher): AliyunTransportShape => ({
  send: (r) =>
    Effect.callback<AliyunHttpReply, AliyunTransportError>((resume) => {
      let controller: { abort(reason: Error): void } | undefined
      let interrupted: Interrupted | undefined
      let status = 0
      let retryAfter: string | undefined
      let chunks: Array<Buffer> = []
      let size = 0
      const fail = (e: unknown) =>
        resume(Effect.fail(new AliyunTransportError({ description: `TransportError: ${e instanceof Error ? e.message : String(e)}` })))
      try {
        dispatcher.dispatch({
          origin: r.origin, path: r.path, method: "POST", headers: r.headers, body: r.body ?? null,
          // timeouts are the engine's (per attempt, per decision)
          headersTimeout: 60 * 60 * 1000, bodyTimeout: 0
        }, {
          onRequestStart(c) {
            controller = c
            if (interrupted !== undefined) c.abort(interrupted)
          },
          onResponseStart(_c, statusCode, headers) {
            if (statusCode < 200) return
            status = statusCode
            retryAfter = firstOf(headers["x-acs-retry-after"])
            chunks = []
            size = 0
          },
          onResponseData(c, chunk) {
            size += chunk.length
            if (size > MAX_REPLY_BYTES) c.abort(new Error(`reply larger than ${MAX_REPLY_BYTES} bytes`))
            else chunks.push(chunk)
          },
          onResponseEnd() {
            const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")
            resume(Effect.succeed({ status, text, retryAfter }))
          },
          onResponseError(_c, error) {
            fail(error)
          }
        })
      } catch (e) {
        fail(e)
      }
      return Effect.sync(() => {
        interrupted = new Interrupted()
        controller?.abort(interrupted)
      })
    })
})

/**
 * Sets the AliyunTransport to undici's, on the Dispatcher (Agent) in context: the one
 * `NodeHttpClient.layerUndiciNoDispatcher` uses too, so both share its connections.
 */
export const undiciTransportLayer: Layer.Layer<never, never, NodeHttpClient.Dispatcher> = Layer.effect(
  AliyunTransport,
  Effect.map(Effect.service(NodeHttpClient.Dispatcher), undiciTransport)
)
