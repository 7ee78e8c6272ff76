/**
 * Every setting precall reads, with its default, in one place. Decoded with Schema from a plain object
 * (the embedding API) or from environment variables (CLI and service); every problem is reported at
 * once, named by the variable or field the user wrote.
 */
import { Effect, Redacted, Schema, SchemaIssue } from "effect"
import { DegradedDecision } from "../domain/decision.ts"
import { PoolKey } from "../domain/binding.ts"
import { ProviderName } from "../domain/request.ts"
import { endpointProblem } from "./endpoint.ts"

const between = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))
const withDefault = <S extends Schema.Top & { readonly "~type.make.in": unknown }>(schema: S, value: S["Type"]) =>
  schema.pipe(Schema.withDecodingDefault(Effect.succeed(value as S["Encoded"])))

export const defaults = {
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
  redisTimeoutMs: 10,
  redisPrefix: "precall:",
  breakerFailureRatio: 0.5,
  breakerMinimumCalls: 20,
  breakerWindow: 50,
  breakerOpenMs: 5000,
  throttleCooldownMs: 10_000,
  xFailureThreshold: 3,
  xFailureWindowS: 600,
  temporaryBindingS: 300,
  aliyunStatusSource: "auto",
  aliyunStatusProbeS: 600,
  huaweiEndpoint: "https://rtcpns.cn-north-1.myhuaweicloud.com",
  huaweiAuth: "aksk",
  huaweiCecEndpoint: "https://service.besclouds.com",
  auditFile: "precall-audit.jsonl",
  auditTimeoutMs: 300
} as const

/**
 * Provider limits per account and action, in calls per second: the published values where
 * shared/providers/aliyun.md gives them; conservative ones where Aliyun publishes none.
 */
export const defaultRateLimits: Readonly<Record<string, number>> = {
  QueryCallStatus: 200,
  QuerySubscriptionDetail: 5000,
  BindAxb: 5000,
  BindAxn: 1000,
  BindAxnExtension: 5000,
  UpdateSubscription: 10000,
  UnbindSubscription: 1000
}

