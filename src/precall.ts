/**
 * precall assembled: settings → provider adapter → engine, for Effect programs (`PrecallLive`,
 * `decide`) and for everyone else (`createPrecall`, promises only).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, ManagedRuntime, Result, Schema, type SchemaAST, SchemaIssue } from "effect"
import type { HttpClient } from "effect/http"
import type { Decision } from "./domain/decision.ts"
import { DecideRequest, type DecideRequestInput } from "./domain/request.ts"
import { cacheLayer } from "./cache/cacheLayer.ts"
import type { ProviderBreakers } from "./breaker/ProviderBreakers.ts"
import { telemetryLayer } from "./telemetry/otlp.ts"
import { Engine, engineLayer } from "./engine/Engine.ts"
import { guardLayer } from "./engine/guard.ts"
import { alternativeEngineLayer } from "./alternative/layer.ts"
import { InvalidSettings, type Settings, settingsFromEnv, settingsFromObject, type SettingsInput } from "./policy/settings.ts"
import { resolveCredentials } from "./providers/aliyun/credentials.ts"
import { makeAliyunProvider } from "./providers/aliyun/provider.ts"
import { makeCecCallState } from "./providers/huawei/cec.ts"
import { resolveCecCredentials, resolveHuaweiApps } from "./providers/huawei/credentials.ts"
import { makeHuaweiProvider } from "./providers/huawei/provider.ts"
import { undiciTransportLayer } from "./providers/aliyun/transport.ts"
import { MoreProviders, PrivacyNumberProvider, type ProviderShape } from "./providers/Provider.ts"
import { type SharedRedis, sharedRedisLayer } from "./redis/SharedRedis.ts"
import type { EvidenceStore } from "./evidence/EvidenceStore.ts"
import { evidenceLayer } from "./evidence/layer.ts"
import { CallStateSource, type OutcomeReceipt, type OutcomeReportInput, Outcomes } from "./evidence/outcomes.ts"
import { auditedEngineLayer } from "./audit/audited.ts"
import { AuditStoreError, type ExposureStore } from "./audit/ExposureStore.ts"
import { exposureStoreLayer } from "./audit/layer.ts"

/** A decide request that does not decode; `issues` lists every problem with its path. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {
  override get message(): string {
    return `invalid decide request: ${this.issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")}`
  }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The issues of a SchemaError as `{ path: "binding.phoneNoA", message }` pairs. */
export const schemaIssues = (issue: SchemaIssue.Issue) =>
  formatter(issue).issues.map((i) => ({ path: (i.path ?? []).map(String).join("."), message: i.message }))

/**
 * A decoder that answers as `decode` under `options` does, for less. Schema parses a struct without a
 * generator per value only under its default options (about half the cost); `errors: "all"` and
 * `onExcessProperty` take its general path. So the input is decoded under the defaults first, and
 * that answer stands when `stands(input, value)` says the defaults dropped nothing `options` would
 * refuse; anything else is decoded again under `options`, which give the verdict and every issue.
 * Whether an input decodes does not depend on `errors`, only how many of its issues are reported.
 */
export const decodeDefaultsFirst = <A>(
  decode: (input: unknown, options?: SchemaAST.ParseOptions) => Result.Result<A, Schema.SchemaError>,
  options: SchemaAST.ParseOptions,
  stands: (input: unknown, value: A) => boolean = () => true
) =>
(input: unknown): Result.Result<A, Schema.SchemaError> => {
  const decoded = decode(input)
  return Result.isSuccess(decoded) && stands(input, decoded.success) ? decoded : decode(input, options)
}

const decodeRequestResult = decodeDefaultsFirst(Schema.decodeUnknownResult(DecideRequest), { errors: "all" })
/** `decodeRequest` without running an effect: the Promise API decodes before it enters the runtime. */
const decodeRequestNow = (input: unknown): Result.Result<DecideRequest, InvalidRequest> =>
  Result.mapError(decodeRequestResult(input), (e) => new InvalidRequest({ issues: schemaIssues(e.issue) }))

export const decodeRequest = (input: unknown): Effect.Effect<DecideRequest, InvalidRequest> =>
  Effect.suspend(() => {
    const decoded = decodeRequestNow(input)
    return Result.isSuccess(decoded) ? Effect.succeed(decoded.success) : Effect.fail(decoded.failure)
  })


/** The services the composed precall layers provide. */
export type PrecallServices = Engine | ProviderBreakers | SharedRedis | EvidenceStore | Outcomes | ExposureStore

