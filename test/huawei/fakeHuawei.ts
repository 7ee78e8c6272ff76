/**
 * A fake Huawei privacy-call endpoint for tests: node:http on 127.0.0.1 port 0. It checks every
 * request's UsernameToken with `verifyUsernameToken` against the configured apps (401 without a
 * code when none verifies), records what arrived, and answers with the test's canned replies.
 */
import { Effect, Redacted } from "effect"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { type HuaweiApp, verifyUsernameToken } from "../../src/providers/huawei/signature.ts"

export const axbApp: HuaweiApp = { appKey: "demoAppKey0001", appSecret: Redacted.make("demoAppSecret0001"), auth: "aksk" }
export const axApp: HuaweiApp = { appKey: "demoAxAppKey0001", appSecret: Redacted.make("demoAxAppSecret0001"), auth: "aksk" }

export interface Received {
  readonly method: string
  /** The raw request target, query string as sent. */
  readonly url: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: IncomingMessage["headers"]
  readonly body: unknown
  /** The app whose key signed it. */
  readonly appKey: string
}

export type Answer = { readonly status?: number; readonly body: unknown } | { readonly status: number; readonly text: string }

export interface FakeHuawei {
  readonly url: string
  readonly received: Array<Received>
}

/** The fake, listening until the scope closes. */
export const fakeHuawei = (apps: ReadonlyArray<HuaweiApp>, answer: (r: Received) => Answer) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.callback<{ readonly server: Server; readonly received: Array<Received> }>((resume) => {
        const received: Array<Received> = []
        const server = createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (c: Buffer) => chunks.push(c))
          req.on("end", () => {
            const token = verifyUsernameToken(req.headers as Record<string, string | undefined>, apps)
            if (token === undefined) {
              res.writeHead(401, { "content-type": "text/plain", connection: "close" }).end("Invalid digest.")
              return
            }
            const text = Buffer.concat(chunks).toString("utf8")
            const url = new URL(req.url ?? "/", "http://127.0.0.1")
            const r: Received = {
              method: req.method ?? "", url: req.url ?? "", path: url.pathname, query: url.searchParams, headers: req.headers,
              body: text === "" ? undefined : JSON.parse(text), appKey: token.appKey
            }
            received.push(r)
            const a = answer(r)
            // short connections, as Huawei: the server closes after each reply
            if ("text" in a) res.writeHead(a.status, { connection: "close" }).end(a.text)
            else res.writeHead(a.status ?? 200, { "content-type": "application/json;charset=UTF-8", connection: "close" }).end(JSON.stringify(a.body))
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, received })))
      }),
      ({ server }) =>
        Effect.callback<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    ),
    ({ server, received }): FakeHuawei => ({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received })
  )

export const ok = (fields: Record<string, unknown> = {}): Answer => ({ body: { resultcode: "0", resultdesc: "Success", ...fields } })
export const refused = (code: string, desc = "refused", status = 200): Answer => ({ status, body: { resultcode: code, resultdesc: desc } })
