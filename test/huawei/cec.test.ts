/**
 * Huawei CEC call state (huawei.md §5): the reasonCode / Q.850 table, token lifetimes, ONE token
 * refresh in flight under concurrency (TestClock, no sleeps for real), and the HTTP calls against a
 * loopback fake CEC.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { classifyQ850 } from "../../src/evidence/classes.ts"
import {
  callStateOf, classifyCecReason, makeCecCallState, makeTokenCache, QUERY_CALL_STATE_PATH, TOKEN_PATH, tokenUseForMs
} from "../../src/providers/huawei/cec.ts"

describe("CEC reasonCode table", () => {
  it("0-6: CEC's own meanings", () => {
    assert.deepStrictEqual([0, 1, 2, 3, 4, 5, 6].map(classifyCecReason), ["normal", "normal", "transient", "transient", "callee", "callee", "transient"])
  })

  it("7-127: Q.850 causes of the real parties' legs: a number problem is never the X's", () => {
    for (let c = 7; c <= 127; c++) {
      const q = classifyQ850(c)
      assert.strictEqual(classifyCecReason(c), q === "number" ? "callee" : q, String(c))
    }
    assert.strictEqual(classifyCecReason(17), "callee")
    assert.strictEqual(classifyCecReason(22), "callee") // number changed: the customer's number
    assert.strictEqual(classifyCecReason(41), "transient")
    assert.strictEqual(classifyCecReason(16), "normal")
  })

  it("beyond Q.850: other", () => {
    for (const c of [128, 500, 65535, -1, 7.5]) assert.strictEqual(classifyCecReason(c), "other", String(c))
  })

  it("state 3 is ended and classified; 0-2 are still running", () => {
    assert.deepStrictEqual(callStateOf(3, 5), { ended: true, outcomeClass: "callee", code: "reasonCode:5" })
    assert.deepStrictEqual(callStateOf(3, undefined), { ended: true, outcomeClass: "other", code: "reasonCode:none" })
    for (const s of [0, 1, 2]) assert.deepStrictEqual(callStateOf(s, 0), { ended: false, outcomeClass: undefined, code: `state:${s}` })
  })
})

describe("CEC token lifetime", () => {
  it("until CreateTime + Expires less the margin, never longer than Expires from now", () => {
    const now = 1_000_000_000_000
    assert.strictEqual(tokenUseForMs(now / 1000, 600, now), 600_000 - 60_000)
    assert.strictEqual(tokenUseForMs(now / 1000 - 300, 600, now), 300_000 - 60_000) // issued 5 min ago
    assert.strictEqual(tokenUseForMs(now, 600, now), 540_000) // CreateTime in ms
    assert.strictEqual(tokenUseForMs(now / 1000 + 3600, 600, now), 540_000) // server clock ahead
    assert.strictEqual(tokenUseForMs(undefined, 100, now), 90_000) // margin: a tenth of a short life
    assert.strictEqual(tokenUseForMs(now / 1000 - 700, 600, now), 0)
  })
})

describe("CEC token cache", () => {
  it.effect("ONE refresh in flight: 20 concurrent callers share it; the next refresh comes when the token is due", () =>
    Effect.gen(function*() {
      let fetches = 0
      const fetch = Effect.gen(function*() {
        fetches++
        const n = fetches
        yield* Effect.sleep("1 second") // a slow tokenByAkSk, on the TestClock
        return { accessToken: Redacted.make(`t${n}`), useForMs: 540_000 }
      })
      const token = yield* makeTokenCache(fetch)
      const burst = Effect.forkChild(Effect.all(Array.from({ length: 20 }, () => token.get), { concurrency: "unbounded" }))
      const first = yield* burst
      yield* TestClock.adjust("1 second")
      const got = yield* Fiber.join(first)
      assert.strictEqual(fetches, 1)
      assert.deepStrictEqual(new Set(got.map((t) => Redacted.value(t.accessToken))), new Set(["t1"]))
      // still valid: no fetch
      yield* TestClock.adjust("500 seconds")
      assert.strictEqual(Redacted.value((yield* token.get).accessToken), "t1")
      assert.strictEqual(fetches, 1)
      // due: one refresh for the next burst
      yield* TestClock.adjust("40 seconds")
      const second = yield* burst
      yield* TestClock.adjust("1 second")
      const again = yield* Fiber.join(second)
      assert.strictEqual(fetches, 2)
      assert.deepStrictEqual(new Set(again.map((t) => Redacted.value(t.accessToken))), new Set(["t2"]))
    }))

  it.effect("a failed fetch is not kept: the next caller asks again", () =>
    Effect.gen(function*() {
      let fetches = 0
      const token = yield* makeTokenCache(Effect.suspend(() => (++fetches === 1 ? Effect.fail("down" as const) : Effect.succeed({ accessToken: Redacted.make("ok"), useForMs: 1000 }))))
      assert.strictEqual(yield* Effect.flip(token.get), "down")
      assert.strictEqual(Redacted.value((yield* token.get).accessToken), "ok")
      assert.strictEqual(fetches, 2)
    }))
})

interface Hit {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, unknown>
}

/** A fake CEC on loopback: it hands out tokens t1, t2, ...; `answer` decides the queryCallState reply. */
const fakeCec = (answer: (hit: Hit) => { readonly status: number; readonly body: unknown }) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.callback<{ server: ReturnType<typeof createServer>; hits: Array<Hit> }>((resume) => {
        const hits: Array<Hit> = []
        let tokens = 0
        const server = createServer((req, res) => {
          let text = ""
          req.on("data", (c: Buffer) => (text += c.toString("utf8")))
          req.on("end", () => {
            const hit: Hit = { path: req.url ?? "", headers: req.headers, body: JSON.parse(text) as Record<string, unknown> }
            hits.push(hit)
            const reply = hit.path === TOKEN_PATH
              ? { status: 200, body: { AccessToken: `t${++tokens}`, ApplyType: "Bearer", CreateTime: "0", Expires: "600", UserID: "Anonymous" } }
              : answer(hit)
            res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.body))
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, hits })))
      }),
      ({ server }) => Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
    ),
    ({ server, hits }) => ({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits })
  )

