/** PRECALL_ADMIN_KEYS: validated like API keys, never one of them, refused beside the open demo; key ids. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createHash } from "node:crypto"
import { keyIdOf, makeKeyMatch } from "../../src/service/auth.ts"
import { serviceConfigFromEnv } from "../../src/service/config.ts"

const PROVIDER = { ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-real", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "s3cret" }
const API = "api-key-0123456789abcdef0123"
const ADMIN = "admin-key-0123456789abcdef012"

const issuesOf = (env: Record<string, string>, flags = {}) => Effect.map(Effect.flip(serviceConfigFromEnv(env, flags)), (e) => e.issues)

describe("admin keys", () => {
  it.effect("are read apart from the API keys", () =>
    Effect.gen(function*() {
      const config = yield* serviceConfigFromEnv({ ...PROVIDER, PRECALL_API_KEYS: API, PRECALL_ADMIN_KEYS: ` ${ADMIN} ` })
      assert.deepStrictEqual([config.apiKeys.map(Redacted.value), config.adminKeys.map(Redacted.value)], [[API], [ADMIN]])
    }))

  it.effect("a key in both lists, a short one or one with spaces is refused, and no message repeats it", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({ ...PROVIDER, PRECALL_API_KEYS: API, PRECALL_ADMIN_KEYS: `${API},short,with space key 0123456789abcdef` })
      assert.deepStrictEqual(issues.map((i) => i.setting), ["PRECALL_ADMIN_KEYS", "PRECALL_ADMIN_KEYS", "PRECALL_ADMIN_KEYS"])
      assert.include(issues.map((i) => i.message).join(" "), "also in PRECALL_API_KEYS")
      for (const text of [API, "short", "with space"]) assert.notInclude(JSON.stringify(issues), text)
    }))

  it.effect("the open demo refuses to run beside them", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf({ PRECALL_ADMIN_KEYS: ADMIN }, { demo: true })
      assert.strictEqual(issues[0]!.setting, "--demo")
      assert.include(issues[0]!.message, "PRECALL_ADMIN_KEYS")
    }))

  it("a key's id is k_ and 12 hex digits of its SHA-256, what `sha256sum | cut -c1-12` prints; matching gives the id", () => {
    assert.strictEqual(keyIdOf(API), `k_${createHash("sha256").update(API).digest("hex").slice(0, 12)}`)
    const match = makeKeyMatch([API, ADMIN].map((k) => Redacted.make(k)))
    assert.deepStrictEqual([match(API), match(ADMIN), match("nope")], [keyIdOf(API), keyIdOf(ADMIN), undefined])
    assert.notInclude(keyIdOf(API), API)
  })
})
