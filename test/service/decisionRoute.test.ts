/**
 * The decision route served on node:http (src/service/decisionRoute.ts) keeps HttpApi's contract:
 * one table of requests goes to a service with the route and to one without it (HttpApi answers),
 * and status, body, headers, log lines and metrics must be the same. Raw node:http requests, so
 * headers, chunked bodies and declared lengths are sent exactly as written.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Option, Scope, Tracer } from "effect"
import { HttpServer, HttpServerRequest } from "effect/http"
import { Agent, request as httpRequest } from "node:http"
import { ProviderError } from "../../src/domain/errors.ts"
import { API_KEY, makeService, OTHER_KEY, type ServiceOptions, statusOne, validRequest } from "./harness.ts"

interface Exchange {
  readonly method?: string
  readonly path?: string
  readonly headers?: Record<string, string>
  /** A string is sent with its content-length (unless `headers` sets one); an array is sent chunked. */
  readonly body?: string | ReadonlyArray<string>
}

interface Answer {
  readonly status: number
  /** Lower-case names; `date` and `keep-alive` left out. */
  readonly headers: Record<string, string>
  /** Mutable: a generated request id in it is replaced before comparing. */
  body: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** One request on its own connection; resolves with the answer even when the server stops reading the body. */
const exchange = (port: number, x: Exchange) =>
  Effect.callback<Answer>((resume) => {
    const chunks = typeof x.body === "string" ? [x.body] : x.body ?? []
    const headers: Record<string, string> = { ...x.headers }
    if (typeof x.body === "string" && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
      headers["content-length"] = String(Buffer.byteLength(x.body))
    }
    // keep-alive, as real clients ask, so the server decides whether the connection stays open
    const agent = new Agent({ keepAlive: true })
    const req = httpRequest({ host: "127.0.0.1", port, method: x.method ?? "POST", path: x.path ?? "/v1/decisions", headers, agent }, (res) => {
      const body: Array<Buffer> = []
      res.on("data", (c: Buffer) => body.push(c))
      res.on("end", () => {
        const answerHeaders: Record<string, string> = {}
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!.toLowerCase()
          if (name !== "date" && name !== "keep-alive") answerHeaders[name] = res.rawHeaders[i + 1]!
        }
        agent.destroy()
        resume(Effect.succeed({ status: res.statusCode!, headers: answerHeaders, body: Buffer.concat(body).toString("utf8") }))
      })
    })
    // the server may close before the whole body is sent (413); no answer at all is a defect
    let answered = false
    req.on("response", () => (answered = true))
    req.on("error", (e) => {
      if (!answered) resume(Effect.die(e))
    })
    for (const c of chunks) req.write(c)
    req.end()
  })

const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }
const valid = JSON.stringify(validRequest)
const big = JSON.stringify({ ...validRequest, padding: "x".repeat(70 * 1024) })

/** The provider answers by subsId, so the table gets decisions of several kinds. */
const provider: ServiceOptions["provider"] = {
  queryCallStatus: (q) =>
    q.subsId === "1000000000000666"
      ? Effect.fail(new ProviderError({ provider: "fake", action: "QueryCallStatus", code: "isv.OUT_OF_SERVICE", errorClass: "configuration", message: "account suspended" }))
      : q.subsId === "1000000000000002"
      ? Effect.succeed({ ...statusOne, status: 2 as const })
      : q.subsId === "1000000000000003"
      ? Effect.succeed({ ...statusOne, status: 4 as const })
      : Effect.succeed({ ...statusOne, calledNo: q.phoneNoX })
}

