/**
 * `POST /v1/outcomes` in the service: API keys like /v1/decisions, every problem of a bad report
 * listed, receipts saying whether the outcome counts against the X, and the route in the OpenAPI
 * document.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { API_KEY, makeService, send } from "../service/harness.ts"

const service = makeService()

const postOutcome = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }) =>
  send("/v1/outcomes", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })

const report = { provider: "aliyun", subsId: "1000000000000001", phoneNoX: "17000000000" }

layer(service.layer)("POST /v1/outcomes", (it) => {
  it.effect("records an outcome and says how it counts", () =>
    Effect.gen(function*() {
      const callee = yield* postOutcome({ ...report, q850: 17 })
      assert.strictEqual(callee.status, 200)
      assert.deepStrictEqual(callee.json, { outcomeClass: "callee", marksX: false, pending: false })
      const number = yield* postOutcome({ ...report, phoneNoX: "+8617000000000", q850: 1 })
      assert.deepStrictEqual(number.json, { outcomeClass: "number", marksX: true, pending: false })
    }))

  it.effect("needs an API key", () =>
    Effect.gen(function*() {
      const res = yield* postOutcome({ ...report, q850: 1 }, {})
      assert.strictEqual(res.status, 401)
      assert.strictEqual(res.json.error.code, "unauthorized")
    }))

  it.effect("a bad report is a 400 listing every problem", () =>
    Effect.gen(function*() {
      const res = yield* postOutcome({ provider: "nokia", subsId: "", phoneNoX: "123", q850: 999, note: "x" })
      assert.strictEqual(res.status, 400)
      assert.strictEqual(res.json.error.code, "invalid_request")
      assert.includeMembers(res.json.error.issues.map((i: { path: string }) => i.path), ["provider", "subsId", "phoneNoX", "q850", "note"])
      const nothing = yield* postOutcome(report)
      assert.strictEqual(nothing.status, 400)
      assert.match(nothing.json.error.issues[0].message, /q850, stateCode, or callSerialNo/)
      const noTable = yield* postOutcome({ ...report, stateCode: 8055 })
      assert.deepStrictEqual(noTable.json.error.issues, [{ path: "stateCode", message: "aliyun has no hang-up code table; send q850 instead" }])
    }))

  it.effect("is in the OpenAPI document, and GET is a 405", () =>
    Effect.gen(function*() {
      const doc = yield* send("/openapi.json")
      assert.property(doc.json.paths, "/v1/outcomes")
      const get = yield* send("/v1/outcomes")
      assert.strictEqual(get.status, 405)
    }))
})
