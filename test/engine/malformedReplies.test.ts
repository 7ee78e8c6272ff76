/**
 * Every malformed reply shape, through the real Aliyun adapter and the engine (a stub transport
 * answers): each is a typed provider failure, retried as its class says, and the decision degrades
 * inside the deadline with the code that explains it. Nothing crashes, nothing is dialled on a
 * misread status.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import type { DecideRequest } from "../../src/domain/request.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { aliyunProviderLayer } from "../../src/providers/aliyun/provider.ts"

const X = "17000000001"
const request = {
  poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: X, callerNo: "13800138000",
  binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" }
} as unknown as DecideRequest

/** An HttpClient whose every reply is `status` with `body` (per action when a function). */
const replying = (reply: (action: string) => { readonly status: number; readonly body: string }) =>
  Layer.succeed(HttpClient.HttpClient)(HttpClient.make((req) => {
    const action = String(req.headers["x-acs-action"] ?? new URL(req.url).searchParams.get("Action"))
    const { status, body } = reply(action)
    return Effect.succeed(HttpClientResponse.fromWeb(req, new Response(body === "" ? null : body, { status, headers: { "content-type": "application/json" } })))
  }))

const decideWith = (reply: Parameters<typeof replying>[0]) =>
  Effect.gen(function*() {
    const settings = yield* Effect.orDie(settingsFromObject({ aliyunEndpoint: "http://127.0.0.1:1", deadlineMs: 1000, retryBaseMs: 1, maxAttempts: 2 }))
    const provider = aliyunProviderLayer({ endpoint: "http://127.0.0.1:1", signature: "v3", credentials: { accessKeyId: "id", accessKeySecret: Redacted.make("s") } })
      .pipe(Layer.provide(replying(reply)))
    const engine = yield* Effect.service(Engine).pipe(Effect.provide(engineLayer(settings).pipe(Layer.provide(provider))))
    return yield* engine.decide(request)
  })

const ok = (extra: Record<string, unknown>) => JSON.stringify({ RequestId: "r-1", Code: "OK", Message: "OK", ...extra })

describe("malformed replies through the engine", () => {
  it.live.each([
    ["an empty 200", { status: 200, body: "" }, "Reply.Malformed"],
    ["a 200 that is not JSON", { status: 200, body: "<html>gateway</html>" }, "Reply.Malformed"],
    ["Code OK without the status DTO", { status: 200, body: ok({}) }, "Reply.Malformed"],
    ["Code OK with a mistyped DTO", { status: 200, body: ok({ SecretCallStatusDTO: "1" }) }, "Reply.Malformed"],
    ["Status as a word", { status: 200, body: ok({ SecretCallStatusDTO: { Status: "normal" } }) }, "Reply.Malformed"],
    ["a 4xx without a body", { status: 403, body: "" }, "Reply.HttpStatus403"],
    ["a 5xx without a body", { status: 503, body: "" }, "Reply.HttpStatus503"]
  ] as const)("%s degrades with its code, inside the deadline", ([, reply, code]) =>
    Effect.gen(function*() {
      const d = yield* decideWith(() => reply)
      assert.strictEqual(d.source, "degraded")
      assert.strictEqual(d.providerCode, code)
      assert.isAtMost(d.elapsedMs, 1000)
      assert.isAtLeast(d.attempts, 1)
    }))

  // aliyun.md §7: numbers may arrive as strings, and an unknown status is treated as 3 (nothing dialable)
  it.live.each([
    ["Status as a numeric string \"1\"", "1", "use-x", 1],
    ["Status 0", 0, "refuse", 3],
    ["Status 5", 5, "refuse", 3],
    ["Status 2 without a number", 2, "refuse", 3]
  ] as const)("%s is read defensively", ([, status, decision, read]) =>
    Effect.gen(function*() {
      const d = yield* decideWith(() => ({ status: 200, body: ok({ SecretCallStatusDTO: { Status: status } }) }))
      assert.strictEqual(d.decision, decision)
      assert.strictEqual(d.status, read)
      if (decision === "refuse") assert.isNull(d.dial)
    }))

  it.live("a truncated Bind reply after status 4: the rebind is not retried, and the expired X is never dialled", () =>
    Effect.gen(function*() {
      const binds: Array<string> = []
      const d = yield* decideWith((action) => {
        if (action.startsWith("Bind")) {
          binds.push(action)
          return { status: 200, body: ok({ SecretBindDTO: { SubsId: "2000000000000001" } }).slice(0, -10) }
        }
        return { status: 200, body: ok({ SecretCallStatusDTO: { Status: 4 } }) }
      })
      assert.strictEqual(binds.length, 1)
      assert.notStrictEqual(d.decision, "use-x")
      assert.notStrictEqual(d.dial, X)
    }))
})
