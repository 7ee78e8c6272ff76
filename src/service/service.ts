/**
 * `precall serve` as an Effect: settings → (demo emulator) → engine → HTTP server, until interrupted.
 * Interruption closes the scope in reverse order: the server drains first, then the engine and the
 * emulator go away.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, Redacted } from "effect"
import { HttpServer, type HttpServerError } from "effect/http"
import type { AuditStoreError } from "../audit/ExposureStore.ts"
import type { InvalidSettings } from "../policy/settings.ts"
import { PrecallLive } from "../precall.ts"
import { loadSettings, type ServiceConfig, type ServiceFlags } from "./config.ts"
import { telemetryLayer } from "../telemetry/otlp.ts"
import { controlCurlLine, curlLine, DEMO_EXPOSED_NUMBER, type DemoCase, demoSettings, exposuresCurlLine, type HuaweiDemo, seedHuaweiDemo, startDemo } from "./demo.ts"
import { describeUrl } from "../audit/pgStore.ts"
import { makeNumberHasher } from "../audit/record.ts"
import type { RequestTracker } from "./middleware.ts"
import { readinessLayer } from "./readiness.ts"
import { HUAWEI_EVENTS_PATH, huaweiPushOptions } from "./pushes.ts"
import { serverLayer } from "./server.ts"

/** A URL a client on this machine can use, also when listening on every interface. */
const localUrl = (address: Parameters<typeof HttpServer.formatAddress>[0]): string =>
  HttpServer.formatAddress(address).replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")

const banner = (url: string, config: ServiceConfig, provider: string, cases: ReadonlyArray<DemoCase>, huawei: HuaweiDemo | undefined, audit: string): string => {
  const keys = config.apiKeys.length > 0
  const auth = keys
    ? `API keys required on /v1/* (${config.apiKeys.length} configured)`
    : "OPEN: no API keys, /v1/* answers anyone (allowed for the emulator demo only)"
  const lines = [`precall listening on ${url}; ${auth}`, `provider: ${provider}`]
  if (cases.length > 0) {
    lines.push("demo bindings (paste any line):")
    for (const c of cases) lines.push(`  # ${c.label}`, `  ${curlLine(url, c.request, keys)}`)
  }
  if (huawei !== undefined) {
    for (const c of huawei.cases) lines.push(`  # ${c.label}`, `  ${curlLine(url, c.request, keys)}`)
    if (huawei.push === undefined) lines.push("  # (no Huawei push cases: the emulator pushes to loopback URLs only, and this service listens on none)")
    else {
      const decide = curlLine(url, huawei.push.request, keys)
      lines.push(`  # ${huawei.push.label}`, `  ${decide}`, `  ${controlCurlLine(huawei.push)}`, `  ${decide}`)
    }
  }
  if (cases.length > 0) {
    lines.push(`the exposure audit (${audit}), searched by the number exposed:`, `  ${exposuresCurlLine(url, `number=${DEMO_EXPOSED_NUMBER}`, keys)}`)
  }
  return `${lines.join("\n")}\n`
}

export const runService = (
  env: Readonly<Record<string, string | undefined>>,
  flags: ServiceFlags,
  tracker: RequestTracker
): Effect.Effect<never, InvalidSettings | AuditStoreError | HttpServerError.ServeError> =>
  Effect.scoped(Effect.gen(function*() {
    const { config, settings: configured } = yield* loadSettings(env, flags)
    const demo = config.demo ? yield* startDemo : undefined
    const settings = demo === undefined ? configured : yield* demoSettings(configured, env, demo)
    const numberHasher = settings.auditHashSecret === undefined ? undefined : makeNumberHasher(settings.auditHashSecret)
    const app = serverLayer({ ...config, tracker, huaweiPushes: huaweiPushOptions(settings), numberHasher }).pipe(
      Layer.provide(readinessLayer(settings).pipe(Layer.provideMerge(PrecallLive(settings)), Layer.provideMerge(telemetryLayer(env)))),
      Layer.provide(NodeHttpClient.layerUndici)
    )
    const server = Context.get(yield* Layer.build(app), HttpServer.HttpServer)
    const url = localUrl(server.address)
    // the Huawei emulator pushes to this service, so its bindings are seeded once the service listens
    const huawei = demo === undefined ? undefined : yield* seedHuaweiDemo(demo.huawei, url)
    const provider = demo === undefined
      ? settings.aliyunEndpoint
      : `Aliyun emulator in-process at ${settings.aliyunEndpoint} (the default); Huawei emulator in-process at ${settings.huaweiEndpoint} (provider "huawei", control API ${settings.huaweiEndpoint}/_emulator${huawei?.push === undefined ? "" : `, pushing to ${url}${HUAWEI_EVENTS_PATH}`})`
    yield* Effect.logInfo({ msg: "listening", url, auth: config.apiKeys.length > 0 ? "api-keys" : "open", provider, demo: demo !== undefined })
    if (config.apiKeys.length === 0) yield* Effect.logWarning({ msg: "no API keys: /v1/* is open (emulator demo only)" })
    const audit = settings.auditDatabaseUrl !== undefined ? describeUrl(Redacted.value(settings.auditDatabaseUrl)) : settings.auditFile
    yield* Effect.logInfo({ msg: "exposure audit", store: settings.auditDatabaseUrl !== undefined ? "postgres" : "file", where: audit, adminKeys: config.adminKeys.length })
    yield* Effect.sync(() => process.stderr.write(banner(url, config, provider, demo?.cases ?? [], huawei, audit)))
    return yield* Effect.never
  }))
