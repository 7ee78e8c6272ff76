/**
 * A fixed number of decisions through the library on an in-process Aliyun transport (the seam
 * undici's transport sits behind: it answers the canned QueryCallStatus reply at once), for
 * `bench/profile.ts --instructions`, which runs this under valgrind and counts the instructions.
 * Everything precall does for a live decision runs (request decode, engine, guard, signing, reply
 * decode, metrics) except the socket I/O, so two builds of precall can be compared by instructions
 * per decision: a count that repeats within about half a percent from run to run, where this VM's
 * timings move by tens of percent.
 *
 * BENCH_INSTRUCTIONS: `{ "decisions": n, "settings": "live" | "production", "concurrency": c, "reply": "at-once" | "next-turn" }`.
 */
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { HttpClient } from "effect/http"
import { decide, PrecallWith, settingsFromObject } from "../src/index.ts"
import { aliyunProviderLayer } from "../src/providers/aliyun/provider.ts"
import { AliyunTransport, type AliyunTransportShape } from "../src/providers/aliyun/transport.ts"
import { idleDecisionInput, LIVE_SETTINGS, PRODUCTION_IDLE_SETTINGS, STATUS_ONE_REPLY, STUB_ENDPOINT } from "./live.ts"

const { decisions = 10_000, settings: which = "live", concurrency = 16, reply = "at-once" } = JSON.parse(process.env["BENCH_INSTRUCTIONS"] ?? "{}") as {
  decisions?: number
  settings?: "live" | "production"
  concurrency?: number
  reply?: "at-once" | "next-turn"
}

const statusOne = { status: 200, text: STATUS_ONE_REPLY, retryAfter: undefined }
/**
 * `at-once`: the reply is there when asked, so no fiber ever waits. `next-turn`: it comes on the
 * next turn of the event loop (setImmediate), as a socket's would, so what a wait costs is counted
 * too: the timers of the attempt and the deadline, fibers suspending and resuming, the promise.
 */
const transport: AliyunTransportShape = reply === "at-once"
  ? { send: () => Effect.succeed(statusOne) }
  : { send: () => Effect.callback((resume) => void setImmediate(() => resume(Effect.succeed(statusOne)))) }
const noHttpClient = Layer.succeed(HttpClient.HttpClient)(HttpClient.make(() => Effect.die("bench/instructions.ts makes no HTTP request")))

// Under valgrind everything runs some fifty times slower: the default deadline (1 s) and attempt
// timeout (300 ms) would cut decisions that wait a turn. A timer costs the same whatever its length.
const settings = await Effect.runPromise(settingsFromObject({
  ...(which === "production" ? PRODUCTION_IDLE_SETTINGS : LIVE_SETTINGS), aliyunEndpoint: STUB_ENDPOINT, deadlineMs: 60_000, attemptTimeoutMs: 30_000
}))
const provider = aliyunProviderLayer({ endpoint: STUB_ENDPOINT, signature: "v3", credentials: { accessKeyId: "bench", accessKeySecret: Redacted.make("bench-secret") } })
  .pipe(Layer.provide(Layer.merge(noHttpClient, Layer.succeed(AliyunTransport, transport))))
const runtime = ManagedRuntime.make(PrecallWith(settings, provider))

let next = 0
let wrong = 0
const loop = async () => {
  while (next < decisions) {
    const d = await runtime.runPromise(decide(idleDecisionInput(next++)))
    if (d.decision !== "use-x" || d.source !== "provider") wrong++
  }
}
await Promise.all(Array.from({ length: concurrency }, loop))
await runtime.dispose()
if (wrong > 0) throw new Error(`${wrong} of ${decisions} decisions were not use-x from the provider`)
