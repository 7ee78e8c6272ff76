/**
 * The server against slow and greedy clients, with raw sockets: a client that never finishes its
 * headers is cut, and connections beyond the cap are refused. Real sockets and real timers are the
 * point here; the limits are made small so the test stays short, and the bounds are generous.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { HttpServer } from "effect/http"
import { connect, type Socket } from "node:net"
import { makeService } from "./harness.ts"

const port = Effect.map(HttpServer.HttpServer, (server) => (server.address as { port: number }).port)

/** A connected socket and a promise of how it ended: closed by the server (with what it sent) or still open after `waitMs`. */
const openSocket = (p: number, send: string, waitMs: number) =>
  Effect.promise(() =>
    new Promise<{ readonly closedAfterMs: number | undefined; readonly received: string; readonly socket: Socket }>((resolve) => {
      const socket = connect(p, "127.0.0.1")
      let received = ""
      const started = Date.now()
      const timer = setTimeout(() => resolve({ closedAfterMs: undefined, received, socket }), waitMs)
      socket.on("data", (c) => (received += String(c)))
      socket.on("error", () => undefined)
      socket.once("close", () => {
        clearTimeout(timer)
        resolve({ closedAfterMs: Date.now() - started, received, socket })
      })
      socket.once("connect", () => socket.write(send))
    })
  )

// Each limit on a server of its own: idle sockets held open for the cap must not be cut by a short header timeout.
layer(makeService({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } }).layer, { excludeTestServices: true })("header timeout", (it) => {
  it.effect("a client that never finishes its headers is cut (slowloris)", () =>
    Effect.gen(function*() {
      const slow = yield* openSocket(yield* port, "POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", 8000)
      assert.isDefined(slow.closedAfterMs, "the server kept a half-sent request open for 8 s")
      assert.isAtMost(slow.closedAfterMs!, 5000)
      assert.notInclude(slow.received, "200 OK")
    }))
})

layer(makeService({ limits: { maxConnections: 3 } }).layer, { excludeTestServices: true })("connection cap", (it) => {
  it.effect("connections beyond the cap are refused while the others stay open", () =>
    Effect.gen(function*() {
      const p = yield* port
      const idle = yield* Effect.all([0, 1, 2].map(() => openSocket(p, "", 100)))
      assert.deepStrictEqual(idle.map((s) => s.closedAfterMs), [undefined, undefined, undefined])
      const fourth = yield* openSocket(p, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 3000)
      assert.isDefined(fourth.closedAfterMs, "a 4th connection was served beyond a cap of 3")
      assert.strictEqual(fourth.received, "")
      for (const s of idle) s.socket.destroy()
    }))
})
