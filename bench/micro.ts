/**
 * Where precall's CPU goes, piece by piece, without the network: each piece runs sequentially on
 * stubs (a canned HTTP reply, a provider that answers status 1 at once) so that only its own CPU is
 * counted. Complements the breakdown in scenario (a), whose rungs include the real I/O.
 *
 *   node bench/micro.ts            # prints a table; `npm run bench` runs it with the breakdown
 */
import { Effect, Layer, ManagedRuntime, Metric, Redacted, Schema } from "effect"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import { randomUUID } from "node:crypto"
import { cacheLayer } from "../src/cache/cacheLayer.ts"
import { DecisionSharing, sharingKeys } from "../src/engine/DecisionSharing.ts"
import { guardLayer } from "../src/engine/guard.ts"
import { recordAttempt, recordDecision } from "../src/engine/metrics.ts"
import { DecideRequest, type Decision, decodeRequest, Engine, engineLayer, PrivacyNumberProvider, settingsFromObject } from "../src/index.ts"
import { makeAliyunRpc } from "../src/providers/aliyun/client.ts"
import { DYPLS_VERSION } from "../src/providers/aliyun/dypls.ts"
import { makeAliyunProvider } from "../src/providers/aliyun/provider.ts"
import { aliyunTimestamp, authorizationV3, percentEncode, sha256Hex } from "../src/providers/aliyun/signature.ts"
import { sharedRedisLayer } from "../src/redis/SharedRedis.ts"
import type { MicroRow } from "./jobs.ts"
import { LIVE_SETTINGS, STATUS_ONE_REPLY as REPLY, STUB_ENDPOINT as ENDPOINT } from "./live.ts"

const INPUT = { poolKey: "FC100000000001", subsId: "1000000000000001", phoneNoX: "17000000000", callerNo: "13800001000" }

/** CPU µs per call of `fn`, run `n` times in a row, once per round. */
const measure = async (piece: string, n: number, rounds: number, fn: () => unknown): Promise<MicroRow> => {
  for (let i = 0; i < Math.min(n, 2000); i++) await fn() // warm-up
  const perRound: Array<number> = []
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < n; i++) await fn()
    const cpu = process.cpuUsage(cpu0)
    perRound.push((cpu.user + cpu.system) / n)
  }
  return { piece, microsPerOp: Math.min(...perRound), microsPerRound: perRound }
}

/** An HttpClient whose transport answers the canned QueryCallStatus reply at once. */
const stubClient = Layer.succeed(HttpClient.HttpClient)(HttpClient.make((request) =>
  Effect.succeed(HttpClientResponse.fromWeb(request, new Response(REPLY, { status: 200, headers: { "content-type": "application/json" } })))))
const untraced = Layer.succeed(HttpClient.TracerDisabledWhen)(() => true)

const stubProvider = Layer.succeed(PrivacyNumberProvider, PrivacyNumberProvider.of({
  name: "stub", endpoint: ENDPOINT,
  queryCallStatus: () => Effect.succeed({ status: 1 as const, calledNo: "17000000000", extension: undefined, requestId: "r" }),
  bindingDetail: () => Effect.die("not used"),
  bind: () => Effect.die("not used")
}))

