/**
 * Everything the benchmark puts load on, by name; each one asks the emulator QueryCallStatus about
 * the binding it is given (worker i asks about binding i). Scenario (a) compares three:
 * - floor: a bare undici request, signed V3 exactly as precall signs (src/providers/aliyun/signature.ts), no policy;
 * - pop-core: Aliyun's own RPC client (v1 signature, form body, node:http keep-alive agent);
 * - precall: `createPrecall().decide()`, the Promise API: decode, engine, retry/timeout/deadline, signed RPC;
 * - precall-production: the same with production settings switched on and idle (bench/live.ts).
 * The breakdown (where precall's cost goes) adds the rungs between floor and precall:
 * - effect-http: the floor's signed request through effect's HttpClient over undici (NodeHttpClient.layerUndici);
 * - rpc: src/providers/aliyun/client.ts makeAliyunRpc (its own signing, HttpClient, interpretReply);
 * - provider: src/providers/aliyun/provider.ts (+ Dypls reply Schema decode, status mapping);
 * - engine-core, engine, engine-untraced: src/engine/Engine.ts engine.decide on a decoded request (+ deadline,
 *   timeout, retry, metrics; then the guard and sharing layers; then the same without HttpClient spans).
 */
import RPCClient from "@alicloud/pop-core"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { Agent, request } from "undici"
import {
  createPrecall, DecideRequest, type DecideRequestInput, Engine, engineLayer, PrecallLive, providerLayer, settingsFromObject, type SettingsInput
} from "../src/index.ts"
import { makeAliyunRpc } from "../src/providers/aliyun/client.ts"
import { DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET } from "../src/providers/aliyun/credentials.ts"
import { DYPLS_VERSION } from "../src/providers/aliyun/dypls.ts"
import { makeAliyunProvider } from "../src/providers/aliyun/provider.ts"
import { idleCaller, LIVE_SETTINGS, PRODUCTION_IDLE_SETTINGS } from "./live.ts"
import { signedQueryCallStatus } from "./signed.ts"

export interface Target {
  readonly poolKey: string
  readonly subsId: string
  readonly phoneNoX: string
  readonly callerNo: string
}

export interface Contender {
  readonly name: string
  /**
   * One QueryCallStatus (or one decision) for the target. Resolves with a label of the outcome
   * (precall: `decision/source`), or rejects on anything but a status-1 answer (strict mode).
   */
  readonly call: (target: Target) => Promise<string | undefined>
  readonly close: () => Promise<void>
}

const credentials = { accessKeyId: DEMO_ACCESS_KEY_ID, accessKeySecret: Redacted.make(DEMO_ACCESS_KEY_SECRET) }

const checkStatus1 = (body: unknown): undefined => {
  const status = (body as { SecretCallStatusDTO?: { Status?: unknown } } | undefined)?.SecretCallStatusDTO?.Status
  if (status !== 1) throw new Error(`not a status-1 answer: ${JSON.stringify(body).slice(0, 200)}`)
  return undefined
}

export const floorContender = (endpoint: string): Contender => {
  const agent = new Agent()
  const host = new URL(endpoint).host
  return {
    name: "floor (undici + V3)",
    call: async (t) => {
      const { url, headers } = signedQueryCallStatus(endpoint, host, t)
      const res = await request(url, { method: "POST", headers, dispatcher: agent, signal: AbortSignal.timeout(5000) })
      return checkStatus1(JSON.parse(await res.body.text()))
    },
    close: () => agent.close()
  }
}

export const popCoreContender = (endpoint: string): Contender => {
  const client = new RPCClient({ accessKeyId: DEMO_ACCESS_KEY_ID, accessKeySecret: DEMO_ACCESS_KEY_SECRET, endpoint, apiVersion: "2017-05-25" })
  return {
    name: "pop-core",
    call: async (t) => {
      const body = await client.request<{ SecretCallStatusDTO?: { Status?: number } }>(
        "QueryCallStatus",
        { PoolKey: t.poolKey, SubsId: t.subsId, CallNo: t.callerNo },
        { method: "POST", timeout: 5000 }
      )
      return checkStatus1(body)
    },
    close: async () => undefined
  }
}


/** `strict`: only a `use-x` from the provider counts as a success (no faults expected). */
export const precallContender = async (endpoint: string, strict: boolean, settings: SettingsInput = {}): Promise<Contender> => {
  const precall = await createPrecall({ ...LIVE_SETTINGS, ...settings, aliyunEndpoint: endpoint })
  return {
    name: "precall",
    call: async (t) => {
      const input: DecideRequestInput = { poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: t.callerNo }
      const d = await precall.decide(input)
      if (strict && (d.decision !== "use-x" || d.source !== "provider")) throw new Error(`precall: ${d.decision}/${d.source} ${d.reason}`)
      return `${d.decision}/${d.source}`
    },
    close: () => precall.close()
  }
}

