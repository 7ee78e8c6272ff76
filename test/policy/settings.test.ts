/** Settings from an object and from the environment: defaults, parsing, all-at-once errors, secrets. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as fc from "fast-check"
import { inspect } from "node:util"
import { decisionPolicy, envNames, InvalidSettings, settingsFromEnv, settingsFromObject } from "../../src/policy/settings.ts"

const SECRET = "s3cr3t-AccessKeySecret-value"

const expectedDefaults = {
  allowRealFallback: false,
  degradedDecision: "use-x",
  deadlineMs: 1000,
  attemptTimeoutMs: 300,
  maxAttempts: 3,
  retryBaseMs: 25,
  bindingTtlS: 3600,
  aliyunEndpoint: "https://dyplsapi.aliyuncs.com",
  aliyunSignature: "v3",
  statusTtlMs: 2000,
  rateLimits: {},
  redisTimeoutMs: 10,
  redisPrefix: "precall:",
  breakerFailureRatio: 0.5,
  breakerMinimumCalls: 20,
  breakerWindow: 50,
  breakerOpenMs: 5000,
  throttleCooldownMs: 10000,
  xFailureThreshold: 3,
  xFailureWindowS: 600,
  temporaryBindingS: 300,
  rebindProviders: [] as ReadonlyArray<string>,
  aliyunStatusSource: "auto",
  aliyunStatusProbeS: 600,
  huaweiEndpoint: "https://rtcpns.cn-north-1.myhuaweicloud.com",
  huaweiAuth: "aksk",
  huaweiCecEndpoint: "https://service.besclouds.com",
  auditFile: "precall-audit.jsonl",
  auditTimeoutMs: 300
}

const settingsOf = (issues: InvalidSettings) => issues.issues.map((i) => i.setting)

describe("defaults", () => {
  it.effect("an empty object gives every default and no credentials", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromObject({})
      assert.deepStrictEqual({ ...s }, expectedDefaults)
      assert.isFalse("aliyunAccessKeyId" in s)
      assert.isFalse("aliyunAccessKeySecret" in s)
    }))

  it.effect("an empty environment gives the same defaults", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual({ ...(yield* settingsFromEnv({})) }, expectedDefaults)
    }))

  it.effect("empty or blank variables count as unset; unrelated variables are ignored", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromEnv({
        PRECALL_DEADLINE_MS: "",
        PRECALL_MAX_ATTEMPTS: "   ",
        PRECALL_DEGRADED_DECISION: "",
        ALIBABA_CLOUD_ACCESS_KEY_ID: "",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: " ",
        PATH: "/usr/bin",
        PRECALL_UNKNOWN: "x"
      })
      assert.deepStrictEqual({ ...s }, expectedDefaults)
    }))

  it.effect("decisionPolicy takes only the decision-shaping settings", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromObject({ allowRealFallback: true, degradedDecision: "fallback-real", deadlineMs: 500, auditHashSecret: "audit-hash-secret-0123" })
      assert.deepStrictEqual(decisionPolicy(s), { allowRealFallback: true, degradedDecision: "fallback-real" })
    }))
})

describe("the exposure audit's settings", () => {
  it.effect("the hash secret has at least 16 characters and is held as Redacted", () =>
    Effect.gen(function*() {
      const short = yield* Effect.flip(settingsFromObject({ allowRealFallback: true, auditHashSecret: "too-short" }))
      assert.deepStrictEqual(settingsOf(short), ["auditHashSecret"])
      assert.notInclude(short.message, "too-short")
      const ok = yield* settingsFromEnv({ PRECALL_ALLOW_REAL_FALLBACK: "true", PRECALL_AUDIT_HASH_SECRET: "audit-hash-secret-0123" })
      assert.isTrue(Redacted.isRedacted(ok.auditHashSecret))
      assert.notInclude(inspect(ok, { depth: 10 }), "audit-hash-secret-0123")
    }))

  it.effect("the database URL is a postgres URL, held as Redacted; a bad one is named without its password", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromEnv({ PRECALL_AUDIT_DATABASE_URL: "postgresql://writer:hunter2@db:5432/precall" })
      assert.notInclude(`${JSON.stringify(s)} ${inspect(s, { depth: 10 })}`, "hunter2")
      for (const wrong of ["mysql://writer:hunter2@db/precall", "postgres://", "not a url hunter2"]) {
        const bad = yield* Effect.flip(settingsFromEnv({ PRECALL_AUDIT_DATABASE_URL: wrong }))
        assert.deepStrictEqual(settingsOf(bad), ["PRECALL_AUDIT_DATABASE_URL"], wrong)
        assert.notInclude(bad.message, "hunter2")
      }
      const timeout = yield* Effect.flip(settingsFromEnv({ PRECALL_AUDIT_TIMEOUT_MS: "0" }))
      assert.deepStrictEqual(settingsOf(timeout), ["PRECALL_AUDIT_TIMEOUT_MS"])
    }))
})

describe("settingsFromEnv parses every variable", () => {
  it("every setting has its documented variable", () => {
    assert.deepStrictEqual({ ...envNames }, {
      allowRealFallback: "PRECALL_ALLOW_REAL_FALLBACK",
      degradedDecision: "PRECALL_DEGRADED_DECISION",
      deadlineMs: "PRECALL_DEADLINE_MS",
      attemptTimeoutMs: "PRECALL_ATTEMPT_TIMEOUT_MS",
      maxAttempts: "PRECALL_MAX_ATTEMPTS",
      retryBaseMs: "PRECALL_RETRY_BASE_MS",
      bindingTtlS: "PRECALL_BINDING_TTL_S",
      aliyunEndpoint: "PRECALL_ALIYUN_ENDPOINT",
      aliyunSignature: "PRECALL_ALIYUN_SIGNATURE",
      aliyunAccessKeyId: "ALIBABA_CLOUD_ACCESS_KEY_ID",
      aliyunAccessKeySecret: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
      aliyunAccountId: "PRECALL_ALIYUN_ACCOUNT_ID",
      statusTtlMs: "PRECALL_STATUS_TTL_MS",
      rateLimits: "PRECALL_RATE_LIMITS",
      redisUrl: "PRECALL_REDIS_URL",
      redisTimeoutMs: "PRECALL_REDIS_TIMEOUT_MS",
      redisPrefix: "PRECALL_REDIS_PREFIX",
      redisKeySecret: "PRECALL_REDIS_KEY_SECRET",
      breakerFailureRatio: "PRECALL_BREAKER_FAILURE_RATIO",
      breakerMinimumCalls: "PRECALL_BREAKER_MINIMUM_CALLS",
      breakerWindow: "PRECALL_BREAKER_WINDOW",
      breakerOpenMs: "PRECALL_BREAKER_OPEN_MS",
      throttleCooldownMs: "PRECALL_THROTTLE_COOLDOWN_MS",
      xFailureThreshold: "PRECALL_X_FAILURE_THRESHOLD",
      xFailureWindowS: "PRECALL_X_FAILURE_WINDOW_S",
      temporaryBindingS: "PRECALL_TEMPORARY_BINDING_S",
      rebindProviders: "PRECALL_REBIND_PROVIDERS",
      aliyunStatusSource: "PRECALL_ALIYUN_STATUS_SOURCE",
      aliyunStatusProbeS: "PRECALL_ALIYUN_STATUS_PROBE_S",
      aliyunPoolKey: "PRECALL_ALIYUN_POOL_KEY",
      huaweiEndpoint: "PRECALL_HUAWEI_ENDPOINT",
      huaweiAppKey: "PRECALL_HUAWEI_APP_KEY",
      huaweiAppSecret: "PRECALL_HUAWEI_APP_SECRET",
      huaweiAxAppKey: "PRECALL_HUAWEI_AX_APP_KEY",
      huaweiAxAppSecret: "PRECALL_HUAWEI_AX_APP_SECRET",
      huaweiAuth: "PRECALL_HUAWEI_AUTH",
      huaweiAreaCode: "PRECALL_HUAWEI_AREA_CODE",
      huaweiCecEndpoint: "PRECALL_HUAWEI_CEC_ENDPOINT",
      huaweiCecAk: "PRECALL_HUAWEI_CEC_AK",
      huaweiCecSk: "PRECALL_HUAWEI_CEC_SK",
      auditDatabaseUrl: "PRECALL_AUDIT_DATABASE_URL",
      auditFile: "PRECALL_AUDIT_FILE",
      auditHashSecret: "PRECALL_AUDIT_HASH_SECRET",
      auditTimeoutMs: "PRECALL_AUDIT_TIMEOUT_MS"
    })
  })

  it.effect("the breaker's minimum calls fit in its window", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromEnv({ PRECALL_BREAKER_MINIMUM_CALLS: "60", PRECALL_BREAKER_WINDOW: "50" }))
      assert.deepStrictEqual(settingsOf(err), ["PRECALL_BREAKER_MINIMUM_CALLS"])
    }))

  it.effect("PRECALL_RATE_LIMITS must be Action=perSecond pairs", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromEnv({ PRECALL_RATE_LIMITS: "QueryCallStatus:10", PRECALL_REDIS_URL: "http://127.0.0.1:6379" }))
      assert.sameMembers(settingsOf(err), ["PRECALL_RATE_LIMITS", "PRECALL_REDIS_URL"])
    }))

  it.effect("all variables set", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromEnv({
        PRECALL_ALLOW_REAL_FALLBACK: "true",
        PRECALL_DEGRADED_DECISION: "fallback-real",
        PRECALL_DEADLINE_MS: "2500",
        PRECALL_ATTEMPT_TIMEOUT_MS: " 400 ",
        PRECALL_MAX_ATTEMPTS: "5",
        PRECALL_RETRY_BASE_MS: "0",
        PRECALL_BINDING_TTL_S: "120",
        PRECALL_ALIYUN_ENDPOINT: "http://127.0.0.1:8931",
        PRECALL_ALIYUN_SIGNATURE: "v1",
        ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIexample",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
        PRECALL_ALIYUN_ACCOUNT_ID: "1234567890",
        PRECALL_STATUS_TTL_MS: "0",
        PRECALL_RATE_LIMITS: "QueryCallStatus=10, BindAxb=0",
        PRECALL_REDIS_URL: "redis://127.0.0.1:6379/2",
        PRECALL_REDIS_TIMEOUT_MS: "8",
        PRECALL_REDIS_PREFIX: "pc:",
        PRECALL_BREAKER_FAILURE_RATIO: "0.25",
        PRECALL_BREAKER_MINIMUM_CALLS: "10",
        PRECALL_BREAKER_WINDOW: "40",
        PRECALL_BREAKER_OPEN_MS: "2000",
        PRECALL_THROTTLE_COOLDOWN_MS: "3000",
        PRECALL_X_FAILURE_THRESHOLD: "5",
        PRECALL_X_FAILURE_WINDOW_S: "300",
        PRECALL_TEMPORARY_BINDING_S: "120",
        PRECALL_REBIND_PROVIDERS: "huawei, aliyun",
        PRECALL_ALIYUN_STATUS_SOURCE: "derived",
        PRECALL_ALIYUN_STATUS_PROBE_S: "60",
        PRECALL_HUAWEI_ENDPOINT: "http://127.0.0.1:8932",
        PRECALL_HUAWEI_APP_KEY: "huaweiAxbKey",
        PRECALL_HUAWEI_APP_SECRET: "huawei-axb-secret",
        PRECALL_HUAWEI_AX_APP_KEY: "huaweiAxKey",
        PRECALL_HUAWEI_AX_APP_SECRET: "huawei-ax-secret",
        PRECALL_HUAWEI_AUTH: "wsse",
        PRECALL_HUAWEI_AREA_CODE: "0755",
        PRECALL_HUAWEI_CEC_ENDPOINT: "http://127.0.0.1:8933",
        PRECALL_HUAWEI_CEC_AK: "cecAk",
        PRECALL_HUAWEI_CEC_SK: "cec-sk",
        PRECALL_AUDIT_DATABASE_URL: "postgres://writer:pw@db.example:5432/precall",
        PRECALL_AUDIT_FILE: "/var/lib/precall/audit.jsonl",
        PRECALL_AUDIT_HASH_SECRET: "audit-hash-secret-0123456789",
        PRECALL_AUDIT_TIMEOUT_MS: "250"
      })
      const { aliyunAccessKeySecret, redisUrl, huaweiAppSecret, huaweiAxAppSecret, huaweiCecSk, auditDatabaseUrl, auditHashSecret, ...rest } = s
      assert.strictEqual(Redacted.value(huaweiCecSk!), "cec-sk")
      assert.strictEqual(Redacted.value(auditDatabaseUrl!), "postgres://writer:pw@db.example:5432/precall")
      assert.strictEqual(Redacted.value(auditHashSecret!), "audit-hash-secret-0123456789")
      assert.strictEqual(Redacted.value(huaweiAppSecret!), "huawei-axb-secret")
      assert.strictEqual(Redacted.value(huaweiAxAppSecret!), "huawei-ax-secret")
      assert.strictEqual(Redacted.value(redisUrl!), "redis://127.0.0.1:6379/2")
      assert.deepStrictEqual(rest, {
        allowRealFallback: true,
        degradedDecision: "fallback-real",
        deadlineMs: 2500,
        attemptTimeoutMs: 400,
        maxAttempts: 5,
        retryBaseMs: 0,
        bindingTtlS: 120,
        aliyunEndpoint: "http://127.0.0.1:8931",
        aliyunSignature: "v1",
        aliyunAccessKeyId: "LTAIexample",
        aliyunAccountId: "1234567890",
        statusTtlMs: 0,
        rateLimits: { QueryCallStatus: 10, BindAxb: 0 },
        redisTimeoutMs: 8,
        redisPrefix: "pc:",
        breakerFailureRatio: 0.25,
        breakerMinimumCalls: 10,
        breakerWindow: 40,
        breakerOpenMs: 2000,
        throttleCooldownMs: 3000,
        xFailureThreshold: 5,
        xFailureWindowS: 300,
        temporaryBindingS: 120,
        rebindProviders: ["huawei", "aliyun"],
        aliyunStatusSource: "derived",
        aliyunStatusProbeS: 60,
        huaweiEndpoint: "http://127.0.0.1:8932",
        huaweiAppKey: "huaweiAxbKey",
        huaweiAxAppKey: "huaweiAxKey",
        huaweiAuth: "wsse",
        huaweiAreaCode: "0755",
        huaweiCecEndpoint: "http://127.0.0.1:8933",
        huaweiCecAk: "cecAk",
        auditFile: "/var/lib/precall/audit.jsonl",
        auditTimeoutMs: 250
      })
      assert.isTrue(Redacted.isRedacted(aliyunAccessKeySecret))
      assert.strictEqual(Redacted.value(aliyunAccessKeySecret!), SECRET)
    }))

  it.effect("PRECALL_ALLOW_REAL_FALLBACK=false and the other degraded decisions", () =>
    Effect.gen(function*() {
      for (const d of ["use-x", "refuse"] as const) {
        const s = yield* settingsFromEnv({ PRECALL_ALLOW_REAL_FALLBACK: "false", PRECALL_DEGRADED_DECISION: d })
        assert.isFalse(s.allowRealFallback)
        assert.strictEqual(s.degradedDecision, d)
      }
    }))

  it.effect("an endpoint may end with one slash", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* settingsFromEnv({ PRECALL_ALIYUN_ENDPOINT: "https://dyplsapi.aliyuncs.com/" })).aliyunEndpoint, "https://dyplsapi.aliyuncs.com/")
    }))

  it("integers in range round-trip through the environment", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 10, max: 60_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 120, max: 365 * 24 * 3600 }),
        async (deadline, attempts, base, ttl) => {
          const s = await Effect.runPromise(settingsFromEnv({
            PRECALL_DEADLINE_MS: String(deadline),
            PRECALL_ATTEMPT_TIMEOUT_MS: String(Math.min(deadline, 1 + (base % deadline))),
            PRECALL_MAX_ATTEMPTS: String(attempts),
            PRECALL_RETRY_BASE_MS: String(base),
            PRECALL_BINDING_TTL_S: String(ttl)
          }))
          assert.deepStrictEqual([s.deadlineMs, s.maxAttempts, s.retryBaseMs, s.bindingTtlS], [deadline, attempts, base, ttl])
        }
      ),
      { numRuns: 100, seed: 31 }
    )
  })
})

describe("invalid values are reported all at once, by variable name", () => {
  it.effect("one issue per bad variable, each named by its variable", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromEnv({
        PRECALL_ALLOW_REAL_FALLBACK: "yes",
        PRECALL_DEGRADED_DECISION: "dial-anyway",
        PRECALL_DEADLINE_MS: "soon",
        PRECALL_ATTEMPT_TIMEOUT_MS: "0",
        PRECALL_MAX_ATTEMPTS: "11",
        PRECALL_RETRY_BASE_MS: "1.5",
        PRECALL_BINDING_TTL_S: "60",
        PRECALL_ALIYUN_ENDPOINT: "https://dyplsapi.aliyuncs.com/v1",
        PRECALL_ALIYUN_SIGNATURE: "v2"
      }))
      assert.instanceOf(err, InvalidSettings)
      assert.sameMembers(settingsOf(err), [
        "PRECALL_ALLOW_REAL_FALLBACK",
        "PRECALL_DEGRADED_DECISION",
        "PRECALL_DEADLINE_MS",
        "PRECALL_ATTEMPT_TIMEOUT_MS",
        "PRECALL_MAX_ATTEMPTS",
        "PRECALL_RETRY_BASE_MS",
        "PRECALL_BINDING_TTL_S",
        "PRECALL_ALIYUN_ENDPOINT",
        "PRECALL_ALIYUN_SIGNATURE"
      ])
      const byName = new Map(err.issues.map((i) => [i.setting, i.message]))
      assert.include(byName.get("PRECALL_MAX_ATTEMPTS"), "between 1 and 10")
      assert.include(byName.get("PRECALL_ATTEMPT_TIMEOUT_MS"), "between 1 and 60000")
      assert.include(byName.get("PRECALL_BINDING_TTL_S"), "between 120")
      assert.include(byName.get("PRECALL_RETRY_BASE_MS"), "integer")
      assert.include(byName.get("PRECALL_DEGRADED_DECISION"), "fallback-real")
      assert.include(byName.get("PRECALL_ALIYUN_SIGNATURE"), "v3")
      assert.include(byName.get("PRECALL_ALIYUN_ENDPOINT"), "http(s) URL")
      // The message lists every variable, one per line.
      for (const name of settingsOf(err)) assert.include(err.message, `  ${name}: `)
    }))

  it.effect("each numeric variable rejects out-of-range, fractional and non-numeric values", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
        ["PRECALL_DEADLINE_MS", ["9", "60001", "-5", "1e3", "abc", "100.5"]],
        ["PRECALL_ATTEMPT_TIMEOUT_MS", ["0", "60001", "x"]],
        ["PRECALL_MAX_ATTEMPTS", ["0", "11", "2.5"]],
        ["PRECALL_RETRY_BASE_MS", ["-1", "10001"]],
        ["PRECALL_BINDING_TTL_S", ["119", "31536001"]]
      ]
      for (const [name, values] of cases) {
        for (const value of values) {
          const err = yield* Effect.flip(settingsFromEnv({ [name]: value }))
          assert.deepStrictEqual(settingsOf(err), [name], `${name}=${value}`)
        }
      }
    }))

  it.effect("the object API names fields, every issue at once", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromObject({
        deadlineMs: 5,
        maxAttempts: 0,
        aliyunSignature: "v2" as "v1",
        aliyunEndpoint: "dyplsapi.aliyuncs.com"
      }))
      assert.sameMembers(settingsOf(err), ["deadlineMs", "maxAttempts", "aliyunSignature", "aliyunEndpoint"])
    }))
})

describe("cross-field rules", () => {
  it.effect("attempt timeout above the deadline", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromEnv({ PRECALL_DEADLINE_MS: "200", PRECALL_ATTEMPT_TIMEOUT_MS: "201" }))
      assert.deepStrictEqual(err.issues, [{ setting: "PRECALL_ATTEMPT_TIMEOUT_MS", message: "201 exceeds PRECALL_DEADLINE_MS (200)" }])
      // Equal is allowed.
      const s = yield* settingsFromEnv({ PRECALL_DEADLINE_MS: "200", PRECALL_ATTEMPT_TIMEOUT_MS: "200" })
      assert.strictEqual(s.attemptTimeoutMs, 200)
    }))

  it.effect("the default attempt timeout above a short deadline is caught too", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromObject({ deadlineMs: 100 }))
      assert.deepStrictEqual(err.issues, [{ setting: "attemptTimeoutMs", message: "300 exceeds deadlineMs (100)" }])
    }))

  it.effect("degraded fallback-real needs allowRealFallback", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromEnv({ PRECALL_DEGRADED_DECISION: "fallback-real" }))
      assert.strictEqual(err.issues.length, 1)
      assert.strictEqual(err.issues[0]!.setting, "PRECALL_DEGRADED_DECISION")
      assert.include(err.issues[0]!.message, "PRECALL_ALLOW_REAL_FALLBACK=true")
      const err2 = yield* Effect.flip(settingsFromObject({ degradedDecision: "fallback-real", allowRealFallback: false }))
      assert.include(err2.message, "fallback-real")
    }))

  it.effect("a key id without a secret, and a secret without a key id", () =>
    Effect.gen(function*() {
      const a = yield* Effect.flip(settingsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIexample" }))
      assert.include(a.message, "must be set together")
      const b = yield* Effect.flip(settingsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET }))
      assert.include(b.message, "must be set together")
      const c = yield* Effect.flip(settingsFromObject({ aliyunAccessKeySecret: SECRET }))
      assert.include(c.message, "must be set together")
    }))

  it.effect("all three cross-field problems are reported together", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromEnv({
        PRECALL_DEADLINE_MS: "100",
        PRECALL_ATTEMPT_TIMEOUT_MS: "200",
        PRECALL_DEGRADED_DECISION: "fallback-real",
        ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIexample"
      }))
      assert.strictEqual(err.issues.length, 3)
      assert.sameMembers(err.issues.map((i) => i.setting), ["PRECALL_ATTEMPT_TIMEOUT_MS", "PRECALL_DEGRADED_DECISION", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
      const text = err.issues.map((i) => i.message).join("\n")
      assert.include(text, "exceeds PRECALL_DEADLINE_MS")
      assert.include(text, "fallback-real")
      assert.include(text, "must be set together")
    }))
})

describe("the secret stays Redacted", () => {
  const assertHidden = (what: string, text: string) => assert.notInclude(text, SECRET, `${what} shows the secret`)

  it.effect("from the environment: String, JSON, inspect and the Redacted itself hide it", () =>
    Effect.gen(function*() {
      const s = yield* settingsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIexample", ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET })
      assert.isTrue(Redacted.isRedacted(s.aliyunAccessKeySecret))
      assertHidden("String(settings)", String(s))
      assertHidden("JSON", JSON.stringify(s))
      assertHidden("inspect", inspect(s, { depth: 10 }))
      assertHidden("template", `${s.aliyunAccessKeySecret}`)
      assertHidden("String(secret)", String(s.aliyunAccessKeySecret))
      assert.strictEqual(Redacted.value(s.aliyunAccessKeySecret!), SECRET)
    }))

  it.effect("from an object, as a plain string or already Redacted", () =>
    Effect.gen(function*() {
      for (const secret of [SECRET, Redacted.make(SECRET)]) {
        const s = yield* settingsFromObject({ aliyunAccessKeyId: "LTAIexample", aliyunAccessKeySecret: secret })
        assert.isTrue(Redacted.isRedacted(s.aliyunAccessKeySecret))
        assert.strictEqual(Redacted.value(s.aliyunAccessKeySecret!), SECRET)
        assertHidden("JSON", JSON.stringify(s))
        assertHidden("inspect", inspect(s, { depth: 10 }))
      }
    }))

  it.effect("errors never show the secret", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET, PRECALL_DEADLINE_MS: "x" }))
      assertHidden("message", err.message)
      assertHidden("JSON", JSON.stringify(err))
      assertHidden("inspect", inspect(err, { depth: 10 }))
      const err2 = yield* Effect.flip(settingsFromObject({ aliyunAccessKeySecret: SECRET }))
      assertHidden("message", err2.message)
      assertHidden("inspect", inspect(err2, { depth: 10 }))
    }))

  it.effect("an empty secret in the object API is rejected under the field name the user wrote", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(settingsFromObject({ aliyunAccessKeyId: "LTAIexample", aliyunAccessKeySecret: "" }))
      assert.deepStrictEqual(settingsOf(err), ["aliyunAccessKeySecret"])
    }))
})

describe("the Redis URL is a secret too (it may carry a password)", () => {
  it.effect("from the environment and from an object it is held as Redacted", () =>
    Effect.gen(function*() {
      const url = "redis://:hunter2@127.0.0.1:6379/0"
      const secret = "shared-secret"
      for (const s of [yield* settingsFromEnv({ PRECALL_REDIS_URL: url, PRECALL_REDIS_KEY_SECRET: secret }), yield* settingsFromObject({ redisUrl: url, redisKeySecret: secret })]) {
        assert.isTrue(Redacted.isRedacted(s.redisUrl))
        assert.strictEqual(Redacted.value(s.redisUrl!), url)
        assert.notInclude(`${JSON.stringify(s)} ${String(s)} ${inspect(s, { depth: 10 })}`, "hunter2")
      }
      for (const wrong of ["http://:hunter2@127.0.0.1", "redis://user:hunter2@host:notaport", "redis://"]) {
        const bad = yield* Effect.flip(settingsFromObject({ redisUrl: wrong, redisKeySecret: secret }))
        assert.deepStrictEqual(settingsOf(bad), ["redisUrl"], wrong)
        assert.notInclude(bad.message, "hunter2")
      }
    }))
})