const table: ReadonlyArray<readonly [string, Exchange]> = [
  ["use-x", { headers: auth, body: valid }],
  ["provider trouble", { headers: auth, body: JSON.stringify({ ...validRequest, subsId: "1000000000000666" }) }],
  ["status 2", { headers: auth, body: JSON.stringify({ ...validRequest, subsId: "1000000000000002" }) }],
  ["status 4", { headers: auth, body: JSON.stringify({ ...validRequest, subsId: "1000000000000003" }) }],
  ["the other key, lower-case scheme, extra spaces", { headers: { ...auth, authorization: `bearer    ${OTHER_KEY}` }, body: valid }],
  ["query string", { path: "/v1/decisions?x=1&phone=13800138000", headers: auth, body: valid }],
  ["no content-type", { headers: { authorization: auth.authorization }, body: valid }],
  ["content-type with charset", { headers: { ...auth, "content-type": "Application/JSON; charset=utf-8" }, body: valid }],
  ["byte order mark", { headers: auth, body: `\uFEFF${valid}` }],
  ["chunked body", { headers: auth, body: [valid.slice(0, 20), valid.slice(20)] }],
  // node emits these as checkContinue, which the route leaves to HttpApi
  ["expect 100-continue", { headers: { ...auth, expect: "100-continue" }, body: valid }],
  ["missing key", { headers: { "content-type": "application/json" }, body: valid }],
  ["empty bearer", { headers: { ...auth, authorization: "Bearer " }, body: valid }],
  ["basic scheme", { headers: { ...auth, authorization: `Basic ${API_KEY}` }, body: valid }],
  ["unknown key", { headers: { ...auth, authorization: "Bearer 13800138000" }, body: valid }],
  ["unknown key, broken body", { headers: { ...auth, authorization: "Bearer nope" }, body: "{not json" }],
  ["wrong content-type", { headers: { ...auth, "content-type": "text/plain" }, body: valid }],
  ["declared too large", { headers: auth, body: big }],
  ["declared far too large", { headers: { ...auth, "content-length": String(300 * 1024) }, body: big }],
  ["chunked too large", { headers: auth, body: Array.from({ length: 10 }, (_, i) => big.slice(i * 8192, (i + 1) * 8192)).concat(big.slice(80 * 1024)) }],
  ["just under the limit", { headers: auth, body: JSON.stringify({ ...validRequest, padding: "x".repeat(60 * 1024) }) }],
  ["empty body", { headers: auth, body: "" }],
  ["blank body", { headers: auth, body: " \n " }],
  ["broken JSON", { headers: auth, body: '{"poolKey": "FC1", 13800138000' }],
  ["not an object", { headers: auth, body: "[1,2]" }],
  ["null", { headers: auth, body: "null" }],
  ["schema errors with numbers", { headers: auth, body: JSON.stringify({ poolKey: "13800138000", subsId: 13800138000, phoneNoX: "x13800138000", callerNo: 5 }) }],
  ["excess fields", { headers: auth, body: JSON.stringify({ ...validRequest, extra: 1, "13800138000": "13800138000" }) }],
  ["a sane request id", { headers: { ...auth, "x-request-id": "abc.DEF_123-4" }, body: valid }],
  ["an insane request id", { headers: { ...auth, "x-request-id": "no spaces allowed" }, body: valid }],
  ["a request id with a 7-digit run", { headers: { ...auth, "x-request-id": "req-1380013" }, body: valid }],
  ["a request id on an error", { headers: { ...auth, "x-request-id": "err-1" }, body: "{" }]
]

/** A decision's `elapsedMs` is the time it took, which differs between two runs. */
const withoutTimes = (a: Answer): Answer =>
  a.status === 200 ? { ...a, body: a.body.replace(/"elapsedMs":\d+/, '"elapsedMs":0') } : a

/** A log line without what differs between two runs: the time, the latency, a generated request id. */
const comparableLog = (line: Record<string, unknown>) => {
  const { latencyMs: _latency, time: _time, ...rest } = line
  return typeof rest["requestId"] === "string" && UUID.test(rest["requestId"]) ? { ...rest, requestId: "<generated>" } : rest
}

const started = (options: ServiceOptions) =>
  Effect.gen(function*() {
    const service = makeService({ provider, ...options })
    const server = Context.get(yield* Layer.build(service.layer), HttpServer.HttpServer)
    const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
    return { ...service, port }
  })

/** precall_http_requests_total of the decision route, by its labels. */
const decisionCounts = (port: number) =>
  Effect.map(exchange(port, { method: "GET", path: "/metrics" }), (a) =>
    new Map(a.body.split("\n").filter((l) => l.startsWith("precall_http_requests_total{") && l.includes('route="/v1/decisions"')).map((l) => {
      const [labels, count] = l.split(" ")
      return [labels!, Number(count)] as const
    })))

/** The counts `exchange` added (the metrics registry is one per process, shared by both services). */
const counted = <A>(port: number, exchange: Effect.Effect<A>) =>
  Effect.gen(function*() {
    const before = yield* decisionCounts(port)
    const result = yield* exchange
    const after = yield* decisionCounts(port)
    const added = [...after].filter(([labels, n]) => n !== (before.get(labels) ?? 0)).map(([labels, n]) => `${labels} +${n - (before.get(labels) ?? 0)}`)
    return [result, added] as const
  })

