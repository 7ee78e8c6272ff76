import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { makeKeyCheck } from "../../src/service/auth.ts"
import { loadSettings, serviceConfigFromEnv } from "../../src/service/config.ts"

const issuesOf = (env: Record<string, string>, flags = {}) =>
  Effect.map(Effect.flip(serviceConfigFromEnv(env, flags)), (e) => e.issues)

describe("service settings", () => {
const K1 = "k1-0123456789abcdef012345"
const K2 = "k2-0123456789abcdef012345"
const REAL = { ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-real", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s3cret" }

  it.effect("defaults with --demo: port 8080 on 127.0.0.1, grace 5000 ms, the open demo", () =>
    Effect.gen(function*() {
      const config = yield* serviceConfigFromEnv({}, { demo: true })
      assert.deepStrictEqual(config, { port: 8080, host: "127.0.0.1", apiKeys: [], adminKeys: [], shutdownGraceMs: 5000, demo: true })
    }))

  it.effect("without --demo and without a provider it refuses, naming the variables to set", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({})
      assert.deepStrictEqual(issues.map((i) => i.setting), ["ALIBABA_CLOUD_ACCESS_KEY_ID"])
      assert.include(issues[0]!.message, "PRECALL_ALIYUN_ENDPOINT")
      assert.include(issues[0]!.message, "precall serve --demo")
    }))

  it.effect("--demo beside production settings is refused, each one named", () =>
    Effect.gen(function*() {
      for (const [env, named] of [
        [{ PRECALL_API_KEYS: K1 }, "PRECALL_API_KEYS"],
        [{ PRECALL_REDIS_URL: "redis://127.0.0.1:6379" }, "PRECALL_REDIS_URL"],
        [REAL, "ALIBABA_CLOUD_ACCESS_KEY_ID"],
        [{ PRECALL_ALIYUN_ENDPOINT: "https://dyplsapi.aliyuncs.com" }, "PRECALL_ALIYUN_ENDPOINT"]
      ] as const) {
        const issues = yield* issuesOf(env, { demo: true })
        assert.deepStrictEqual(issues.map((i) => i.setting), ["--demo"], named)
        assert.include(issues[0]!.message, named)
      }
      assert.isTrue((yield* serviceConfigFromEnv({ PRECALL_ALIYUN_ENDPOINT: "http://127.0.0.1:8931" }, { demo: true })).demo)
    }))

  it.effect("API keys shorter than 24 characters are refused with the reason, never echoed", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({ ...REAL, PRECALL_API_KEYS: `${K1},short-key-123` })
      assert.deepStrictEqual(issues.map((i) => i.setting), ["PRECALL_API_KEYS"])
      assert.match(issues[0]!.message, /key #2 has 13 characters; at least 24/)
      assert.notInclude(JSON.stringify(issues), "short-key-123")
      assert.strictEqual((yield* serviceConfigFromEnv({ ...REAL, PRECALL_API_KEYS: "x".repeat(24) })).apiKeys.length, 1)
    }))

  it.effect("PORT, --port (wins), --host, PRECALL_SHUTDOWN_GRACE_MS, comma-separated keys", () =>
    Effect.gen(function*() {
      const config = yield* serviceConfigFromEnv(
        { ...REAL, PORT: "9000", PRECALL_SHUTDOWN_GRACE_MS: "250", PRECALL_API_KEYS: ` ${K1} ,, ${K2} ` },
        { port: 9100, host: "0.0.0.0" }
      )
      assert.strictEqual(config.port, 9100)
      assert.strictEqual(config.host, "0.0.0.0")
      assert.strictEqual(config.shutdownGraceMs, 250)
      assert.deepStrictEqual(config.apiKeys.map(Redacted.value), [K1, K2])
      assert.strictEqual((yield* serviceConfigFromEnv({ PORT: "9000" }, { demo: true })).port, 9000)
    }))

  it.effect("refuses to start with real credentials and no keys, and says why", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(REAL)
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
      const config = yield* serviceConfigFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: "id", PRECALL_API_KEYS: K1 })
      assert.strictEqual(config.demo, false)
    }))

  it.effect("reports every bad setting at once, without echoing keys", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({ ...REAL, PORT: "http", PRECALL_SHUTDOWN_GRACE_MS: "-1", PRECALL_API_KEYS: `${K1},top secret` }, { host: " " })
      assert.deepStrictEqual(issues.map((i) => i.setting), ["PORT", "--host", "PRECALL_SHUTDOWN_GRACE_MS", "PRECALL_API_KEYS"])
      assert.notInclude(JSON.stringify(issues), "secret")
      const flag = yield* issuesOf({}, { port: 70000, demo: true })
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
    for (const wrong of ["", "alpha", "alpha-key ", "ALPHA-KEY", "alpha-keyalpha-key", "x".repeat(10_000), "beta-key\u0000", "alpha-ke\u00e9"]) {
      assert.isFalse(check(wrong), wrong)
    }
  })

  it("tells keys of different lengths apart, and a key from its zero padding", () => {
    // keys are compared zero-padded to the longest one's length, with their byte lengths
    const check = makeKeyCheck(["k", "k\u0000", "kk\u00e9\u{1f511}"].map((k) => Redacted.make(k)))
    for (const right of ["k", "k\u0000", "kk\u00e9\u{1f511}"]) assert.isTrue(check(right), right)
    for (const wrong of ["", "\u0000", "k\u0000\u0000", "kk", "kk\u00e9", "kk\u00e9\u{1f511}\u0000", "kk\u00e9\u{1f512}"]) assert.isFalse(check(wrong), JSON.stringify(wrong))
    assert.isFalse(makeKeyCheck([])("anything"))
  })
})