const SettingsFields = Schema.Struct({
  allowRealFallback: withDefault(Schema.Boolean, defaults.allowRealFallback),
  degradedDecision: withDefault(DegradedDecision, defaults.degradedDecision),
  /** Whole-decision budget: a decision always comes within it. */
  deadlineMs: withDefault(between(10, 60_000), defaults.deadlineMs),
  /** Budget of one provider call. */
  attemptTimeoutMs: withDefault(between(1, 60_000), defaults.attemptTimeoutMs),
  /** Provider calls per action, the first included. */
  maxAttempts: withDefault(between(1, 10), defaults.maxAttempts),
  /** First retry delay; doubles each retry, with jitter. */
  retryBaseMs: withDefault(between(0, 10_000), defaults.retryBaseMs),
  /** Lifetime of a binding made by a rebind. */
  bindingTtlS: withDefault(between(120, 365 * 24 * 3600), defaults.bindingTtlS),
  aliyunEndpoint: withDefault(
    Schema.String.check(Schema.makeFilter((s: string) => endpointProblem(s) ?? true)),
    defaults.aliyunEndpoint
  ),
  aliyunSignature: withDefault(Schema.Literals(["v3", "v1"]), defaults.aliyunSignature),
  aliyunAccessKeyId: Schema.optionalKey(Schema.NonEmptyString),
  aliyunAccessKeySecret: Schema.optionalKey(Schema.Redacted(Schema.NonEmptyString)),
  /** The account whose quota the limits share; Aliyun sums every key of an account. Default: the key id. */
  aliyunAccountId: Schema.optionalKey(Schema.NonEmptyString),
  /** How long a status-1 answer may be reused; 0 disables the status cache. */
  statusTtlMs: withDefault(between(0, 60_000), defaults.statusTtlMs),
  /** Per-action limits in calls per second, merged over `defaultRateLimits`; 0 removes a limit. */
  rateLimits: withDefault(Schema.Record(Schema.String, Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 }))), {}),
  /** Shared state (limits, status cache, coalescing) lives here when set, e.g. redis://127.0.0.1:6379; Redacted, as it may carry a password. */
  redisUrl: Schema.optionalKey(Schema.Redacted(
    Schema.String.check(Schema.makeFilter((s: string) => URL.canParse(s) && /^rediss?:$/.test(new URL(s).protocol) && new URL(s).hostname !== "", { expected: "a redis:// or rediss:// URL" }))
  )),
  /** Longest a decision waits on one Redis operation before using in-memory state instead. */
  redisTimeoutMs: withDefault(between(1, 1000), defaults.redisTimeoutMs),
  redisPrefix: withDefault(Schema.NonEmptyString, defaults.redisPrefix),
  /** HMAC key of shared-state key names; default: the Aliyun AccessKey secret. Instances sharing a Redis must agree. */
  redisKeySecret: Schema.optionalKey(Schema.Redacted(Schema.NonEmptyString)),
  /** The breaker opens when at least this share of the last `breakerWindow` calls failed... */
  breakerFailureRatio: withDefault(Schema.Number.check(Schema.isBetween({ minimum: 0.01, maximum: 1 })), defaults.breakerFailureRatio),
  /** ...and at least this many calls were seen. */
  breakerMinimumCalls: withDefault(between(1, 10_000), defaults.breakerMinimumCalls),
  breakerWindow: withDefault(between(1, 10_000), defaults.breakerWindow),
  /** How long it stays open before a half-open probe; 0 disables the breaker. */
  breakerOpenMs: withDefault(between(0, 600_000), defaults.breakerOpenMs),
  /** How long a throttling reply keeps an action's shared limit lowered (or its Retry-After, if longer). */
  throttleCooldownMs: withDefault(between(0, 600_000), defaults.throttleCooldownMs),
  /** Number-class call failures on one X within `xFailureWindowS` that make the next decision rebind onto another X. */
  xFailureThreshold: withDefault(between(1, 1000), defaults.xFailureThreshold),
  /** The window of X health, in seconds. */
  xFailureWindowS: withDefault(between(10, 7 * 24 * 3600), defaults.xFailureWindowS),
  /** Lifetime of a short second binding standing in for a temporary X (Huawei has none of its own). */
  temporaryBindingS: withDefault(between(120, 3600), defaults.temporaryBindingS),
  /**
   * Providers to make a new binding on, in order, when the binding's own provider cannot (no X in the
   * pool, down, breaker open), e.g. `["huawei"]`. Each must be configured.
   */
  rebindProviders: withDefault(Schema.Array(ProviderName), []),
  /**
   * Where Aliyun status comes from: `query` (QueryCallStatus), `derived` (QuerySubscriptionDetail +
   * QuerySecretNoDetail), `auto` (QueryCallStatus until the endpoint answers that the action does not
   * exist, then derived, asking again every `aliyunStatusProbeS`).
   */
  aliyunStatusSource: withDefault(Schema.Literals(["auto", "query", "derived"]), defaults.aliyunStatusSource),
  aliyunStatusProbeS: withDefault(between(10, 24 * 3600), defaults.aliyunStatusProbeS),
  /** The Aliyun pool a binding moved to Aliyun from another provider goes into (PRECALL_REBIND_PROVIDERS). */
  aliyunPoolKey: Schema.optionalKey(PoolKey),
  /** Huawei privacy-call platform: the APP access address. */
  huaweiEndpoint: withDefault(
    Schema.String.check(Schema.makeFilter((s: string) => endpointProblem(s) ?? true)),
    defaults.huaweiEndpoint
  ),
  /** The AXB application's key and secret. */
  huaweiAppKey: Schema.optionalKey(Schema.NonEmptyString),
  huaweiAppSecret: Schema.optionalKey(Schema.Redacted(Schema.NonEmptyString)),
  /** The AX application's key and secret (optional: without them AX bindings are not served). */
  huaweiAxAppKey: Schema.optionalKey(Schema.NonEmptyString),
  huaweiAxAppSecret: Schema.optionalKey(Schema.Redacted(Schema.NonEmptyString)),
  /** Request signing: `aksk` (HMAC-SHA256, current) or `wsse` (SHA-256, legacy). */
  huaweiAuth: withDefault(Schema.Literals(["aksk", "wsse"]), defaults.huaweiAuth),
  /** City code (`0755`, `010`) whose X numbers a new Huawei binding takes (areaMatchMode 1 widens it); absent: the platform picks. */
  huaweiAreaCode: Schema.optionalKey(Schema.String.check(Schema.makeFilter((s: string) => /^0\d{2,3}$/.test(s), { expected: "an area code of 0 and 2-3 digits, e.g. 0755" }))),
  /** Huawei CEC (contact center): where queryCallState is asked, with its own AK/SK. */
  huaweiCecEndpoint: withDefault(
    Schema.String.check(Schema.makeFilter((s: string) => endpointProblem(s) ?? true)),
    defaults.huaweiCecEndpoint
  ),
  huaweiCecAk: Schema.optionalKey(Schema.NonEmptyString),
  huaweiCecSk: Schema.optionalKey(Schema.Redacted(Schema.NonEmptyString)),
  /**
   * The exposure audit (docs/audit.md) in PostgreSQL, e.g. postgres://precall_audit_writer@db/precall;
   * Redacted, as it may carry a password. Unset: the JSON-lines file `auditFile`.
   */
  auditDatabaseUrl: Schema.optionalKey(Schema.Redacted(
    Schema.String.check(Schema.makeFilter((s: string) => URL.canParse(s) && /^postgres(ql)?:$/.test(new URL(s).protocol) && new URL(s).hostname !== "", { expected: "a postgres:// or postgresql:// URL" }))
  )),
  /** The exposure audit's append-only JSON-lines file, when no database is configured. */
  auditFile: withDefault(Schema.NonEmptyString, defaults.auditFile),
  /** Key of the audit's number hash (HMAC), so an officer can search for a number the audit does not hold. Needed for real-number fallback. */
  auditHashSecret: Schema.optionalKey(Schema.Redacted(Schema.String.check(Schema.isMinLength(16)))),
  /** Longest a fallback-real decision waits for its audit record; past it the decision is refuse. */
  auditTimeoutMs: withDefault(between(1, 10_000), defaults.auditTimeoutMs)
})

