/** No input reaches a 5xx: random bodies, headers, methods and paths, over real HTTP. */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { API_KEY, baseUrl, makeService, validRequest } from "./harness.ts"

/** Mostly a valid value, else anything at all, per field, so a share of the bodies decode and reach the engine. */
const field = (valid: unknown) =>
  fc.oneof({ arbitrary: fc.constant(valid), weight: 12 }, fc.anything(), fc.string(), fc.stringMatching(/^(\+86|0086)?1[3-9]\d{9}$/))

const requestLike = fc.record({
  poolKey: field(validRequest.poolKey),
  subsId: field(validRequest.subsId),
  phoneNoX: field(validRequest.phoneNoX),
  callerNo: field(validRequest.callerNo),
  extension: field("12"),
  realCallee: field("13912345678"),
  binding: fc.oneof(fc.record({ phoneNoA: field("13800138000"), phoneNoB: field("13912345678"), mode: field("AXB") }, { requiredKeys: [] }), fc.anything())
}, { requiredKeys: ["poolKey", "subsId", "phoneNoX"] })

const body = fc.oneof(
  { arbitrary: requestLike.map((r) => JSON.stringify(r)), weight: 3 },
  fc.json(),
  fc.string({ unit: "binary" }),
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
  fc.string().map((s) => `{"poolKey":${s}`)
)

const headers = fc.record({
  "content-type": fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/JSON", "", "multipart/form-data; boundary=x"),
  authorization: fc.constantFrom(`Bearer ${API_KEY}`, `Bearer ${API_KEY}`, "Bearer nope", "", "Basic x"),
  "x-request-id": fc.string({ maxLength: 200 }).filter((s) => /^[\x20-\x7e]*$/.test(s))
}, { requiredKeys: [] })

const target = fc.record({
  method: fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"),
  path: fc.oneof(fc.constant("/v1/decisions"), fc.constantFrom("/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/decisions/", "/v1//decisions"), fc.webPath())
})

const service = makeService()

const assertNot5xx = async (res: Response, what: string) => {
  const text = await res.text()
  assert.isBelow(res.status, 500, `${what}: ${res.status} ${text}`)
  assert.isNotNull(res.headers.get("x-request-id"))
  if (res.status >= 400 && text !== "") assert.deepStrictEqual(Object.keys(JSON.parse(text).error), ["code", "message", "issues"])
  return res.status
}

layer(service.layer)("fuzz", (it) => {
  it.effect("random bodies on POST /v1/decisions: a decision or a 4xx in the error format, never a 5xx", () =>
    Effect.gen(function*() {
      const base = yield* baseUrl
      const statuses: Array<number> = []
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(body, async (b) => {
            const res = await fetch(`${base}/v1/decisions`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
              body: b
            })
            statuses.push(await assertNot5xx(res, b))
          }),
          { numRuns: 400, seed: 20261123 }
        )
      )
      const decided = statuses.filter((s) => s === 200).length
      assert.isAbove(decided, 20, "some bodies must decode and be decided")
      assert.strictEqual(service.logs.filter((l) => l["msg"] === "decision").length, decided)
    }), { timeout: 120_000 })

  it.effect("random methods, paths and headers: never a 5xx", () =>
    Effect.gen(function*() {
      const base = yield* baseUrl
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(target, headers, body, async ({ method, path }, h, b) => {
            const res = await fetch(`${base}${path.startsWith("/") ? path : `/${path}`}`, {
              method,
              headers: Object.fromEntries(Object.entries(h).filter(([, v]) => v !== "")),
              ...(method !== "GET" ? { body: b } : {})
            })
            await assertNot5xx(res, `${method} ${path}`)
          }),
          { numRuns: 400, seed: 20261123 }
        )
      )
      assert.strictEqual(service.logs.filter((l) => l["level"] === "error").length, 0, "no request failed inside the server")
    }), { timeout: 120_000 })
})
