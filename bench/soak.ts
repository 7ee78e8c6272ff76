/**
 * The soak row: `BENCH_SOAK_DECISIONS` decisions (1,000,000 in a full run) through the library with
 * production settings on (bench/live.ts), on an in-process stub transport (an HttpClient answering
 * the canned QueryCallStatus reply at once), so that only precall's own memory is in play. Each
 * decision asks about one of 64 bindings with one of IDLE_CALLERS caller numbers, enough distinct
 * keys to fill the status cache to its bound during the warm-up. The heap is read after a forced GC
 * once warmed up and again after the soak; it must not grow by more than 10 MB.
 *
 * Run with --expose-gc as a child of `npm run bench`; prints one JSON line (SoakResult) on stdout.
 */
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import { decide, PrecallWith, settingsFromObject } from "../src/index.ts"
import { aliyunProviderLayer } from "../src/providers/aliyun/provider.ts"
import { idleDecisionInput, PRODUCTION_IDLE_SETTINGS, STATUS_ONE_REPLY, STUB_ENDPOINT } from "./live.ts"

export interface SoakResult {
  readonly decisions: number
  readonly warmupDecisions: number
  readonly concurrency: number
  readonly seconds: number
  readonly errors: number
  readonly firstError: string | undefined
  /** process.memoryUsage().heapUsed after a forced GC, in bytes. */
  readonly heapAfterWarmup: number
  readonly heapAfterSoak: number
  readonly heapGrowthBytes: number
  readonly rssAfterSoak: number
}

const stubClient = Layer.succeed(HttpClient.HttpClient)(HttpClient.make((request) =>
  Effect.succeed(HttpClientResponse.fromWeb(request, new Response(STATUS_ONE_REPLY, { status: 200, headers: { "content-type": "application/json" } })))))

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("bench/soak.ts needs node --expose-gc")

const heapAfterGc = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const { decisions, warmup, concurrency } = JSON.parse(process.env["BENCH_SOAK"] ?? "{}") as { decisions?: number; warmup?: number; concurrency?: number }
const n = decisions ?? 1_000_000
const warm = warmup ?? 100_000
const workers = concurrency ?? 16

const settings = await Effect.runPromise(settingsFromObject({ ...PRODUCTION_IDLE_SETTINGS, aliyunEndpoint: STUB_ENDPOINT }))
const provider = aliyunProviderLayer({ endpoint: STUB_ENDPOINT, signature: "v3", credentials: { accessKeyId: "soak", accessKeySecret: Redacted.make("soak-secret") } })
  .pipe(Layer.provide(stubClient))
const runtime = ManagedRuntime.make(PrecallWith(settings, provider))

let errors = 0
let firstError: string | undefined
/** `count` decisions on `workers` closed loops; decision i asks about binding i % 64 with caller i. */
const drive = async (count: number): Promise<void> => {
  let next = 0
  const loop = async () => {
    while (next < count) {
      const d = await runtime.runPromise(decide(idleDecisionInput(next++)))
      if (d.decision !== "use-x") {
        errors++
        firstError ??= `${d.decision}/${d.source}: ${d.reason}`
      }
    }
  }
  await Promise.all(Array.from({ length: workers }, loop))
}

await drive(warm)
const heapAfterWarmup = heapAfterGc()
const t0 = performance.now()
await drive(n)
const seconds = (performance.now() - t0) / 1000
const heapAfterSoak = heapAfterGc()
await runtime.dispose()
const result: SoakResult = {
  decisions: n, warmupDecisions: warm, concurrency: workers, seconds, errors, firstError,
  heapAfterWarmup, heapAfterSoak, heapGrowthBytes: heapAfterSoak - heapAfterWarmup, rssAfterSoak: process.memoryUsage().rss
}
process.stdout.write(`${JSON.stringify(result)}\n`)