const withCec = <A, E>(answer: Parameters<typeof fakeCec>[0], body: (cec: Effect.Success<ReturnType<typeof makeCecCallState>>, hits: Array<Hit>) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fake = yield* fakeCec(answer)
    const cec = yield* makeCecCallState({ endpoint: fake.url, ak: "demoCecAk0001", sk: Redacted.make("demoCecSk0001") })
    return yield* body(cec, fake.hits)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

describe("CEC over HTTP", () => {
  it.effect("token by AK/SK with X-Token-Expire, then queryCallState with the bearer token; an ended call is classified", () =>
    withCec(() => ({ status: 200, body: { retCode: "0", retMsg: "success", result: { state: "3", reasonCode: 17, startTime: 1, endTime: 2 } } }), (cec, hits) =>
      Effect.gen(function*() {
        const state = yield* cec.query("serial-1")
        assert.deepStrictEqual(state, { ended: true, outcomeClass: "callee", code: "reasonCode:17" })
        yield* cec.query("serial-2")
        assert.deepStrictEqual(hits.map((h) => h.path), [TOKEN_PATH, QUERY_CALL_STATE_PATH, QUERY_CALL_STATE_PATH])
        assert.strictEqual(hits[0]!.headers["x-token-expire"], "600")
        assert.deepStrictEqual(hits[0]!.body, { app_key: "demoCecAk0001", app_secret: "demoCecSk0001" })
        assert.strictEqual(hits[1]!.headers["authorization"], "Bearer t1")
        assert.deepStrictEqual(hits[1]!.body, { callSerialNo: "serial-1" })
      })))

  it.effect("a refused token (401) is dropped and a new one fetched once", () =>
    withCec((hit) => (hit.headers["authorization"] === "Bearer t1"
      ? { status: 401, body: {} }
      : { status: 200, body: { retCode: "0", result: { state: 2 } } }), (cec, hits) =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* cec.query("s"), { ended: false, outcomeClass: undefined, code: "state:2" })
        assert.deepStrictEqual(hits.map((h) => h.path), [TOKEN_PATH, QUERY_CALL_STATE_PATH, TOKEN_PATH, QUERY_CALL_STATE_PATH])
      })))

  it.effect("a burst of queries all refused with the same (revoked) token costs ONE new token", () => {
    let revoked = false
    return withCec((hit) => (revoked && hit.headers["authorization"] === "Bearer t1"
      ? { status: 401, body: {} }
      : { status: 200, body: { retCode: "0", result: { state: 3, reasonCode: 0 } } }), (cec, hits) =>
      Effect.gen(function*() {
        yield* cec.query("warm-up") // t1 fetched and used
        revoked = true
        const states = yield* Effect.all(Array.from({ length: 10 }, (_, i) => cec.query(`s${i}`)), { concurrency: "unbounded" })
        assert.isTrue(states.every((s) => s.outcomeClass === "normal"))
        assert.strictEqual(hits.filter((h) => h.path === QUERY_CALL_STATE_PATH && h.headers["authorization"] === "Bearer t1").length, 11)
        assert.strictEqual(hits.filter((h) => h.path === TOKEN_PATH).length, 2)
      }))
  })

  it.effect("retCode 1 / 3, HTTP 500 and a malformed body are CallStateUnavailable, never a crash", () =>
    Effect.gen(function*() {
      for (const reply of [
        { status: 200, body: { retCode: "3", retMsg: "bad serial 13800138000" } },
        { status: 200, body: { retCode: "1" } },
        { status: 500, body: {} },
        { status: 200, body: { retCode: "0", result: { state: "talking" } } },
        { status: 200, body: "not an object" }
      ]) {
        const e = yield* withCec(() => reply, (cec) => Effect.flip(cec.query("s")))
        assert.strictEqual(e._tag, "CallStateUnavailable")
        assert.notInclude(e.reason, "13800138000")
      }
    }))
})