describe("the decision route on node:http", () => {
  it.live("answers every request of the table exactly as HttpApi does", () =>
    Effect.scoped(Effect.gen(function*() {
      const fast = yield* started({})
      const slow = yield* started({ fastDecisionRoute: false })
      for (const [name, x] of table) {
        const fastLogs = fast.logs.length
        const slowLogs = slow.logs.length
        const [a, countedA] = yield* counted(fast.port, exchange(fast.port, x))
        const [b, countedB] = yield* counted(slow.port, exchange(slow.port, x))
        assert.deepStrictEqual(countedA, countedB, `${name}: metrics`)
        assert.strictEqual(countedA.length, 1, `${name}: counted once`)
        const idA = a.headers["x-request-id"]
        const idB = b.headers["x-request-id"]
        if (idA !== undefined && UUID.test(idA)) {
          assert.match(idB ?? "", UUID, name)
          a.headers["x-request-id"] = b.headers["x-request-id"] = "<generated>"
          a.body = a.body.replace(idA, "<generated>")
          b.body = b.body.replace(idB!, "<generated>")
        }
        assert.deepStrictEqual(withoutTimes(a), withoutTimes(b), name)
        assert.deepStrictEqual(fast.logs.slice(fastLogs).map(comparableLog), slow.logs.slice(slowLogs).map(comparableLog), `${name}: log lines`)
      }
      assert.deepStrictEqual([fast.tracker.inFlight, fast.tracker.cut], [0, 0])
    })))

  it.live("an engine defect is the same last-resort 500, logged by kind only", () =>
    Effect.scoped(Effect.gen(function*() {
      const options: ServiceOptions = { provider: { queryCallStatus: () => Effect.die(new RangeError("13800138000 broke")) } }
      const fast = yield* started(options)
      const slow = yield* started({ ...options, fastDecisionRoute: false })
      const x: Exchange = { headers: { ...auth, "x-request-id": "boom-1" }, body: valid }
      const a = yield* exchange(fast.port, x)
      const b = yield* exchange(slow.port, x)
      assert.deepStrictEqual(a, b)
      assert.strictEqual(a.status, 500)
      assert.deepStrictEqual(fast.logs.map(comparableLog), slow.logs.map(comparableLog))
      assert.notInclude(fast.rawLogs.join("\n"), "13800138000")
    })))

  it.live("the decision runs outside HttpApi (no HttpServerRequest in its context), and inside it when the route is off", () =>
    Effect.scoped(Effect.gen(function*() {
      const seen: Array<boolean> = []
      const options: ServiceOptions = {
        provider: {
          queryCallStatus: () =>
            Effect.map(Effect.serviceOption(HttpServerRequest.HttpServerRequest), (request) => {
              seen.push(Option.isSome(request))
              return statusOne
            })
        }
      }
      const fast = yield* started(options)
      const slow = yield* started({ ...options, fastDecisionRoute: false })
      assert.strictEqual((yield* exchange(fast.port, { headers: auth, body: valid })).status, 200)
      assert.strictEqual((yield* exchange(slow.port, { headers: auth, body: valid })).status, 200)
      assert.deepStrictEqual(seen, [false, true])
    })))

  it.live("with an exporting tracer the route stays on HttpApi, whose tracer makes the server span", () =>
    Effect.scoped(Effect.gen(function*() {
      const spans: Array<string> = []
      const recording = Tracer.make({
        span(options) {
          spans.push(options.name)
          return Tracer.nativeTracer.span(options)
        }
      })
      const seen: Array<boolean> = []
      const service = makeService({
        provider: {
          queryCallStatus: () =>
            Effect.map(Effect.serviceOption(HttpServerRequest.HttpServerRequest), (request) => {
              seen.push(Option.isSome(request))
              return statusOne
            })
        }
      })
      const server = Context.get(yield* Layer.build(service.layer.pipe(Layer.provide(Layer.succeed(Tracer.Tracer, recording)))), HttpServer.HttpServer)
      const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
      assert.strictEqual((yield* exchange(port, { headers: auth, body: valid })).status, 200)
      assert.deepStrictEqual(seen, [true])
      assert.include(spans, "POST")
      assert.include(spans, "precall.decide")
    })))
})

/** A service whose provider blocks until `release` (or forever), its server in a scope of the test's own. */
const held = Effect.gen(function*() {
  const called = yield* Deferred.make<void>()
  const interrupted = yield* Deferred.make<void>()
  const release = yield* Deferred.make<void>()
  const service = makeService({
    shutdownGraceMs: 5000,
    // The engine's own deadline must outlast the grace period, or it would answer (degraded) first.
    settings: { deadlineMs: 60_000, attemptTimeoutMs: 60_000 },
    provider: {
      queryCallStatus: () =>
        Deferred.succeed(called, undefined).pipe(
          Effect.andThen(Deferred.await(release)),
          Effect.as(statusOne),
          Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
        )
    }
  })
  const scope = yield* Scope.make()
  const server = Context.get(yield* Layer.buildWithScope(service.layer, scope), HttpServer.HttpServer)
  const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
  return { ...service, called, interrupted, release, scope, port }
})