/**
 * The providers the settings configure, the default one first: Aliyun when it has a key pair (or a
 * loopback emulator endpoint), then Huawei when it has an AXB app key (or a loopback endpoint). Each
 * is its own name and endpoint, so limits, breakers and metrics are its own; `make` builds its
 * adapter over the HttpClient in context (undici).
 */
const providerChoices = (settings: Settings) => {
  const aliyun = resolveCredentials(settings.aliyunEndpoint, settings.aliyunAccessKeyId, settings.aliyunAccessKeySecret)
  const huawei = resolveHuaweiApps(settings)
  return [
    ...(aliyun === undefined ? [] : [{
      name: "aliyun" as const, endpoint: settings.aliyunEndpoint,
      make: () => makeAliyunProvider({
        endpoint: settings.aliyunEndpoint.replace(/\/$/, ""), signature: settings.aliyunSignature, credentials: aliyun,
        statusSource: settings.aliyunStatusSource, statusProbeMs: settings.aliyunStatusProbeS * 1000, rebindPoolKey: settings.aliyunPoolKey
      })
    }]),
    ...(huawei === undefined ? [] : [{
      name: "huawei" as const, endpoint: settings.huaweiEndpoint,
      make: () => makeHuaweiProvider({ endpoint: settings.huaweiEndpoint.replace(/\/$/, ""), ...huawei, areaCode: settings.huaweiAreaCode })
    }])
  ]
}

/** The configured providers' names and endpoints, the default one first (what /readyz probes and describes). */
export const configuredProviderEndpoints = (settings: Settings): ReadonlyArray<{ readonly name: "aliyun" | "huawei"; readonly endpoint: string }> =>
  providerChoices(settings).map(({ endpoint, name }) => ({ name, endpoint }))

/** Every provider the settings configure, built over undici; none is an InvalidSettings. */
const configuredProviders = (settings: Settings): Effect.Effect<ReadonlyArray<Effect.Effect<ProviderShape, never, HttpClient.HttpClient>>, InvalidSettings> => {
  const providers: ReadonlyArray<Effect.Effect<ProviderShape, never, HttpClient.HttpClient>> = providerChoices(settings).map((p) => p.make())
  return providers.length > 0 ? Effect.succeed(providers) : Effect.fail(new InvalidSettings({
    issues: [{
      setting: "ALIBABA_CLOUD_ACCESS_KEY_ID",
      message: `no provider configured: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET for Aliyun (${settings.aliyunEndpoint}), or PRECALL_HUAWEI_APP_KEY and PRECALL_HUAWEI_APP_SECRET for Huawei (${settings.huaweiEndpoint}); only a loopback emulator endpoint runs without them`
    }]
  }))
}

/**
 * The call-state source for outcomes reported by serial number: Huawei CEC when it has an AK/SK (or
 * a loopback endpoint, with the emulator's demo pair); nothing otherwise.
 */
export const callStateLayer = (settings: Settings): Layer.Layer<never> => {
  const credentials = resolveCecCredentials(settings)
  return credentials === undefined
    ? Layer.empty
    : Layer.effect(CallStateSource, makeCecCallState({ endpoint: settings.huaweiCecEndpoint.replace(/\/$/, ""), ...credentials })).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    )
}

/**
 * The provider adapters chosen by the settings, over undici: the first is the default provider
 * (requests that name none), the others are reachable by name. PRECALL_REBIND_PROVIDERS must name
 * configured ones.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const providers = providerLayer(settings) // Layer<PrivacyNumberProvider, InvalidSettings>
 * ```
 */
export const providerLayer = (settings: Settings): Layer.Layer<PrivacyNumberProvider, InvalidSettings> =>
  Layer.effectContext(Effect.gen(function*() {
    const built = yield* Effect.all(yield* configuredProviders(settings))
    const names = new Set(built.map((p) => p.name))
    const unknown = settings.rebindProviders.filter((n) => !names.has(n))
    if (unknown.length > 0) {
      return yield* new InvalidSettings({
        issues: [{ setting: "PRECALL_REBIND_PROVIDERS", message: `${unknown.join(", ")} not configured (configured: ${[...names].join(", ")})` }]
      })
    }
    return Context.make(PrivacyNumberProvider, built[0]!).pipe(Context.add(MoreProviders, built.slice(1)))
  })).pipe(
    // Provider calls go straight to undici (providers/aliyun/transport.ts says why); the HttpClient
    // stays in context for adapters that use one, on the same Agent.
    Layer.provide(Layer.merge(undiciTransportLayer, NodeHttpClient.layerUndiciNoDispatcher)),
    Layer.provide(NodeHttpClient.layerDispatcher)
  )

