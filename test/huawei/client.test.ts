/**
 * The Huawei client against a fake endpoint on loopback that verifies every signature: methods,
 * paths, bodies, query encoding (`+` as %2B), the AX app's own key, short connections, and replies
 * turned into typed errors.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { ProviderError } from "../../src/domain/errors.ts"
import { AX_PATH, AXB_PATH, makeHuaweiClient } from "../../src/providers/huawei/client.ts"
import type { HuaweiApp } from "../../src/providers/huawei/signature.ts"
import { type Answer, axApp, axbApp, fakeHuawei, ok, type Received, refused } from "./fakeHuawei.ts"

const withClient = <A, E>(
  answer: (r: Received) => Answer,
  body: (client: Effect.Success<ReturnType<typeof makeHuaweiClient>>, received: Array<Received>) => Effect.Effect<A, E>,
  apps: { readonly axb?: HuaweiApp; readonly ax?: HuaweiApp | undefined } = { axb: axbApp, ax: axApp }
) =>
  Effect.gen(function*() {
    const fake = yield* fakeHuawei([axbApp, axApp], answer)
    const client = yield* makeHuaweiClient({ endpoint: fake.url, axb: apps.axb ?? axbApp, ax: apps.ax })
    return yield* body(client, fake.received)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

describe("Huawei client", () => {
  it.effect("AXB bind: signed POST with the JSON body, connection: close, reply decoded", () =>
    withClient(() => ok({ relationNum: "+8617000000001", subscriptionId: "sub-1" }), (client, received) =>
      Effect.gen(function*() {
        const reply = yield* client.axbBind({ callerNum: "+8613800138000", calleeNum: "+8613900139000", areaCode: "0755", areaMatchMode: "1", duration: 300 })
        assert.deepStrictEqual([reply.relationNum, reply.subscriptionId], ["+8617000000001", "sub-1"])
        const r = received[0]!
        assert.deepStrictEqual([r.method, r.path, r.appKey], ["POST", AXB_PATH, "demoAppKey0001"])
        assert.deepStrictEqual(r.body, { callerNum: "+8613800138000", calleeNum: "+8613900139000", areaCode: "0755", areaMatchMode: "1", duration: 300 })
        assert.strictEqual(r.headers["content-type"], "application/json;charset=UTF-8")
        assert.strictEqual(r.headers["authorization"], 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"')
        assert.strictEqual(r.headers["connection"], "close")
      })))

  it.effect("query, modify and unbind: GET / PUT / DELETE on the AXB URI; a + in the query goes as %2B", () =>
    withClient((r) => (r.method === "GET"
      ? ok({ relationNumList: [{ subscriptionId: "a+b", relationNum: "+8617000000001", callerNum: "+8613800138000", calleeNum: "+8613900139000", duration: "300" }] })
      : ok()), (client, received) =>
      Effect.gen(function*() {
        const q = yield* client.axbQuery("a+b")
        assert.strictEqual(q.relationNumList[0]!.duration, 300)
        yield* client.axbModify({ subscriptionId: "a+b", callDirection: 0 })
        yield* client.axbUnbind("a+b")
        assert.deepStrictEqual(received.map((r) => r.method), ["GET", "PUT", "DELETE"])
        assert.strictEqual(received[0]!.url, `${AXB_PATH}?subscriptionId=a%2Bb`)
        assert.strictEqual(received[0]!.query.get("subscriptionId"), "a+b")
        assert.isUndefined(received[0]!.body)
        assert.deepStrictEqual(received[1]!.body, { subscriptionId: "a+b", callDirection: 0 })
        assert.strictEqual(received[2]!.url, `${AXB_PATH}?subscriptionId=a%2Bb`)
      })))

  it.effect("AX calls go to the AX URI signed with the AX app's key", () =>
    withClient((r) => (r.method === "POST" ? ok({ origNum: "+8613800138000", privateNum: "+8617000000002", subscriptionId: "ax-1" }) : ok({ privateNumList: [] })), (client, received) =>
      Effect.gen(function*() {
        const b = yield* client.axBind({ origNum: "+8613800138000", areaCode: "010", privateNumType: "mobile-virtual", areaMatchMode: "1", calleeNumDisplay: "0" })
        assert.strictEqual(b.privateNum, "+8617000000002")
        yield* client.axQuery("ax-1")
        yield* client.axUnbind("ax-1")
        assert.deepStrictEqual(received.map((r) => [r.method, r.path, r.appKey]), [
          ["POST", AX_PATH, "demoAxAppKey0001"], ["GET", AX_PATH, "demoAxAppKey0001"], ["DELETE", AX_PATH, "demoAxAppKey0001"]
        ])
      })))

  it.effect("legacy WSSE signing when the app is set to it", () => {
    const wsse: HuaweiApp = { ...axbApp, auth: "wsse" }
    return Effect.gen(function*() {
      const fake = yield* fakeHuawei([wsse], () => ok())
      const client = yield* makeHuaweiClient({ endpoint: fake.url, axb: wsse })
      yield* client.axbUnbind("s")
      assert.strictEqual(fake.received[0]!.headers["authorization"], 'WSSE realm="SDP",profile="UsernameToken",type="Appkey"')
      assert.isString(fake.received[0]!.headers["x-wsse"])
      assert.isUndefined(fake.received[0]!.headers["x-aksk"])
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  })

  it.effect("every call signs afresh: no nonce twice", () =>
    withClient(() => ok(), (client, received) =>
      Effect.gen(function*() {
        yield* Effect.all([client.axbUnbind("a"), client.axbUnbind("b"), client.axbUnbind("c")], { concurrency: 3 })
        const nonces = received.map((r) => /Nonce="([^"]+)"/.exec(String(r.headers["x-aksk"]))![1])
        assert.strictEqual(new Set(nonces).size, 3)
      })))

  it.effect("many calls in a row over short connections: none misread as a reset", () =>
    withClient(() => ok(), (client, received) =>
      Effect.gen(function*() {
        for (let i = 0; i < 30; i++) yield* client.axbUnbind(`s${i}`)
        assert.strictEqual(received.length, 30)
      })))

  it.effect("no socket is reused, even when the server would keep it alive: one connection per call", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.callback<ReturnType<typeof createServer>>((resume) => {
          const s = createServer((req, res) => {
            req.resume()
            req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ resultcode: "0" })))
          })
          s.listen(0, "127.0.0.1", () => {
            resume(Effect.succeed(s))
          })
        }),
        (s) =>
          Effect.callback<void>((resume) => {
            s.closeAllConnections()
            s.close(() => resume(Effect.void))
          })
      )
      let connections = 0
      server.on("connection", () => connections++)
      const client = yield* makeHuaweiClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, axb: axbApp })
      for (let i = 0; i < 5; i++) yield* client.axbUnbind(`s${i}`)
      assert.strictEqual(connections, 5)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("refusals are typed errors with Huawei's code; a wrong secret is a 401 classified as configuration", () =>
    Effect.gen(function*() {
      const gone = yield* withClient(() => refused("1012007", "record does not exist"), (client) => Effect.flip(client.axbQuery("s")))
      assert.deepStrictEqual([gone.code, gone.errorClass, gone.action], ["1012007", "binding", "AxbQuery"])
      const bad = yield* withClient(() => ok(), (client) => Effect.flip(client.axbQuery("s")), {
        axb: { ...axbApp, appSecret: Redacted.make("wrong") }
      })
      assert.deepStrictEqual([bad.code, bad.errorClass, bad.httpStatus], ["Reply.HttpStatus401", "configuration", 401])
    }))

  it.effect("a success that lacks the fields a call needs is malformed, never a crash", () =>
    withClient(() => ok({ relationNum: 17000000001 }), (client) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(client.axbBind({ callerNum: "+8613800138000", calleeNum: "+8613900139000", duration: 60 }))
        assert.instanceOf(e, ProviderError)
        assert.deepStrictEqual([e.code, e.errorClass], ["Reply.Malformed", "transient"])
      })))

  it.effect("nothing listening: a transient connection error", () =>
    Effect.gen(function*() {
      const client = yield* makeHuaweiClient({ endpoint: "http://127.0.0.1:9", axb: axbApp })
      const e = yield* Effect.flip(client.axbQuery("s"))
      assert.deepStrictEqual([e.code, e.errorClass], ["Transport.ConnectionError", "transient"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})