export const runMicro = async (o: { readonly n: number; readonly rounds: number }, onPiece: (piece: string) => void = () => {}): Promise<Array<MicroRow>> => {
  const settings = await Effect.runPromise(settingsFromObject({ ...LIVE_SETTINGS, aliyunEndpoint: ENDPOINT }))
  const credentials = { accessKeyId: "id", accessKeySecret: Redacted.make("secret") }
  const request = Schema.decodeUnknownSync(DecideRequest)(INPUT)
  const rows: Array<MicroRow> = []
  const run = async (piece: string, fn: () => unknown, n = o.n) => {
    onPiece(piece)
    rows.push(await measure(piece, n, o.rounds, fn))
  }
  const plain = ManagedRuntime.make(Layer.empty)
  const traced = ManagedRuntime.make(stubClient)
  const notTraced = ManagedRuntime.make(Layer.merge(stubClient, untraced))
  const core = ManagedRuntime.make(engineLayer(settings).pipe(Layer.provide(stubProvider)))
  // PrecallLive's composition (src/precall.ts) with the stub provider in place of the Aliyun one.
  const live = ManagedRuntime.make(engineLayer(settings).pipe(
    Layer.provide(stubProvider), Layer.provide(cacheLayer(settings)), Layer.provideMerge(guardLayer(settings)), Layer.provide(sharedRedisLayer(settings))
  ))
  try {
    const coreEngine = await core.runPromise(Effect.service(Engine))
    const liveEngine = await live.runPromise(Effect.service(Engine))
    const rpc = await traced.runPromise(makeAliyunRpc({ endpoint: ENDPOINT, signature: "v3", credentials, version: DYPLS_VERSION }))
    const provider = await traced.runPromise(makeAliyunProvider({ endpoint: ENDPOINT, signature: "v3", credentials }))
    const providerUntraced = await notTraced.runPromise(makeAliyunProvider({ endpoint: ENDPOINT, signature: "v3", credentials }))
    const decision = await core.runPromise(coreEngine.decide(request))
    const emptySha = sha256Hex("")

    await run("ManagedRuntime.runPromise(Effect.void): the Promise bridge, once", () => plain.runPromise(Effect.void))
    await run("V3 signing of one QueryCallStatus (signature.ts, as the floor does)", () => {
      const params: Record<string, string> = { CallNo: INPUT.callerNo, PoolKey: INPUT.poolKey, SubsId: INPUT.subsId }
      const headers: Record<string, string> = {
        host: "127.0.0.1:1", "x-acs-action": "QueryCallStatus", "x-acs-version": DYPLS_VERSION, "x-acs-date": aliyunTimestamp(Date.now()),
        "x-acs-signature-nonce": randomUUID(), "x-acs-content-sha256": emptySha
      }
      authorizationV3({ method: "POST", path: "/", query: params, headers, signedHeaders: Object.keys(headers), hashedPayload: emptySha }, "id", "secret")
      return Object.keys(params).sort().map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`).join("&")
    })
    await run("new Response(reply) for the stub transport (included in the 3 rows below)", () => new Response(REPLY, { status: 200 }))
    const post = () => HttpClientRequest.post(`${ENDPOINT}/?PoolKey=x`).pipe(HttpClientRequest.setHeaders({ "x-acs-action": "QueryCallStatus", authorization: "a" }))
    await run("effect HttpClient execute + text, stub transport, client span on (default)", () =>
      traced.runPromise(Effect.flatMap(Effect.flatMap(HttpClient.HttpClient, (c) => c.execute(post())), (r) => r.text)))
    await run("effect HttpClient execute + text, stub transport, client span off", () =>
      notTraced.runPromise(Effect.flatMap(Effect.flatMap(HttpClient.HttpClient, (c) => c.execute(post())), (r) => r.text)))
    await run("client.ts rpc QueryCallStatus (sign, HttpClient, interpretReply), stub transport", () =>
      traced.runPromise(rpc("QueryCallStatus", { PoolKey: INPUT.poolKey, SubsId: INPUT.subsId, CallNo: INPUT.callerNo })))
    await run("provider.queryCallStatus (+ dypls Schema decode, mapping), stub transport", () =>
      traced.runPromise(provider.queryCallStatus({ ...INPUT })))
    await run("provider.queryCallStatus, stub transport, client span off", () =>
      notTraced.runPromise(providerUntraced.queryCallStatus({ ...INPUT })))
    await run("engine.decide, engineLayer alone, stub provider (Engine.ts policies + metrics)", () => core.runPromise(coreEngine.decide(request)))
    await run("engine.decide, + guardLayer and cacheLayer as PrecallLive builds it, stub provider", () => live.runPromise(liveEngine.decide(request)))
    await run("decodeRequest as createPrecall runs it (Effect.runPromise(Effect.result(...)))", () => Effect.runPromise(Effect.result(decodeRequest(INPUT))))
    await run("Schema.decodeUnknownSync(DecideRequest), for comparison", () => Schema.decodeUnknownSync(DecideRequest)(INPUT))
    await run("metrics of one decision: recordDecision + recordAttempt (each metric tagged once per attribute set)", () =>
      Effect.runSync(Effect.andThen(recordDecision(decision as Decision), recordAttempt("aliyun", "QueryCallStatus", 3))))
    const counter = Metric.counter("bench_precomputed_total")
    const tagged = Metric.withAttributes(counter, { decision: "use-x", source: "provider" })
    await run("the same counter update on a metric tagged once, for comparison", () => Effect.runSync(Metric.update(tagged, 1)))
    const { requestKey, statusKey } = sharingKeys("bench-secret")
    await run("sharing keys of one decision: requestKey + statusKey (two HMAC-SHA256)", () =>
      requestKey(request) + statusKey(request.poolKey, request.subsId, request.callerNo, "aliyun"))
    void DecisionSharing
  } finally {
    await Promise.all([plain.dispose(), traced.dispose(), notTraced.dispose(), core.dispose(), live.dispose()])
  }
  return rows
}

if (import.meta.main) {
  if (process.send !== undefined) {
    // forked by run.ts: options in, rows out over IPC
    const o = JSON.parse(process.env["BENCH_MICRO"] ?? "{}") as { n: number; rounds: number }
    const rows = await runMicro(o, (piece) => process.send!({ piece }))
    process.send({ rows }, () => process.exit(0))
  } else {
    const rows = await runMicro({ n: 20_000, rounds: 5 }, (p) => process.stderr.write(`${p}\n`))
    for (const r of rows) process.stdout.write(`${r.microsPerOp.toFixed(1).padStart(8)} µs  ${r.piece}  (rounds: ${r.microsPerRound.map((x) => x.toFixed(1)).join(", ")})\n`)
  }
}