/**
 * precall with production settings on and idle (bench/live.ts PRODUCTION_IDLE_SETTINGS): each call
 * asks with the next caller number of its own cycle, so the status cache looks up and stores every
 * answer and never hits; a hit would not be a live decision and fails the run (strict).
 */
const precallProductionContender = async (endpoint: string): Promise<Contender> => {
  const precall = await createPrecall({ ...PRODUCTION_IDLE_SETTINGS, aliyunEndpoint: endpoint })
  let calls = 0
  return {
    name: "precall (production, idle)",
    call: async (t) => {
      const d = await precall.decide({ poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: idleCaller(calls++) })
      if (d.decision !== "use-x" || d.source !== "provider") throw new Error(`precall (production): ${d.decision}/${d.source} ${d.reason}`)
      return undefined
    },
    close: () => precall.close()
  }
}

const effectHttpContender = (endpoint: string): Contender => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const host = new URL(endpoint).host
  return {
    name: "effect HttpClient",
    call: (t) =>
      runtime.runPromise(Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const { url, headers } = signedQueryCallStatus(endpoint, host, t)
        const res = yield* client.execute(HttpClientRequest.post(url).pipe(HttpClientRequest.setHeaders(headers)))
        return checkStatus1(JSON.parse(yield* res.text))
      })),
    close: () => runtime.dispose()
  }
}

const rpcContender = async (endpoint: string): Promise<Contender> => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const rpc = await runtime.runPromise(makeAliyunRpc({ endpoint, signature: "v3", credentials, version: DYPLS_VERSION }))
  return {
    name: "aliyun rpc (client.ts)",
    call: async (t) => checkStatus1(await runtime.runPromise(rpc("QueryCallStatus", { PoolKey: t.poolKey, SubsId: t.subsId, CallNo: t.callerNo }))),
    close: () => runtime.dispose()
  }
}

const providerContender = async (endpoint: string): Promise<Contender> => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const p = await runtime.runPromise(makeAliyunProvider({ endpoint, signature: "v3", credentials }))
  return {
    name: "provider adapter",
    call: async (t) => {
      const a = await runtime.runPromise(p.queryCallStatus({ poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: t.callerNo }))
      if (a.status !== 1) throw new Error(`status ${a.status}`)
      return undefined
    },
    close: () => runtime.dispose()
  }
}

/**
 * engine.decide on a decoded request, through ManagedRuntime.runPromise. `layers`:
 * - "core": engineLayer + providerLayer only (the guard and sharing hooks keep their pass-through defaults);
 * - "live": PrecallLive (+ rate limits/circuit breaker guard, status cache/coalescing), as createPrecall builds it;
 * - "untraced": PrecallLive with effect's HttpClient spans switched off (HttpClient.TracerDisabledWhen), a what-if.
 */
const engineContender = async (endpoint: string, layers: "core" | "live" | "untraced"): Promise<Contender> => {
  const settings = await Effect.runPromise(settingsFromObject({ ...LIVE_SETTINGS, aliyunEndpoint: endpoint }))
  const layer = layers === "core"
    ? engineLayer(settings).pipe(Layer.provide(providerLayer(settings)))
    : layers === "live"
    ? PrecallLive(settings)
    : Layer.merge(PrecallLive(settings), Layer.succeed(HttpClient.TracerDisabledWhen)(() => true))
  const runtime = ManagedRuntime.make(layer)
  const engine = await runtime.runPromise(Effect.service(Engine))
  const decode = Schema.decodeUnknownSync(DecideRequest)
  const requests = new Map<string, DecideRequest>()
  return {
    name: `engine.decide (${layers})`,
    call: async (t) => {
      let request = requests.get(t.subsId)
      if (request === undefined) requests.set(t.subsId, request = decode({ poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: t.callerNo }))
      const d = await runtime.runPromise(engine.decide(request))
      if (d.decision !== "use-x" || d.source !== "provider") throw new Error(`${d.decision}/${d.source}`)
      return undefined
    },
    close: () => runtime.dispose()
  }
}

export const CONTENDERS = ["floor", "pop-core", "precall", "precall-production", "effect-http", "rpc", "provider", "engine-core", "engine", "engine-untraced"] as const
export type ContenderName = (typeof CONTENDERS)[number]

export const makeContender = (name: ContenderName, endpoint: string, options: { strict: boolean; settings?: SettingsInput }): Contender | Promise<Contender> => {
  switch (name) {
    case "floor": return floorContender(endpoint)
    case "pop-core": return popCoreContender(endpoint)
    case "precall": return precallContender(endpoint, options.strict, options.settings)
    case "precall-production": return precallProductionContender(endpoint)
    case "effect-http": return effectHttpContender(endpoint)
    case "rpc": return rpcContender(endpoint)
    case "provider": return providerContender(endpoint)
    case "engine-core": return engineContender(endpoint, "core")
    case "engine": return engineContender(endpoint, "live")
    case "engine-untraced": return engineContender(endpoint, "untraced")
  }
}