export const Settings = SettingsFields

/** Settings held as Redacted: given as plain strings or Redacted, never printed. */
const secretFields = ["aliyunAccessKeySecret", "redisUrl", "redisKeySecret", "huaweiAppSecret", "huaweiAxAppSecret", "huaweiCecSk", "auditDatabaseUrl", "auditHashSecret"] as const
type SecretField = typeof secretFields[number]
export type Settings = typeof Settings.Type
/** Settings as a user writes them: every key optional, secrets as plain strings or Redacted. */
export type SettingsInput = Partial<Omit<typeof Settings.Encoded, SecretField>> & {
  readonly aliyunAccessKeySecret?: string | Redacted.Redacted<string>
  readonly huaweiAppSecret?: string | Redacted.Redacted<string>
  readonly huaweiAxAppSecret?: string | Redacted.Redacted<string>
  readonly huaweiCecSk?: string | Redacted.Redacted<string>
  readonly redisUrl?: string | Redacted.Redacted<string>
  readonly redisKeySecret?: string | Redacted.Redacted<string>
  readonly auditDatabaseUrl?: string | Redacted.Redacted<string>
  readonly auditHashSecret?: string | Redacted.Redacted<string>
}

/** The environment variable behind each setting. */
export const envNames: Readonly<Record<keyof Settings, string>> = {
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
}

export interface SettingIssue {
  /** The variable or field name, e.g. `PRECALL_DEADLINE_MS` or `deadlineMs`. */
  readonly setting: string
  readonly message: string
}

