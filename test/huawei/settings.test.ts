/** The Huawei CEC and area-code settings: names, defaults, pairs, endpoint rules, secrets kept Redacted. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { settingsFromEnv, settingsFromObject } from "../../src/policy/settings.ts"
import { serviceConfigFromEnv } from "../../src/service/config.ts"

const settingsOf = (e: { readonly issues: ReadonlyArray<{ readonly setting: string }> }) => e.issues.map((i) => i.setting)

describe("Huawei CEC settings", () => {
  it.effect("default endpoint, no credentials", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromEnv({})
      assert.strictEqual(s.huaweiCecEndpoint, "https://service.besclouds.com")
      assert.isUndefined(s.huaweiCecAk)
      assert.isUndefined(s.huaweiCecSk)
    }))

  it.effect("an AK without its SK (or the reverse) is a settings error naming the missing one", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(settingsOf(yield* Effect.flip(settingsFromEnv({ PRECALL_HUAWEI_CEC_AK: "ak" }))), ["PRECALL_HUAWEI_CEC_SK"])
      assert.deepStrictEqual(settingsOf(yield* Effect.flip(settingsFromEnv({ PRECALL_HUAWEI_CEC_SK: "sk" }))), ["PRECALL_HUAWEI_CEC_AK"])
      assert.deepStrictEqual(settingsOf(yield* Effect.flip(settingsFromObject({ huaweiCecAk: "ak" }))), ["huaweiCecSk"])
    }))

  it.effect("the endpoint is https unless loopback, and carries no credentials", () =>
    Effect.gen(function*() {
      for (const bad of ["http://service.besclouds.com", "https://u:p@service.besclouds.com", "ftp://127.0.0.1"]) {
        assert.deepStrictEqual(settingsOf(yield* Effect.flip(settingsFromEnv({ PRECALL_HUAWEI_CEC_ENDPOINT: bad }))), ["PRECALL_HUAWEI_CEC_ENDPOINT"], bad)
      }
      assert.strictEqual((yield* settingsFromEnv({ PRECALL_HUAWEI_CEC_ENDPOINT: "http://127.0.0.1:8933" })).huaweiCecEndpoint, "http://127.0.0.1:8933")
    }))

  it.effect("the SK is Redacted however it is given, and never printed", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromObject({ huaweiCecAk: "ak", huaweiCecSk: "the-sk" })
      assert.isTrue(Redacted.isRedacted(s.huaweiCecSk))
      assert.strictEqual(Redacted.value(s.huaweiCecSk!), "the-sk")
      assert.notInclude(JSON.stringify(s), "the-sk")
      assert.notInclude(String(s.huaweiCecSk), "the-sk")
    }))

  it.effect("PRECALL_HUAWEI_AREA_CODE: 0 and 2-3 digits", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* settingsFromEnv({ PRECALL_HUAWEI_AREA_CODE: "010" })).huaweiAreaCode, "010")
      for (const bad of ["755", "07555", "0a55"]) {
        assert.deepStrictEqual(settingsOf(yield* Effect.flip(settingsFromEnv({ PRECALL_HUAWEI_AREA_CODE: bad }))), ["PRECALL_HUAWEI_AREA_CODE"], bad)
      }
    }))
})

describe("precall serve with Huawei alone", () => {
  it.effect("a Huawei app key is a provider: the service then wants API keys, like for Aliyun", () =>
    Effect.gen(function*() {
      const refused = yield* Effect.flip(serviceConfigFromEnv({ PRECALL_HUAWEI_APP_KEY: "k", PRECALL_HUAWEI_APP_SECRET: "s" }))
      assert.deepStrictEqual(settingsOf(refused), ["PRECALL_API_KEYS"])
      assert.include(refused.issues[0]!.message, "PRECALL_HUAWEI_APP_KEY is set")
      const config = yield* serviceConfigFromEnv({ PRECALL_HUAWEI_APP_KEY: "k", PRECALL_HUAWEI_APP_SECRET: "s", PRECALL_API_KEYS: "a-long-enough-api-key-0001" })
      assert.strictEqual(config.apiKeys.length, 1)
    }))

  it.effect("the open demo refuses to run beside a Huawei app key or a public Huawei endpoint", () =>
    Effect.gen(function*() {
      const a = yield* Effect.flip(serviceConfigFromEnv({ PRECALL_HUAWEI_APP_KEY: "k" }, { demo: true }))
      assert.include(a.issues[0]!.message, "PRECALL_HUAWEI_APP_KEY")
      const b = yield* Effect.flip(serviceConfigFromEnv({ PRECALL_HUAWEI_ENDPOINT: "https://rtcpns.cn-north-1.myhuaweicloud.com" }, { demo: true }))
      assert.include(b.issues[0]!.message, "(PRECALL_HUAWEI_ENDPOINT set)")
    }))
})