/** Waits (one event-loop turn at a time, at most 1000) until `condition` holds. */
const until = (condition: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000 && !condition(); i++) yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
    assert.isTrue(condition(), "the condition never held")
  })

describe("the decision route's fibers", () => {
  it.live("a client that goes away interrupts its decision", () =>
    Effect.gen(function*() {
      const s = yield* held
      const req = httpRequest({ host: "127.0.0.1", port: s.port, method: "POST", path: "/v1/decisions", headers: auth, agent: false })
      req.on("error", () => {})
      req.end(valid)
      yield* Deferred.await(s.called)
      assert.strictEqual(s.tracker.inFlight, 1)
      req.destroy()
      yield* Deferred.await(s.interrupted)
      yield* Scope.close(s.scope, Exit.void)
      assert.deepStrictEqual({ inFlight: s.tracker.inFlight, cut: s.tracker.cut }, { inFlight: 0, cut: 0 }, "a client abort is not a cut")
      assert.isFalse(s.logs.some((l) => l["msg"] === "decision" || l["msg"] === "request failed"))
    }))

  it.live("a client that goes away mid-body leaves nothing in flight, and nothing logged", () =>
    Effect.gen(function*() {
      const s = yield* held
      const req = httpRequest({ host: "127.0.0.1", port: s.port, method: "POST", path: "/v1/decisions", headers: { ...auth, "content-length": "1000" }, agent: false })
      req.on("error", () => {})
      req.write(valid.slice(0, 10))
      yield* until(() => s.tracker.inFlight === 1)
      req.destroy()
      yield* until(() => s.tracker.inFlight === 0)
      yield* Scope.close(s.scope, Exit.void)
      assert.deepStrictEqual({ inFlight: s.tracker.inFlight, cut: s.tracker.cut }, { inFlight: 0, cut: 0 })
      assert.isFalse(s.logs.some((l) => l["msg"] === "decision" || l["msg"] === "request failed"))
    }))

  it.live("a kept-alive connection serves the next request after answers that left the body unread", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const fastDecisionRoute of [true, false]) {
        const s = yield* started({ fastDecisionRoute })
        const agent = new Agent({ keepAlive: true, maxSockets: 1 })
        const statuses: Array<number> = []
        const sockets = new Set<unknown>()
        for (const x of [
          { headers: { ...auth, authorization: "Bearer nope" }, body: big },
          { headers: { ...auth, "content-type": "text/plain" }, body: big },
          { headers: auth, body: big },
          { headers: auth, body: valid }
        ]) {
          statuses.push(yield* Effect.callback<number>((resume) => {
            const req = httpRequest({ host: "127.0.0.1", port: s.port, method: "POST", path: "/v1/decisions", headers: { ...x.headers, "content-length": String(x.body.length) }, agent }, (res) => {
              sockets.add(res.socket)
              res.resume()
              res.on("end", () => resume(Effect.succeed(res.statusCode!)))
            })
            req.on("error", (e) => resume(Effect.die(e)))
            req.end(x.body)
          }))
        }
        agent.destroy()
        assert.deepStrictEqual(statuses, [401, 415, 413, 200], `fastDecisionRoute: ${fastDecisionRoute}`)
        assert.strictEqual(sockets.size, 1, `one connection throughout (fastDecisionRoute: ${fastDecisionRoute})`)
      }
    })))

  it.live("shutdown lets an in-flight decision finish, with connection: close", () =>
    Effect.gen(function*() {
      const s = yield* held
      const answer = yield* Effect.forkChild(exchange(s.port, { headers: auth, body: valid }))
      yield* Deferred.await(s.called)
      const closing = yield* Effect.forkChild(Scope.close(s.scope, Exit.void))
      yield* Effect.yieldNow
      assert.isTrue(s.tracker.draining)
      assert.isUndefined(closing.pollUnsafe(), "still draining while the decision is in flight")
      yield* Deferred.succeed(s.release, undefined)
      const a = yield* Fiber.join(answer)
      assert.strictEqual(a.status, 200)
      assert.strictEqual(a.headers["connection"], "close")
      assert.strictEqual(JSON.parse(a.body).decision, "use-x")
      yield* Fiber.join(closing)
      assert.deepStrictEqual({ inFlight: s.tracker.inFlight, cut: s.tracker.cut }, { inFlight: 0, cut: 0 })
    }))
})
