/** The ChatApp settings: off unless a CustSpaceId is set, the endpoint's rules, the key pair it needs. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { rateLimitsOf, settingsFromEnv, settingsFromObject } from "../../src/policy/settings.ts"

describe("ChatApp settings", () => {
  it.effect("off by default; cams' 10 QPS is a default limit of 9/s (10 % headroom)", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromObject({})
      assert.isUndefined(s.chatappCustSpaceId)
      assert.strictEqual(rateLimitsOf(s)["QueryChatappPhoneNumbers"], 9)
    }))

  it.effect("from the environment", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromEnv({
        PRECALL_CHATAPP_CUST_SPACE_ID: "cs-1", PRECALL_CHATAPP_ENDPOINT: "http://127.0.0.1:8931", PRECALL_CHATAPP_REFRESH_S: "5"
      })
      assert.deepStrictEqual([s.chatappCustSpaceId, s.chatappEndpoint, s.chatappRefreshS], ["cs-1", "http://127.0.0.1:8931", 5])
    }))

  it.effect("a real cams endpoint without the Aliyun key pair is refused at start, naming the variables", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(settingsFromEnv({ PRECALL_CHATAPP_CUST_SPACE_ID: "cs-1" }))
      assert.deepStrictEqual(e.issues.map((i) => i.setting), ["PRECALL_CHATAPP_CUST_SPACE_ID"])
      assert.include(e.issues[0]!.message, "ALIBABA_CLOUD_ACCESS_KEY_ID")
      const withKeys = yield* settingsFromEnv({
        PRECALL_CHATAPP_CUST_SPACE_ID: "cs-1", ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIexample", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "secret"
      })
      assert.strictEqual(withKeys.chatappEndpoint, "https://cams.ap-southeast-1.aliyuncs.com")
    }))

  it.effect("bad values are reported together, by variable", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(settingsFromEnv({
        PRECALL_CHATAPP_CUST_SPACE_ID: "space with spaces", PRECALL_CHATAPP_ENDPOINT: "http://cams.example.com", PRECALL_CHATAPP_REFRESH_S: "0"
      }))
      assert.deepStrictEqual(e.issues.map((i) => i.setting).sort(), ["PRECALL_CHATAPP_CUST_SPACE_ID", "PRECALL_CHATAPP_ENDPOINT", "PRECALL_CHATAPP_REFRESH_S"])
    }))
})
