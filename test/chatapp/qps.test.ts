/**
 * QueryChatappPhoneNumbers' 10 QPS per account across instances, for real: two precall instances
 * (PrecallLive, each with its own Redis connection, same Redis and a prefix unique to this run)
 * refresh their sender lists concurrently against the emulator, which answers System.LimitControl
 * above 10 calls in any sliding second. Shared through Redis, the refreshes stay under the quota;
 * without Redis, each instance keeps its own 9/s and together they exceed it.
 */
import { Effect, Layer, Logger, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ChatappSenders } from "../../src/alternative/ChatappSenders.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { PrecallLive } from "../../src/precall.ts"
import { jsonLinesLogger } from "../../src/service/logging.ts"
import { deleteKeysUnder, REDIS_URL, settingsSync, uniquePrefix } from "../limits/support.ts"

const SPACE = "cs-qps"
const REFRESHES_EACH = 12
const prefix = uniquePrefix()
let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 13 })
})
afterAll(async () => {
  await emulator.close()
  await deleteKeysUnder(REDIS_URL, prefix)
})

/** The throttled refreshes of the second test each log a warning; the counts at the emulator tell more. */
const quiet = Logger.layer([jsonLinesLogger(() => {})])

/** An instance refreshing every hour (so only the test's refreshes run), optionally on the shared Redis. */
const instance = (redis: boolean) =>
  ManagedRuntime.make(PrecallLive(settingsSync({
    aliyunEndpoint: emulator.url, chatappEndpoint: emulator.url, chatappCustSpaceId: SPACE, chatappRefreshS: 3600,
    // a generous Redis timeout: the instances, the emulator and the test share one event loop
    ...(redis ? { redisUrl: REDIS_URL, redisPrefix: prefix, redisTimeoutMs: 100 } : {})
  })).pipe(Layer.provideMerge(quiet)))

const refreshMany = (runtime: ReturnType<typeof instance>) =>
  runtime.runPromise(Effect.gen(function*() {
    const senders = yield* ChatappSenders
    yield* Effect.all(Array.from({ length: REFRESHES_EACH }, () => senders.refresh), { concurrency: "unbounded" })
    return yield* senders.list
  }))

const codes = () => emulator.stats().actions["QueryChatappPhoneNumbers"]?.codes ?? {}

describe("QueryChatappPhoneNumbers under the account's 10 QPS", () => {
  it("two instances sharing Redis stay under it: every refresh answered, none throttled, spread over the shared 9/s", async () => {
    emulator.reset()
    emulator.setChatappNumber(SPACE, "6281200000001")
    const [a, b] = [instance(true), instance(true)]
    try {
      await Promise.all([a.runPromise(Effect.void), b.runPromise(Effect.void)]) // both started, first lists loaded
      const started = Date.now()
      const [listA, listB] = await Promise.all([refreshMany(a), refreshMany(b)])
      const elapsedMs = Date.now() - started
      expect(codes()).toEqual({ OK: 2 + 2 * REFRESHES_EACH })
      expect([listA?.failure, listB?.failure]).toEqual([undefined, undefined])
      // 24 calls at 9/s shared: the last leaves about 24/9 s after the first (one instance alone would take 12/9 s)
      expect(elapsedMs).toBeGreaterThan(2200)
    } finally {
      await Promise.all([a.dispose(), b.dispose()])
    }
  })

  it("without Redis each instance keeps its own 9/s: together they exceed the quota and the emulator throttles", async () => {
    emulator.reset()
    emulator.setChatappNumber(SPACE, "6281200000001")
    const [a, b] = [instance(false), instance(false)]
    try {
      await Promise.all([a.runPromise(Effect.void), b.runPromise(Effect.void)])
      await Promise.all([refreshMany(a), refreshMany(b)])
      expect(codes()["System.LimitControl"] ?? 0).toBeGreaterThan(0)
    } finally {
      await Promise.all([a.dispose(), b.dispose()])
    }
  })
})
