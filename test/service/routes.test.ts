import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ProviderError } from "../../src/domain/errors.ts"
import { API_KEY, makeService, postDecision, send, validRequest } from "./harness.ts"

const service = makeService({
  provider: {
    queryCallStatus: (q) =>
      q.subsId === "1000000000000666"
        ? Effect.fail(new ProviderError({ provider: "fake", action: "QueryCallStatus", code: "isv.OUT_OF_SERVICE", errorClass: "configuration", message: "account suspended" }))
        : Effect.succeed({ status: 1, calledNo: q.phoneNoX, extension: undefined, requestId: "req-1" })
  }
})

layer(service.layer)("routes", (it) => {
  it.effect("GET /healthz answers ok", () =>
    Effect.gen(function*() {
      const res = yield* send("/healthz")
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual(res.json, { status: "ok" })
    }))

  it.effect("GET /readyz reports its checks", () =>
    Effect.gen(function*() {
      const res = yield* send("/readyz")
      assert.strictEqual(res.status, 200)
      assert.strictEqual(res.json.ready, true)
      assert.deepStrictEqual(Object.keys(res.json.checks).sort(), ["circuits", "configuration", "provider", "sharedState"])
    }))

  it.effect("POST /v1/decisions answers the engine's decision", () =>
    Effect.gen(function*() {
      const res = yield* postDecision(validRequest)
      assert.strictEqual(res.status, 200)
      assert.strictEqual(res.headers.get("content-type"), "application/json")
      assert.include(res.json, { decision: "use-x", dial: "17000000000", source: "provider", status: 1, subsId: validRequest.subsId, attempts: 1 })
    }))

  it.effect("provider trouble is a degraded decision, never a 5xx", () =>
    Effect.gen(function*() {
      const res = yield* postDecision({ ...validRequest, subsId: "1000000000000666" })
      assert.strictEqual(res.status, 200)
      assert.include(res.json, { decision: "use-x", source: "degraded", providerCode: "isv.OUT_OF_SERVICE" })
    }))

  it.effect("GET /metrics renders the engine metrics as Prometheus text", () =>
    Effect.gen(function*() {
      yield* postDecision(validRequest)
      const res = yield* send("/metrics")
      assert.strictEqual(res.status, 200)
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
      assert.match(res.text, /^precall_decisions_total\{decision="use-x",source="provider",provider="[a-z]+"\} \d+$/m)
      assert.match(res.text, /^precall_provider_call_duration_ms_bucket\{provider="fake",action="QueryCallStatus",le="\+Inf"\} \d+$/m)
      assert.match(res.text, /^precall_provider_attempts_total\{provider="fake",action="QueryCallStatus"\} \d+$/m)
      assert.match(res.text, /^precall_provider_errors_total\{provider="fake",action="QueryCallStatus",code="isv\.OUT_OF_SERVICE",class="configuration"\} \d+$/m)
      assert.match(res.text, /^precall_http_requests_total\{method="POST",route="\/v1\/decisions",status="200"\} \d+$/m)
    }))

  it.effect("GET /openapi.json documents /v1/decisions with the request schema and the error answers", () =>
    Effect.gen(function*() {
      const res = yield* send("/openapi.json")
      assert.strictEqual(res.status, 200)
      const op = res.json.paths["/v1/decisions"].post
      const schema = op.requestBody.content["application/json"].schema
      assert.deepStrictEqual(schema.required, ["poolKey", "subsId", "phoneNoX"])
      assert.deepStrictEqual(Object.keys(schema.properties), ["provider", "poolKey", "subsId", "phoneNoX", "extension", "callerNo", "realCallee", "binding"])
      assert.deepStrictEqual(schema.properties.binding.properties.mode.enum, ["AXB", "AXN", "AX", "AXN_EXTENSION"])
      assert.includeMembers(Object.keys(op.responses), ["200", "400", "401", "413", "415"])
      assert.deepStrictEqual(op.security, [{ bearer: [] }])
      assert.includeMembers(Object.keys(res.json.paths), ["/healthz", "/readyz", "/metrics"])
    }))

  it.effect("x-request-id: a sane one is echoed, an insane one replaced, a missing one made, on every response", () =>
    Effect.gen(function*() {
      const echoed = yield* send("/healthz", { headers: { "x-request-id": "abc.DEF_12-3" } })
      assert.strictEqual(echoed.headers.get("x-request-id"), "abc.DEF_12-3")
      const replaced = yield* send("/healthz", { headers: { "x-request-id": "a b;<script>" } })
      assert.match(replaced.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
      const tooLong = yield* send("/healthz", { headers: { "x-request-id": "x".repeat(129) } })
      assert.match(tooLong.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
      const made = yield* send("/nowhere")
      assert.strictEqual(made.status, 404)
      assert.match(made.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
      const unauthorized = yield* postDecision(validRequest, { "x-request-id": "r-401" })
      assert.strictEqual(unauthorized.headers.get("x-request-id"), "r-401")
    }))
})

describe("decision log", () => {
  const logged = makeService()
  layer(logged.layer)((it) => {
    it.effect("one JSON line per decision, with the request id and masked numbers only", () =>
      Effect.gen(function*() {
        const request = { ...validRequest, binding: { phoneNoA: "13800138000", phoneNoB: "13912345678", mode: "AXB" }, realCallee: "13912345678" }
        const res = yield* postDecision(request, { authorization: `Bearer ${API_KEY}`, "x-request-id": "call-42" })
        assert.strictEqual(res.status, 200)
        const lines = logged.logs.filter((l) => l["msg"] === "decision")
        assert.strictEqual(lines.length, 1)
        assert.deepInclude(lines[0], {
          level: "info", requestId: "call-42", decision: "use-x", source: "provider", status: 1, attempts: 1,
          dial: "****0000", poolKey: validRequest.poolKey, subsId: validRequest.subsId
        })
        assert.isNumber(lines[0]!["latencyMs"])
        for (const secret of ["17000000000", "13800138000", "13912345678", API_KEY]) {
          assert.notInclude(logged.rawLogs.join("\n"), secret)
        }
      }))
  })
})

describe("not ready", () => {
  layer(makeService({ ready: false }).layer)((it) => {
    it.effect("GET /readyz is 503 with the failing check", () =>
      Effect.gen(function*() {
        const res = yield* send("/readyz")
        assert.strictEqual(res.status, 503)
        assert.strictEqual(res.json.ready, false)
        assert.strictEqual(res.json.checks.provider.ok, false)
      }))
  })
})
