import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { makeKeyCheck } from "../../src/service/auth.ts"
import { loadSettings, serviceConfigFromEnv } from "../../src/service/config.ts"

const issuesOf = (env: Record<string, string>, flags = {}) =>
  Effect.map(Effect.flip(serviceConfigFromEnv(env, flags)), (e) => e.issues)

describe("service settings", () => {
  it.effect("defaults: port 8080 on 127.0.0.1, grace 5000 ms, the open demo", () =>
    Effect.gen(function*() {
      const config = yield* serviceConfigFromEnv({})
      assert.deepStrictEqual(config, { port: 8080, host: "127.0.0.1", apiKeys: [], shutdownGraceMs: 5000, demo: true })
    }))

  it.effect("PORT, --port (wins), --host, PRECALL_SHUTDOWN_GRACE_MS, comma-separated keys", () =>
    Effect.gen(function*() {
      const config = yield* serviceConfigFromEnv(
        { PORT: "9000", PRECALL_SHUTDOWN_GRACE_MS: "250", PRECALL_API_KEYS: " k1 ,, k2 " },
        { port: 9100, host: "0.0.0.0" }
      )
      assert.strictEqual(config.port, 9100)
      assert.strictEqual(config.host, "0.0.0.0")
      assert.strictEqual(config.shutdownGraceMs, 250)
      assert.deepStrictEqual(config.apiKeys.map(Redacted.value), ["k1", "k2"])
      assert.strictEqual((yield* serviceConfigFromEnv({ PORT: "9000" })).port, 9000)
    }))

  it.effect("refuses to start with real credentials and no keys, and says why", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({ ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-real", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s3cret" })
      assert.strictEqual(issues.length, 1)
      assert.strictEqual(issues[0]!.setting, "PRECALL_API_KEYS")
      assert.match(issues[0]!.message, /refusing to start without API keys: ALIBABA_CLOUD_ACCESS_KEY_ID is set/)
      assert.notInclude(issues[0]!.message, "s3cret")
    }))

  it.effect("refuses a non-loopback endpoint, and an external loopback emulator, without keys", () =>
    Effect.gen(function*() {
      const remote = yield* issuesOf({ PRECALL_ALIYUN_ENDPOINT: "https://dyplsapi.aliyuncs.com" })
      assert.match(remote[0]!.message, /PRECALL_ALIYUN_ENDPOINT points at https:\/\/dyplsapi\.aliyuncs\.com/)
      const external = yield* issuesOf({ PRECALL_ALIYUN_ENDPOINT: "http://127.0.0.1:8931" })
      assert.match(external[0]!.message, /an external emulator/)
    }))

  it.effect("with keys, a real provider is fine and the demo is off", () =>
    Effect.gen(function*() {
      const config = yield* serviceConfigFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: "id", PRECALL_API_KEYS: "k" })
      assert.strictEqual(config.demo, false)
    }))

  it.effect("reports every bad setting at once, without echoing keys", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({ PORT: "http", PRECALL_SHUTDOWN_GRACE_MS: "-1", PRECALL_API_KEYS: "good,top secret" }, { host: " " })
      assert.deepStrictEqual(issues.map((i) => i.setting), ["PORT", "--host", "PRECALL_SHUTDOWN_GRACE_MS", "PRECALL_API_KEYS"])
      assert.notInclude(JSON.stringify(issues), "secret")
      const flag = yield* issuesOf({}, { port: 70000 })
      assert.deepStrictEqual(flag.map((i) => i.setting), ["--port"])
    }))
})

describe("all settings", () => {
  it.effect("engine and service problems are reported together", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadSettings({ PRECALL_DEADLINE_MS: "soon", PORT: "-1", ALIBABA_CLOUD_ACCESS_KEY_ID: "id", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s" }))
      assert.deepStrictEqual(error.issues.map((i) => i.setting), ["PRECALL_DEADLINE_MS", "PORT", "PRECALL_API_KEYS"])
    }))
})

describe("API key check", () => {
  it("accepts each configured key and nothing else", () => {
    const check = makeKeyCheck(["alpha-key", "beta-key"].map((k) => Redacted.make(k)))
    assert.isTrue(check("alpha-key"))
    assert.isTrue(check("beta-key"))
    for (const wrong of ["", "alpha", "alpha-key ", "ALPHA-KEY", "alpha-keyalpha-key", "x".repeat(10_000)]) assert.isFalse(check(wrong), wrong)
  })
})
