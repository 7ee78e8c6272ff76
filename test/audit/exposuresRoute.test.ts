/**
 * `GET /v1/exposures` in the service, over the audited engine: admin keys only (and admin keys only
 * there), the record carries the request id and the API key's id, `number` is found through the
 * keyed hash, bad parameters are 400s that repeat nothing, a damaged store is a 503.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { afterAll } from "vitest"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileStoreLayer } from "../../src/audit/fileStore.ts"
import { memoryStoreLayer } from "../../src/audit/memoryStore.ts"
import { keyIdOf } from "../../src/service/auth.ts"
import { API_KEY, makeService, postDecision, send, validRequest } from "../service/harness.ts"
import { HASH_SECRET, REAL } from "./support.ts"

const ADMIN_KEY = "admin-key-0123456789abcdef0123"
const statusThree = { status: 3 as const, calledNo: undefined, extension: undefined, requestId: "req-3" }
const settings = { allowRealFallback: true, auditHashSecret: HASH_SECRET }

const service = makeService({
  adminKeys: [ADMIN_KEY], audited: true, settings, exposures: memoryStoreLayer(),
  provider: { queryCallStatus: () => Effect.succeed(statusThree) }
})

const asAdmin = { authorization: `Bearer ${ADMIN_KEY}` }
const exposures = (query: string, headers: Record<string, string> = asAdmin) => send(`/v1/exposures${query}`, { headers })

layer(service.layer)("GET /v1/exposures", (it) => {
  it.effect("a fallback-real decided over HTTP is found by number, with its request id and API key id; paged", () =>
    Effect.gen(function*() {
      const first = yield* postDecision({ ...validRequest, realCallee: REAL }, { authorization: `Bearer ${API_KEY}`, "x-request-id": "call-0001" })
      assert.deepStrictEqual([first.status, first.json.decision, first.json.dial], [200, "fallback-real", REAL])
      yield* postDecision({ ...validRequest, realCallee: "13900139001" })
      yield* postDecision({ ...validRequest, realCallee: "+86 139 0013 9000" })

      const found = yield* exposures(`?number=${encodeURIComponent("+8613900139000")}&limit=1`)
      assert.strictEqual(found.status, 200)
      assert.strictEqual(found.json.records.length, 1)
      const r = found.json.records[0]
      assert.deepStrictEqual([r.requestId, r.apiKeyId, r.realNumberMasked, r.poolKey, r.subsId, r.policy.allowRealFallback], [
        "call-0001", keyIdOf(API_KEY), "****9000", validRequest.poolKey, validRequest.subsId, true
      ])
      assert.isString(found.json.next)
      const rest = yield* exposures(`?number=13900139000&after=${found.json.next}`)
      assert.deepStrictEqual([rest.json.records.length, rest.json.next], [1, null])
      assert.strictEqual((yield* exposures(`?poolKey=${validRequest.poolKey}&subsId=${validRequest.subsId}`)).json.records.length, 3)
      assert.strictEqual((yield* exposures("?from=2000-01-01&to=2000-01-02")).json.records.length, 0)
      for (const text of [found.text, rest.text, ...service.rawLogs]) assert.notInclude(text, REAL)
    }))

  it.effect("decision keys do not open it; admin keys do not decide", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* exposures("", { authorization: `Bearer ${API_KEY}` })).status, 401)
      assert.strictEqual((yield* exposures("", {})).status, 401)
      assert.strictEqual((yield* postDecision(validRequest, asAdmin)).status, 401)
      assert.strictEqual((yield* exposures("")).status, 200)
    }))

  it.effect("bad parameters: 400 listing each, repeating no value", () =>
    Effect.gen(function*() {
      const bad = yield* exposures("?number=12345&from=yesterday&limit=0&poolKey=a%20b")
      assert.strictEqual(bad.status, 400)
      assert.sameMembers(bad.json.error.issues.map((i: { path: string }) => i.path), ["number", "from", "limit", "poolKey"])
      assert.notInclude(bad.text, "12345")
      assert.notInclude(bad.text, "yesterday")
      const misspelt = yield* exposures(`?numbr=${REAL}`)
      assert.strictEqual(misspelt.status, 400)
      assert.notInclude(misspelt.text, REAL)
      assert.notInclude(misspelt.text, "numbr")
      const twice = yield* exposures(`?number=${REAL}&number=13900139001`)
      assert.strictEqual(twice.status, 400, twice.text + JSON.stringify(service.logs.slice(-2)))
      assert.notInclude(twice.text, REAL)
      const backwards = yield* exposures("?from=2026-12-02&to=2026-12-01")
      assert.deepStrictEqual([backwards.status, backwards.json.error.issues[0].path], [400, "to"])
    }))
})

describe("GET /v1/exposures without admin keys or over a damaged file", () => {
  const closed = makeService({ audited: true, settings })
  layer(closed.layer)("no PRECALL_ADMIN_KEYS", (it) => {
    it.effect("refuses everyone, the decision keys included", () =>
      Effect.gen(function*() {
        const res = yield* exposures("", { authorization: `Bearer ${API_KEY}` })
        assert.strictEqual(res.status, 401)
        assert.include(res.json.error.message, "PRECALL_ADMIN_KEYS")
      }))
  })

  const dir = mkdtempSync(join(tmpdir(), "precall-exposures-"))
  const path = join(dir, "audit.jsonl")
  writeFileSync(path, `{"not":"a record","number":"${REAL}"}\n`)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const damaged = makeService({ adminKeys: [ADMIN_KEY], audited: true, settings, exposures: Layer.orDie(fileStoreLayer(path)) })
  layer(damaged.layer)("a damaged audit file", (it) => {
    it.effect("503 audit_corrupt naming the line, not its content", () =>
      Effect.gen(function*() {
        const res = yield* exposures("")
        assert.deepStrictEqual([res.status, res.json.error.code], [503, "audit_corrupt"])
        assert.include(res.json.error.message, "line 1")
        assert.notInclude(res.text, REAL)
      }))
  })
})