/**
 * The engine over the configured provider, with everything around it: the layer an Effect program
 * provides to call `decide`.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const settings = yield* settingsFromObject({ aliyunEndpoint: emulator.url })
 * const d = yield* decide({ poolKey, subsId, phoneNoX }).pipe(Effect.provide(PrecallLive(settings)))
 * ```
 */
export const PrecallLive = (settings: Settings): Layer.Layer<PrecallServices, InvalidSettings | AuditStoreError> =>
  PrecallWith(settings, providerLayer(settings))

/**
 * The engine with everything around it (status cache, coalescing, rate limits, circuit breakers,
 * shared Redis, the exposure audit) over a provider of your own: the composition PrecallLive uses
 * for Aliyun. `exposures` is where fallback-real decisions are recorded (docs/audit.md); by default
 * the store the settings name (PostgreSQL or the JSON-lines file). Fails at start with
 * InvalidSettings when real-number fallback is allowed without PRECALL_AUDIT_HASH_SECRET, and with
 * AuditStoreError when the audit's database cannot be reached or migrated.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const Live = PrecallWith(settings, Layer.succeed(PrivacyNumberProvider, myProvider))
 * const InTests = PrecallWith(settings, Layer.succeed(PrivacyNumberProvider, myProvider), memoryStoreLayer())
 * ```
 */
export const PrecallWith = <E>(
  settings: Settings,
  provider: Layer.Layer<PrivacyNumberProvider, E>,
  exposures: Layer.Layer<ExposureStore, AuditStoreError> = exposureStoreLayer(settings)
): Layer.Layer<PrecallServices, E | InvalidSettings | AuditStoreError> => {
  const core = engineLayer(settings).pipe(
    Layer.provide(provider),
    // status cache and coalescing, shared through Redis when PRECALL_REDIS_URL is set
    Layer.provide(cacheLayer(settings)),
    // shared rate limits and per-endpoint circuit breakers around every provider attempt
    Layer.provideMerge(guardLayer(settings)),
    // X status from pushes, the binding cache and X health from call outcomes: one store per process;
    // outcomes reported by serial number are looked up at the call-state source (Huawei CEC) when one is configured
    Layer.provideMerge(evidenceLayer(settings).pipe(Layer.provide(callStateLayer(settings)))),
    Layer.provideMerge(sharedRedisLayer(settings))
  )
  // The exposure audit wraps the engine from outside, so it sees the final decision (src/audit/audited.ts);
  // merged last, its Engine is the one provided.
  const audited = Layer.merge(core, auditedEngineLayer(settings).pipe(Layer.provide(core))).pipe(Layer.provideMerge(exposures))
  // Refusals carry a WhatsApp sender when ChatApp is configured (src/alternative). It wraps the audited
  // engine, so a fallback-real the audit had to refuse gets one too; merged last, its Engine is the one
  // provided. Its sender list calls cams through the core's guard (the shared rate limit).
  return Layer.merge(audited, alternativeEngineLayer(settings).pipe(Layer.provide(audited)))
}

/**
 * PrecallLive with the settings read from the environment (PRECALL_*, ALIBABA_CLOUD_*).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * Effect.runPromise(decide(request).pipe(Effect.provide(PrecallFromEnv)))
 * ```
 */
export const PrecallFromEnv: Layer.Layer<PrecallServices, InvalidSettings | AuditStoreError> = Layer.unwrap(
  Effect.map(Effect.suspend(() => settingsFromEnv(process.env)), PrecallLive)
)

/**
 * Decodes a request and decides. Fails only on a bad request; provider trouble is a degraded decision.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const d = yield* decide({ poolKey: "FC100000000001", subsId, phoneNoX, callerNo })
 * if (d.decision === "rebind") console.log(d.dial, d.previousSubsId)
 * ```
 */
export const decide = (input: DecideRequestInput | unknown): Effect.Effect<Decision, InvalidRequest, Engine> =>
  Effect.flatMap(decodeRequest(input), (request) => Effect.flatMap(Engine, (engine) => engine.decide(request)))

/** A rejected promise from the Promise API: `code` says which kind, `issues` says what exactly. */
export class PrecallError extends Error {
  readonly code: "INVALID_SETTINGS" | "INVALID_REQUEST" | "CLOSED" | "AUDIT_UNAVAILABLE"
  readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>
  constructor(code: PrecallError["code"], message: string, issues: PrecallError["issues"] = []) {
    super(message)
    this.name = "PrecallError"
    this.code = code
    this.issues = issues
  }
}

