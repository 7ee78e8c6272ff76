/**
 * The service's own settings (the engine's are in policy/settings.ts): where to listen, the API keys
 * and the shutdown grace period, plus the rules that keep a real provider from being exposed without
 * authentication and the demo from running by accident: the open demo on the in-process emulator
 * runs only when asked (`--demo`) and never beside production settings, and without `--demo` a
 * provider must be configured. Problems are reported all at once, named by variable or flag, as
 * InvalidSettings like the engine's; no message ever repeats a key.
 */
import { Effect, Redacted } from "effect"
import { envNames, InvalidSettings, type SettingIssue, type Settings, settingsFromEnv } from "../policy/settings.ts"
import { isLoopbackEndpoint } from "../policy/endpoint.ts"

const serviceEnvNames = { port: "PORT", apiKeys: "PRECALL_API_KEYS", adminKeys: "PRECALL_ADMIN_KEYS", shutdownGraceMs: "PRECALL_SHUTDOWN_GRACE_MS" } as const

/** Shorter bearer keys can be guessed; 24 printable characters carry well over 128 bits when random. */
export const MIN_API_KEY_LENGTH = 24

const serviceDefaults = { port: 8080, host: "127.0.0.1", shutdownGraceMs: 5000 } as const

export interface ServiceConfig {
  readonly port: number
  readonly host: string
  /** Empty only in the demo: `/v1/*` is then open. */
  readonly apiKeys: ReadonlyArray<Redacted.Redacted<string>>
  /** Keys of GET /v1/exposures only (PRECALL_ADMIN_KEYS); none of them is also an API key. */
  readonly adminKeys: ReadonlyArray<Redacted.Redacted<string>>
  readonly shutdownGraceMs: number
  /** `--demo`: run open against the embedded Aliyun emulator. */
  readonly demo: boolean
}

export interface ServiceFlags {
  readonly port?: number | undefined
  readonly host?: string | undefined
  /** `precall serve --demo`: the zero-credential demo on the in-process emulator. */
  readonly demo?: boolean | undefined
}

type Env = Readonly<Record<string, string | undefined>>

const present = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim()
  return v === undefined || v === "" ? undefined : v
}

const integer = (raw: string | undefined, fallback: number, min: number, max: number): number | string => {
  if (raw === undefined) return fallback
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : `expected an integer ${min}-${max}, got ${JSON.stringify(raw)}`
}

/** A bearer token is visible ASCII without spaces (RFC 6750 b64token is stricter still). */
const TOKEN = /^[\x21-\x7e]+$/

/** Why a real provider is configured, or undefined for the zero-credential demo. */
/** Why a provider's settings point at something real (a key, or an endpoint set), or undefined when they do not. */
const providerReason = (env: Env, keyName: string, endpointName: string): string | undefined => {
  const keyId = present(env, keyName)
  const endpoint = present(env, endpointName)
  if (keyId !== undefined) return `${keyName} is set`
  if (endpoint === undefined) return undefined
  let loopback = false
  try {
    loopback = isLoopbackEndpoint(endpoint)
  } catch {
    // an unparsable endpoint is reported by the engine settings; here it only means "not the demo"
  }
  return loopback ? `${endpointName} is set (an external emulator)` : `${endpointName} points at ${endpoint}`
}

/** Aliyun's reason, else Huawei's: either provider alone is enough for the engine. */
const realProviderReason = (env: Env): string | undefined =>
  providerReason(env, envNames.aliyunAccessKeyId, envNames.aliyunEndpoint) ?? providerReason(env, envNames.huaweiAppKey, envNames.huaweiEndpoint)

