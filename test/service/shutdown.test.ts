/**
 * Graceful shutdown with a provider held on a Deferred and the grace period on the TestClock: no
 * real sleeps, the only waiting is for the listener to close (polled with TCP connects).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { HttpServer } from "effect/http"
import { TestClock } from "effect/testing"
import { connect } from "node:net"
import { makeService, postDecision, statusOne, validRequest } from "./harness.ts"

const refused = (port: number) =>
  Effect.callback<boolean>((resume) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(false))
    })
    socket.once("error", () => resume(Effect.succeed(true)))
  })

/** Waits until the server no longer accepts connections: shutdown has begun. */
const untilRefused = (port: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) if (yield* refused(port)) return
    assert.fail("the server kept accepting connections")
  })

/** A service whose provider blocks until `release`, with the server built in a scope we close ourselves. */
const heldService = Effect.gen(function*() {
  const started = yield* Deferred.make<void>()
  const release = yield* Deferred.make<void>()
  const service = makeService({
    shutdownGraceMs: 5000,
    // The engine's own deadline must outlast the grace period, or it would answer (degraded) first.
    settings: { deadlineMs: 60_000, attemptTimeoutMs: 60_000 },
    provider: { queryCallStatus: () => Deferred.succeed(started, undefined).pipe(Effect.andThen(Deferred.await(release)), Effect.as(statusOne)) }
  })
  const scope = yield* Scope.make()
  const server = Context.get(yield* Layer.buildWithScope(service.layer, scope), HttpServer.HttpServer)
  const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
  const inFlight = yield* Effect.forkChild(
    Effect.exit(postDecision(validRequest).pipe(Effect.provideService(HttpServer.HttpServer, server)))
  )
  yield* Deferred.await(started)
  const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
  yield* untilRefused(port)
  return { release, inFlight, closing, tracker: service.tracker }
})

describe("graceful shutdown", () => {
  it.effect("stops accepting, lets the in-flight decision finish, then stops", () =>
    Effect.gen(function*() {
      const { closing, inFlight, release, tracker } = yield* heldService
      assert.strictEqual(tracker.inFlight, 1)
      assert.isUndefined(closing.pollUnsafe(), "still draining while the decision is in flight")
      yield* Deferred.succeed(release, undefined)
      const reply = yield* Fiber.join(inFlight)
      assert.isTrue(Exit.isSuccess(reply))
      if (Exit.isSuccess(reply)) {
        assert.strictEqual(reply.value.status, 200)
        assert.strictEqual(reply.value.json.decision, "use-x")
      }
      yield* Fiber.join(closing)
      assert.deepStrictEqual({ inFlight: tracker.inFlight, cut: tracker.cut }, { inFlight: 0, cut: 0 })
    }))

  it.effect("after the grace period a straggler is cut and counted", () =>
    Effect.gen(function*() {
      const { closing, inFlight, tracker } = yield* heldService
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(closing)
      yield* Fiber.await(inFlight)
      assert.deepStrictEqual({ inFlight: tracker.inFlight, cut: tracker.cut }, { inFlight: 0, cut: 1 })
    }))
})