export class InvalidSettings extends Schema.TaggedError<InvalidSettings>()("InvalidSettings", {
  issues: Schema.Array(Schema.Struct({ setting: Schema.String, message: Schema.String }))
}) {
  override get message(): string {
    return `invalid precall settings:\n${this.issues.map((i) => `  ${i.setting}: ${i.message}`).join("\n")}`
  }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Rules between settings; each names the setting to change, in the user's own naming. */
const crossFieldIssues = (s: Settings, nameOf: (field: keyof Settings) => string): Array<SettingIssue> => {
  const issues: Array<SettingIssue> = []
  if (s.attemptTimeoutMs > s.deadlineMs) {
    issues.push({ setting: nameOf("attemptTimeoutMs"), message: `${s.attemptTimeoutMs} exceeds ${nameOf("deadlineMs")} (${s.deadlineMs})` })
  }
  if (s.degradedDecision === "fallback-real" && !s.allowRealFallback) {
    issues.push({
      setting: nameOf("degradedDecision"),
      message: `fallback-real needs ${nameOf("allowRealFallback")}=true (a real number is never dialled otherwise)`
    })
  }
  if (s.breakerMinimumCalls > s.breakerWindow) {
    issues.push({ setting: nameOf("breakerMinimumCalls"), message: `${s.breakerMinimumCalls} exceeds ${nameOf("breakerWindow")} (${s.breakerWindow}): the window never holds that many calls` })
  }
  if (s.redisUrl !== undefined && s.redisKeySecret === undefined && s.aliyunAccessKeySecret === undefined) {
    issues.push({
      setting: nameOf("redisKeySecret"),
      message: `${nameOf("redisUrl")} needs a secret the instances share, to name keys and seal values in Redis: set ${nameOf("redisKeySecret")} (or the Aliyun key pair)`
    })
  }
  if ((s.aliyunAccessKeyId === undefined) !== (s.aliyunAccessKeySecret === undefined)) {
    const missing: keyof Settings = s.aliyunAccessKeyId === undefined ? "aliyunAccessKeyId" : "aliyunAccessKeySecret"
    issues.push({ setting: nameOf(missing), message: `must be set together with ${nameOf(missing === "aliyunAccessKeyId" ? "aliyunAccessKeySecret" : "aliyunAccessKeyId")}` })
  }
  for (const [key, secret] of [["huaweiAppKey", "huaweiAppSecret"], ["huaweiAxAppKey", "huaweiAxAppSecret"], ["huaweiCecAk", "huaweiCecSk"]] as const) {
    if ((s[key] === undefined) !== (s[secret] === undefined)) {
      const missing = s[key] === undefined ? key : secret
      issues.push({ setting: nameOf(missing), message: `must be set together with ${nameOf(missing === key ? secret : key)}` })
    }
  }
  return issues
}

const decodeWith = (input: unknown, nameOf: (field: keyof Settings) => string): Effect.Effect<Settings, InvalidSettings> =>
  Schema.decodeUnknownEffect(Settings)(input, { errors: "all" }).pipe(
    Effect.mapError((e) =>
      new InvalidSettings({
        issues: formatter(e.issue).issues.map((i) => {
          // Settings are flat: the first path segment is the setting (a Redacted adds a `.value` below it).
          const field = i.path?.[0]
          return { setting: field === undefined ? "(settings)" : nameOf(String(field) as keyof Settings), message: i.message }
        })
      })
    ),
    Effect.flatMap((s) => {
      const issues = crossFieldIssues(s, nameOf)
      return issues.length === 0 ? Effect.succeed(s) : Effect.fail(new InvalidSettings({ issues }))
    })
  )

const redacted = (v: string | Redacted.Redacted<string> | undefined) => (typeof v === "string" ? Redacted.make(v) : v)

/** Decodes settings given as an object (the embedding API). Plain-string secrets are wrapped in Redacted. */
export const settingsFromObject = (input: SettingsInput): Effect.Effect<Settings, InvalidSettings> => {
  const given: Record<string, unknown> = { ...input }
  for (const field of secretFields) {
    if (given[field] !== undefined) given[field] = redacted(given[field] as string | Redacted.Redacted<string>)
  }
  return decodeWith(given, (f) => f)
}

const numeric = new Set<keyof Settings>([
  "deadlineMs", "attemptTimeoutMs", "maxAttempts", "retryBaseMs", "bindingTtlS", "statusTtlMs", "redisTimeoutMs",
  "breakerFailureRatio", "breakerMinimumCalls", "breakerWindow", "breakerOpenMs", "throttleCooldownMs",
  "xFailureThreshold", "xFailureWindowS", "temporaryBindingS", "aliyunStatusProbeS", "auditTimeoutMs"
])

/** `QueryCallStatus=200,BindAxb=5000` → a record; anything else is left as the raw string for Schema to reject. */
const parseRateLimits = (raw: string): unknown => {
  const entries = raw.split(",").map((p) => p.trim()).filter((p) => p !== "").map((p) => /^([A-Za-z]+)=(\d+)$/.exec(p))
  return entries.every((m) => m !== null) ? Object.fromEntries(entries.map((m) => [m![1], Number(m![2])])) : raw
}

/** Decodes settings from environment variables; an empty variable counts as unset. */
export const settingsFromEnv = (env: Readonly<Record<string, string | undefined>>): Effect.Effect<Settings, InvalidSettings> => {
  const input: Record<string, unknown> = {}
  for (const [field, name] of Object.entries(envNames) as Array<[keyof Settings, string]>) {
    const raw = env[name]?.trim()
    if (raw === undefined || raw === "") continue
    if (numeric.has(field)) input[field] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw
    else if (field === "allowRealFallback") input[field] = raw === "true" ? true : raw === "false" ? false : raw
    else if ((secretFields as ReadonlyArray<string>).includes(field)) input[field] = Redacted.make(raw)
    else if (field === "rateLimits") input[field] = parseRateLimits(raw)
    else if (field === "rebindProviders") input[field] = raw.split(",").map((p) => p.trim()).filter((p) => p !== "")
    else input[field] = raw
  }
  return decodeWith(input, (f) => envNames[f] ?? f)
}

/** The limit of each action in calls per second: configured values over the defaults; 0 means none. */
export const rateLimitsOf = (s: Settings): Readonly<Record<string, number>> => ({ ...defaultRateLimits, ...s.rateLimits })

/** The decision-shaping part of the settings, for the pure `decide` table. */
export const decisionPolicy = (s: Settings) => ({ allowRealFallback: s.allowRealFallback, degradedDecision: s.degradedDecision })