export const serviceConfigFromEnv = (env: Env, flags: ServiceFlags = {}): Effect.Effect<ServiceConfig, InvalidSettings> => {
  const issues: Array<SettingIssue> = []
  const port = flags.port ?? integer(present(env, serviceEnvNames.port), serviceDefaults.port, 0, 65535)
  if (typeof port === "string" || port < 0 || port > 65535) {
    issues.push({ setting: flags.port !== undefined ? "--port" : serviceEnvNames.port, message: typeof port === "string" ? port : `expected 0-65535, got ${port}` })
  }
  const host = flags.host?.trim() ?? serviceDefaults.host
  if (host === "") issues.push({ setting: "--host", message: "expected a host name or address, e.g. 127.0.0.1 or 0.0.0.0" })
  const grace = integer(present(env, serviceEnvNames.shutdownGraceMs), serviceDefaults.shutdownGraceMs, 0, 600_000)
  if (typeof grace === "string") issues.push({ setting: serviceEnvNames.shutdownGraceMs, message: grace })

  const keyList = (setting: string) => {
    const list = (env[setting] ?? "").split(",").map((k) => k.trim()).filter((k) => k !== "")
    list.forEach((k, i) => {
      if (!TOKEN.test(k)) issues.push({ setting, message: `key #${i + 1} has spaces or non-ASCII characters; a bearer token cannot carry them` })
      else if (k.length < MIN_API_KEY_LENGTH) {
        issues.push({ setting, message: `key #${i + 1} has ${k.length} characters; at least ${MIN_API_KEY_LENGTH} are needed so it cannot be guessed (e.g. openssl rand -hex 16)` })
      }
    })
    return list
  }
  const keys = keyList(serviceEnvNames.apiKeys)
  const adminKeys = keyList(serviceEnvNames.adminKeys)
  adminKeys.forEach((k, i) => {
    if (keys.includes(k)) {
      issues.push({ setting: serviceEnvNames.adminKeys, message: `key #${i + 1} is also in ${serviceEnvNames.apiKeys}: an admin key must not decide, nor a decision key read exposures; use another key` })
    }
  })
  const real = realProviderReason(env)
  const demo = flags.demo === true
  if (demo) {
    const production = [
      keys.length > 0 ? serviceEnvNames.apiKeys : undefined,
      adminKeys.length > 0 ? serviceEnvNames.adminKeys : undefined,
      present(env, envNames.redisUrl) !== undefined ? envNames.redisUrl : undefined,
      present(env, envNames.aliyunAccessKeyId) !== undefined ? envNames.aliyunAccessKeyId : undefined,
      present(env, envNames.huaweiAppKey) !== undefined ? envNames.huaweiAppKey : undefined,
      ...([[envNames.aliyunAccessKeyId, envNames.aliyunEndpoint], [envNames.huaweiAppKey, envNames.huaweiEndpoint]] as const).map(([key, endpoint]) =>
        providerReason(env, key, endpoint) !== undefined && present(env, key) === undefined && !isLoopbackEndpoint(present(env, endpoint) ?? "")
          ? endpoint
          : undefined
      )
    ].filter((name) => name !== undefined)
    if (production.length > 0) {
      issues.push({
        setting: "--demo",
        message: `refusing to run the open demo beside production settings (${production.join(", ")} set): the demo answers anyone and uses the built-in emulator. Unset them, or drop --demo`
      })
    }
  } else if (real === undefined) {
    issues.push({
      setting: envNames.aliyunAccessKeyId,
      message: `no provider configured: set ${envNames.aliyunAccessKeyId} and ${envNames.aliyunAccessKeySecret} (or ${envNames.aliyunEndpoint} for an emulator), or ${envNames.huaweiAppKey} and ${envNames.huaweiAppSecret} (or ${envNames.huaweiEndpoint}), or run \`precall serve --demo\` for the zero-credential demo`
    })
  } else if (keys.length === 0) {
    issues.push({
      setting: serviceEnvNames.apiKeys,
      message: `refusing to start without API keys: ${real}, so /v1/decisions would query a real provider for anyone who can reach the port. ` +
        `Set ${serviceEnvNames.apiKeys}=<key>[,<key>...]; only the zero-credential demo (\`precall serve --demo\`) runs open.`
    })
  }
  if (issues.length > 0 || typeof port === "string" || typeof grace === "string") return Effect.fail(new InvalidSettings({ issues }))
  return Effect.succeed({ port, host, apiKeys: keys.map((k) => Redacted.make(k)), adminKeys: adminKeys.map((k) => Redacted.make(k)), shutdownGraceMs: grace, demo })
}

/** The engine's settings and the service's, with the problems of both reported together. */
export const loadSettings = (env: Env, flags: ServiceFlags = {}): Effect.Effect<{ readonly settings: Settings; readonly config: ServiceConfig }, InvalidSettings> =>
  Effect.gen(function*() {
    const settings = yield* Effect.result(settingsFromEnv(env))
    const config = yield* Effect.result(serviceConfigFromEnv(env, flags))
    if (settings._tag === "Success" && config._tag === "Success") return { settings: settings.success, config: config.success }
    const issues = [settings, config].flatMap((r) => (r._tag === "Failure" ? r.failure.issues : []))
    return yield* new InvalidSettings({ issues })
  })
