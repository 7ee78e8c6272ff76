/**
 * The ChatApp sender list (src/alternative/ChatappSenders.ts) on the TestClock, over a scripted cams
 * client: the first list at start, one refresh per PRECALL_CHATAPP_REFRESH_S and none in between, a
 * failed refresh keeps the last good list and shows in /readyz and the metrics, a later good one clears it.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, it } from "@effect/vitest"
import { Context, Effect, Layer, Metric, Ref } from "effect"
import { TestClock } from "effect/testing"
import {
  ChatappSenders,
  chatappListStale,
  chatappRefreshesTotal,
  chatappSenders,
  chatappSendersLayer
} from "../../src/alternative/ChatappSenders.ts"
import type { Sender } from "../../src/alternative/senders.ts"
import { providerBreakersLayer } from "../../src/breaker/ProviderBreakers.ts"
import { ProviderError } from "../../src/domain/errors.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { Cams } from "../../src/providers/aliyun/cams.ts"
import { noRedis, SharedRedis } from "../../src/redis/SharedRedis.ts"
import { Readiness, readinessLayer } from "../../src/service/readiness.ts"

const GREEN: Sender = { phoneNumber: "8657100000001", status: "CONNECTED", qualityRating: "GREEN", messagingLimitTier: "TIER_10K" }
const YELLOW: Sender = { phoneNumber: "8657100000002", status: "CONNECTED", qualityRating: "YELLOW", messagingLimitTier: "TIER_1K" }
const RED: Sender = { phoneNumber: "8657100000003", status: "CONNECTED", qualityRating: "RED", messagingLimitTier: "TIER_1K" }
const throttled = new ProviderError({
  provider: "aliyun", action: "QueryChatappPhoneNumbers", code: "System.LimitControl", errorClass: "throttled",
  message: "The system is under flow control.", httpStatus: 400
})

/** What the scripted cams answers next, and how many calls it has had. */
const script = (answer: ReadonlyArray<Sender> | ProviderError) =>
  Effect.gen(function*() {
    const next = yield* Ref.make(answer)
    const calls = yield* Ref.make(0)
    const cams = Layer.succeed(Cams, Cams.of({
      endpoint: "http://127.0.0.1:1",
      queryChatappPhoneNumbers: () =>
        Effect.andThen(Ref.update(calls, (n) => n + 1), Effect.flatMap(Ref.get(next), (a) =>
          a instanceof ProviderError ? Effect.fail(a) : Effect.succeed({ senders: a, requestId: "R" })))
    }))
    return { cams, answer: (a: ReadonlyArray<Sender> | ProviderError) => Ref.set(next, a), calls: Ref.get(calls) }
  })

const counter = (outcome: string) => Effect.map(Metric.value(Metric.withAttributes(chatappRefreshesTotal, { outcome })), (s) => s.count)
const gauge = (m: Metric.Metric<number, Metric.GaugeState<number>>) => Effect.map(Metric.value(m), (s) => s.value)

it.effect("refreshes at start and then once per interval, never in between; a failure keeps the last good list and says so", () =>
  Effect.scoped(Effect.gen(function*() {
    // port 1: the readiness probe of the (absent) Dyplsapi endpoint fails at once, which is not what is checked here
    const settings = yield* settingsFromObject({ chatappCustSpaceId: "cs-1", chatappRefreshS: 30, aliyunEndpoint: "http://127.0.0.1:1", chatappEndpoint: "http://127.0.0.1:1" })
    const { cams, answer, calls } = yield* script([GREEN, YELLOW, RED])
    const failedBefore = yield* counter("failed")
    const context = yield* Layer.build(readinessLayer(settings).pipe(
      Layer.provideMerge(chatappSendersLayer({ ...settings, chatappCustSpaceId: "cs-1" })),
      Layer.provide(cams),
      Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, providerBreakersLayer(settings), Layer.succeed(SharedRedis, noRedis)))
    ))
    const senders = Context.get(context, ChatappSenders)
    const readiness = Context.get(context, Readiness)

    const first = yield* senders.list
    assert.strictEqual(yield* calls, 1)
    assert.deepStrictEqual([first?.senders, first?.refreshedAt, first?.failure], [[GREEN, YELLOW, RED], 0, undefined])
    assert.deepStrictEqual([yield* gauge(Metric.withAttributes(chatappSenders, { state: "listed" })), yield* gauge(Metric.withAttributes(chatappSenders, { state: "usable" }))], [3, 2])

    yield* TestClock.adjust("29 seconds")
    assert.strictEqual(yield* calls, 1, "no refresh before the interval")
    yield* answer([YELLOW])
    yield* TestClock.adjust("1 second")
    assert.strictEqual(yield* calls, 2)
    assert.deepStrictEqual((yield* senders.list)?.senders, [YELLOW])

    yield* answer(throttled)
    yield* TestClock.adjust("30 seconds")
    assert.strictEqual(yield* calls, 3)
    const stale = yield* senders.list
    assert.deepStrictEqual(stale?.senders, [YELLOW], "the last good list stays")
    assert.deepStrictEqual([stale?.refreshedAt, stale?.failure?.code, stale?.failure?.at], [30_000, "System.LimitControl", 60_000])
    assert.strictEqual(yield* gauge(chatappListStale), 1)
    assert.strictEqual((yield* counter("failed")) - failedBefore, 1)
    const report = yield* readiness.check
    assert.deepStrictEqual(report.checks.chatapp, {
      ok: false, custSpaceId: "cs-1", senders: 1, usable: 1, refreshedAt: new Date(30_000).toISOString(),
      lastError: { code: "System.LimitControl", message: "The system is under flow control.", at: new Date(60_000).toISOString() }
    })

    yield* answer([GREEN])
    yield* TestClock.adjust("30 seconds")
    const recovered = yield* senders.list
    assert.deepStrictEqual([recovered?.senders, recovered?.failure], [[GREEN], undefined])
    assert.strictEqual(yield* gauge(chatappListStale), 0)
    assert.strictEqual((yield* readiness.check).checks.chatapp?.ok, true)
  })))

it.effect("a first refresh that fails leaves no list (refusals then carry null), and the next interval tries again", () =>
  Effect.scoped(Effect.gen(function*() {
    const settings = yield* settingsFromObject({ chatappCustSpaceId: "cs-2", chatappRefreshS: 10, chatappEndpoint: "http://127.0.0.1:1" })
    const { cams, answer, calls } = yield* script(throttled)
    const senders = Context.get(yield* Layer.build(chatappSendersLayer({ ...settings, chatappCustSpaceId: "cs-2" }).pipe(Layer.provide(cams))), ChatappSenders)
    const none = yield* senders.list
    assert.deepStrictEqual([none?.senders, none?.refreshedAt, none?.failure?.code], [undefined, undefined, "System.LimitControl"])
    yield* answer([GREEN])
    yield* TestClock.adjust("10 seconds")
    assert.strictEqual(yield* calls, 2)
    assert.deepStrictEqual((yield* senders.list)?.senders, [GREEN])
  })))

it.effect("without ChatApp configured there is no sender list", () =>
  Effect.gen(function*() {
    assert.isUndefined(yield* (yield* ChatappSenders).list)
  }))
