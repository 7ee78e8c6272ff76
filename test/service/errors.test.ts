import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { API_KEY, makeService, OTHER_KEY, postDecision, send, validRequest } from "./harness.ts"

const auth = { authorization: `Bearer ${API_KEY}` }

const assertErrorShape = (json: any, code: string) => {
  assert.deepStrictEqual(Object.keys(json), ["error"])
  assert.deepStrictEqual(Object.keys(json.error), ["code", "message", "issues"])
  assert.strictEqual(json.error.code, code)
  assert.isString(json.error.message)
  assert.isArray(json.error.issues)
}

layer(makeService().layer)("bad input and security", (it) => {
  it.effect("400 lists every problem with its path", () =>
    Effect.gen(function*() {
      const res = yield* postDecision({
        poolKey: "not a pool key",
        subsId: 42,
        phoneNoX: "12345",
        callerNo: "+86 12345",
        binding: { phoneNoA: "not-a-number", mode: "AXZ" },
        surprise: true
      })
      assert.strictEqual(res.status, 400)
      assertErrorShape(res.json, "invalid_request")
      const paths = res.json.error.issues.map((i: { path: string }) => i.path).sort()
      assert.deepStrictEqual(paths, ["binding.mode", "binding.phoneNoA", "callerNo", "phoneNoX", "poolKey", "subsId", "surprise"])
      for (const issue of res.json.error.issues) assert.isNotEmpty(issue.message)
    }))

  it.effect("400 names every missing field", () =>
    Effect.gen(function*() {
      const res = yield* postDecision({})
      assert.strictEqual(res.status, 400)
      assert.deepStrictEqual(res.json.error.issues.map((i: { path: string }) => i.path), ["poolKey", "subsId", "phoneNoX"])
    }))

  it.effect("400 invalid_json for malformed, empty and non-object bodies", () =>
    Effect.gen(function*() {
      const broken = yield* postDecision('{"poolKey": ')
      assert.strictEqual(broken.status, 400)
      assertErrorShape(broken.json, "invalid_json")
      const empty = yield* postDecision("")
      assert.strictEqual(empty.status, 400)
      assertErrorShape(empty.json, "invalid_json")
      const array = yield* postDecision("[1,2]")
      assert.strictEqual(array.status, 400)
      assertErrorShape(array.json, "invalid_request")
      const deep = yield* postDecision(`{"poolKey":${"[".repeat(30_000)}${"]".repeat(30_000)}}`)
      assert.strictEqual(deep.status, 400)
      assertErrorShape(deep.json, "invalid_request")
    }))

  it.effect("401 without a key, with an unknown key, or with another scheme; both configured keys work", () =>
    Effect.gen(function*() {
      for (const headers of [{}, { authorization: "Bearer wrong-key" }, { authorization: `Basic ${API_KEY}` }, { authorization: "Bearer " }]) {
        const res = yield* postDecision(validRequest, headers)
        assert.strictEqual(res.status, 401, JSON.stringify(headers))
        assertErrorShape(res.json, "unauthorized")
      }
      assert.strictEqual((yield* postDecision(validRequest, { authorization: `Bearer ${OTHER_KEY}` })).status, 200)
      assert.strictEqual((yield* postDecision(validRequest, { authorization: `bearer ${API_KEY}` })).status, 200)
    }))

  it.effect("the key is checked before the body is looked at", () =>
    Effect.gen(function*() {
      const res = yield* postDecision("{not json", {})
      assert.strictEqual(res.status, 401)
    }))

  it.effect("413 for a body over 64 KiB, declared or chunked", () =>
    Effect.gen(function*() {
      const big = JSON.stringify({ ...validRequest, padding: "x".repeat(70 * 1024) })
      const declared = yield* postDecision(big, auth)
      assert.strictEqual(declared.status, 413)
      assertErrorShape(declared.json, "payload_too_large")
      const bytes = new TextEncoder().encode(big)
      const chunked = yield* send("/v1/decisions", {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192))
            controller.close()
          }
        }),
        duplex: "half"
      } as RequestInit)
      assert.strictEqual(chunked.status, 413)
      assertErrorShape(chunked.json, "payload_too_large")
      const fits = yield* postDecision({ ...validRequest, padding: "x".repeat(60 * 1024) }, auth)
      assert.strictEqual(fits.status, 400, "just under the limit it is read and rejected for the unknown field")
    }))

  it.effect("415 for a body that is not JSON", () =>
    Effect.gen(function*() {
      const res = yield* postDecision("poolKey=x", { ...auth, "content-type": "application/x-www-form-urlencoded" })
      assert.strictEqual(res.status, 415)
      assertErrorShape(res.json, "unsupported_media_type")
    }))

  it.effect("404 for unknown routes, in the same error format", () =>
    Effect.gen(function*() {
      for (const path of ["/", "/v1", "/v1/decision", "/v2/decisions", "/healthz/x", "/%zz"]) {
        const res = yield* send(path)
        assert.strictEqual(res.status, 404, path)
        assertErrorShape(res.json, "not_found")
      }
    }))

  it.effect("405 with an Allow header for known routes and other methods", () =>
    Effect.gen(function*() {
      const get = yield* send("/v1/decisions")
      assert.strictEqual(get.status, 405)
      assert.strictEqual(get.headers.get("allow"), "POST")
      assertErrorShape(get.json, "method_not_allowed")
      for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) {
        const res = yield* send(path, { method: "DELETE" })
        assert.strictEqual(res.status, 405, path)
        assert.strictEqual(res.headers.get("allow"), "GET, HEAD")
      }
      const put = yield* send("/v1/decisions?x=1", { method: "PUT", body: "{}" })
      assert.strictEqual(put.status, 405)
    }))

  it.effect("HEAD on a GET route answers without a body", () =>
    Effect.gen(function*() {
      const res = yield* send("/healthz", { method: "HEAD" })
      assert.strictEqual(res.status, 200)
      assert.strictEqual(res.text, "")
    }))
})
