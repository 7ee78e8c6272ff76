/**
 * The WhatsApp sender numbers of the configured CustSpaceId, kept in memory and refreshed in the
 * background every PRECALL_CHATAPP_REFRESH_S: QueryChatappPhoneNumbers allows 10 calls per second per
 * account, far below the dial rate, so it is never called per decision. A decision reads the list
 * held in memory and waits on nothing.
 *
 * A failed refresh keeps the last good list (a sender's health changes slowly; an old list is a
 * better guess than none) and says so: in /readyz, in `precall_chatapp_sender_list_stale` and in the
 * alternative's reason. The next refresh comes at the next interval.
 */
import { Clock, Context, Duration, Effect, Fiber, Layer, Metric, Ref } from "effect"
import { LocalCodes, ProviderError } from "../domain/errors.ts"
import { maskNumbersIn } from "../domain/phone.ts"
import { recordAttempt, recordProviderError } from "../engine/metrics.ts"
import { ProviderGuard } from "../engine/ProviderGuard.ts"
import type { Settings } from "../policy/settings.ts"
import { Cams, QUERY_CHATAPP_PHONE_NUMBERS } from "../providers/aliyun/cams.ts"
import { isUsable, type Sender } from "./senders.ts"

/** One refresh attempt's budget: no decision waits on it, so it may take longer than a decision's attempt. */
const REFRESH_TIMEOUT_MS = 5000
/** How long a refresh may wait for its turn under the shared 10 QPS limit, the attempt included. */
const REFRESH_BUDGET_MS = 15_000
/** Start-up waits this long for the first list, so the first refused calls already get an alternative. */
const STARTUP_WAIT_MS = 2000

/** The sender list as last refreshed. */
export interface SenderList {
  readonly custSpaceId: string
  /** The last good list; undefined until a refresh has succeeded. */
  readonly senders: ReadonlyArray<Sender> | undefined
  /** Epoch ms of the last good refresh. */
  readonly refreshedAt: number | undefined
  /** The last refresh's failure, while no refresh has succeeded since. */
  readonly failure: { readonly code: string; readonly message: string; readonly at: number } | undefined
}

export interface ChatappSendersShape {
  /** The list held in memory (no provider call); undefined when ChatApp is not configured. */
  readonly list: Effect.Effect<SenderList | undefined>
  /** One refresh now, as the background loop runs it; never fails (a failure is recorded in the list). */
  readonly refresh: Effect.Effect<void>
}

const notConfigured: ChatappSendersShape = { list: Effect.succeed(undefined), refresh: Effect.void }

/**
 * The sender list in use: "not configured" unless `chatappSendersLayer` provides one (it is provided
 * with the engine when PRECALL_CHATAPP_CUST_SPACE_ID is set).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const list = yield* (yield* ChatappSenders).list
 * ```
 */
export const ChatappSenders = Context.Reference<ChatappSendersShape>("precall/ChatappSenders", { defaultValue: () => notConfigured })

export const chatappRefreshesTotal = Metric.counter("precall_chatapp_refreshes_total", {
  description: "Refreshes of the ChatApp sender list, by outcome (ok, failed)"
})
export const chatappSenders = Metric.gauge("precall_chatapp_senders", {
  description: "WhatsApp sender numbers in the last good ChatApp list, by state (listed, usable)"
})
export const chatappListStale = Metric.gauge("precall_chatapp_sender_list_stale", {
  description: "1 while the last refresh of the ChatApp sender list failed (the last good list, if any, stays in use), else 0"
})
export const chatappListRefreshed = Metric.gauge("precall_chatapp_sender_list_refreshed_timestamp_seconds", {
  description: "Unix time of the last good refresh of the ChatApp sender list"
})

const refreshed = (outcome: "ok" | "failed") => Metric.withAttributes(chatappRefreshesTotal, { outcome })
const listed = Metric.withAttributes(chatappSenders, { state: "listed" })
const usable = Metric.withAttributes(chatappSenders, { state: "usable" })

export const makeChatappSenders = (custSpaceId: string, refreshS: number) =>
  Effect.gen(function*() {
    const cams = yield* Cams
    const guard = yield* ProviderGuard
    const state = yield* Ref.make<SenderList>({ custSpaceId, senders: undefined, refreshedAt: undefined, failure: undefined })
    const call = { provider: "aliyun", endpoint: cams.endpoint, action: QUERY_CHATAPP_PHONE_NUMBERS, budgetMs: REFRESH_BUDGET_MS }

    const attempt = Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const exit = yield* cams.queryChatappPhoneNumbers(custSpaceId).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(REFRESH_TIMEOUT_MS),
          orElse: () => Effect.fail(new ProviderError({
            provider: "aliyun", action: QUERY_CHATAPP_PHONE_NUMBERS, code: LocalCodes.timeout, errorClass: "transient",
            message: `no reply within ${REFRESH_TIMEOUT_MS} ms`
          }))
        }),
        Effect.exit
      )
      yield* recordAttempt("aliyun", QUERY_CHATAPP_PHONE_NUMBERS, (yield* Clock.currentTimeMillis) - start)
      return yield* exit
    })

    const succeeded = (senders: ReadonlyArray<Sender>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const before = yield* Ref.getAndSet(state, { custSpaceId, senders, refreshedAt: now, failure: undefined })
        yield* Metric.update(refreshed("ok"), 1)
        yield* Metric.update(listed, senders.length)
        yield* Metric.update(usable, senders.filter(isUsable).length)
        yield* Metric.update(chatappListStale, 0)
        yield* Metric.update(chatappListRefreshed, now / 1000)
        if (before.failure !== undefined) yield* Effect.logInfo(`ChatApp sender list refreshed again: ${senders.length} senders`)
      })

    const failed = (e: ProviderError) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const message = maskNumbersIn(e.message)
        const after = yield* Ref.updateAndGet(state, (s) => ({ ...s, failure: { code: e.code, message, at: now } }))
        yield* Metric.update(refreshed("failed"), 1)
        yield* Metric.update(chatappListStale, 1)
        yield* recordProviderError(e)
        const kept = after.refreshedAt === undefined
          ? "no sender list yet, so refused calls get no alternative"
          : `keeping the list from ${new Date(after.refreshedAt).toISOString()}`
        yield* Effect.logWarning(`ChatApp sender list refresh failed: ${e.code} (${e.errorClass}) ${message}; ${kept}`)
      })

    const refresh = guard.run(call, attempt).pipe(
      Effect.matchEffect({ onSuccess: (r) => succeeded(r.senders), onFailure: failed })
    )

    // a slow first refresh goes on in the background; start-up does not wait for all of it
    const first = yield* Effect.forkScoped(refresh)
    yield* Fiber.await(first).pipe(Effect.timeoutOption(Duration.millis(STARTUP_WAIT_MS)))
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(Duration.seconds(refreshS)), refresh)))
    return { list: Ref.get(state), refresh } satisfies ChatappSendersShape
  })

/** The refreshed sender list of the configured CustSpaceId, over the cams client in context. */
export const chatappSendersLayer = (settings: Settings & { readonly chatappCustSpaceId: string }): Layer.Layer<never, never, Cams> =>
  Layer.effect(ChatappSenders, makeChatappSenders(settings.chatappCustSpaceId, settings.chatappRefreshS))