export interface Precall {
  /** Resolves with a decision for every valid request, within the deadline; rejects only on bad input. */
  readonly decide: (request: DecideRequestInput) => Promise<Decision>
  /** Records how a decided call ended (docs/outcomes.md); rejects with code INVALID_REQUEST on a bad report. */
  readonly reportOutcome: (report: OutcomeReportInput) => Promise<OutcomeReceipt>
  /** Lets decisions in flight finish, then closes connections; further `decide` calls reject with code CLOSED. */
  readonly close: () => Promise<void>
}

/**
 * precall for code that does not use Effect. Settings are validated here: a bad one rejects with
 * `PrecallError` code INVALID_SETTINGS listing every problem. With OTEL_EXPORTER_OTLP_ENDPOINT set,
 * decisions are traced over OTLP (docs/operations.md).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const precall = await createPrecall({ aliyunEndpoint, aliyunAccessKeyId, aliyunAccessKeySecret })
 * const d = await precall.decide({ poolKey, subsId, phoneNoX, callerNo })
 * await precall.close()
 * ```
 */
export const createPrecall = async (config: SettingsInput = {}): Promise<Precall> => {
  const settings = await Effect.runPromise(Effect.result(settingsFromObject(config)))
  if (settings._tag === "Failure") {
    throw new PrecallError("INVALID_SETTINGS", settings.failure.message,
      settings.failure.issues.map((i) => ({ path: i.setting, message: i.message })))
  }
  const providers = await Effect.runPromise(Effect.result(configuredProviders(settings.success)))
  if (providers._tag === "Failure") {
    throw new PrecallError("INVALID_SETTINGS", providers.failure.message,
      providers.failure.issues.map((i) => ({ path: i.setting, message: i.message })))
  }
  // OpenTelemetry export when OTEL_EXPORTER_OTLP_ENDPOINT is set (src/telemetry/otlp.ts); flushed on close().
  const runtime = ManagedRuntime.make(PrecallLive(settings.success).pipe(Layer.provideMerge(telemetryLayer(process.env))))
  // the layers fail at start without the audit's hash secret (InvalidSettings) or its store (AuditStoreError)
  const engine = await runtime.runPromise(Effect.service(Engine)).catch(async (e: unknown) => {
    await runtime.dispose()
    if (e instanceof InvalidSettings) {
      throw new PrecallError("INVALID_SETTINGS", e.message, e.issues.map((i) => ({ path: i.setting, message: i.message })))
    }
    if (e instanceof AuditStoreError) throw new PrecallError("AUDIT_UNAVAILABLE", `exposure audit unavailable (${e.store} ${e.reason}): ${e.message}`)
    throw e
  })
  const outcomes = await runtime.runPromise(Effect.service(Outcomes))
  // Decisions run on the built context directly: the runtime's own bookkeeping of every fiber it
  // starts (a scope entry per run, for dispose to interrupt) is not needed, since close() lets
  // every decision finish (each ends within its deadline) before it disposes.
  const runDecision = Effect.runPromiseWith(await runtime.context())
  let closed = false
  // Decisions in flight: close() lets them finish (each within its deadline) before it disposes.
  // A count and one promise for close() to wait on, rather than a Set entry and an awaiting async
  // frame per decision.
  let inFlight = 0
  let drained: PromiseWithResolvers<void> | undefined
  const ended = () => {
    if (--inFlight === 0) drained?.resolve()
  }
  return {
    decide: (request) => {
      if (closed) return Promise.reject(new PrecallError("CLOSED", "precall is closed"))
      let decoded: Result.Result<DecideRequest, InvalidRequest>
      try {
        decoded = decodeRequestNow(request)
      } catch (defect) {
        // an input whose getters throw: rejected as the async function this was would reject
        return Promise.reject(defect)
      }
      if (decoded._tag === "Failure") return Promise.reject(new PrecallError("INVALID_REQUEST", decoded.failure.message, decoded.failure.issues))
      inFlight++
      return runDecision(engine.decide(decoded.success)).then((decision) => {
        ended()
        return decision
      }, (defect: unknown) => {
        ended()
        throw defect
      })
    },
    reportOutcome: async (report) => {
      if (closed) throw new PrecallError("CLOSED", "precall is closed")
      const receipt = await runtime.runPromise(Effect.result(outcomes.report(report)))
      if (receipt._tag === "Failure") throw new PrecallError("INVALID_REQUEST", receipt.failure.message, receipt.failure.issues)
      return receipt.success
    },
    close: async () => {
      closed = true
      if (inFlight > 0) await (drained ??= Promise.withResolvers<void>()).promise
      await runtime.dispose()
    }
  }
}
