/**
 * The alternative channel as a decorator of the Engine: the engine decides as it always does, and a
 * refusal then carries a WhatsApp sender from the in-memory ChatApp list (src/alternative/
 * ChatappSenders.ts). Reading the list costs no provider call, so the decision's deadline is untouched.
 * Nothing else changes: every other decision passes through as the engine made it.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Metric } from "effect"
import type { Decision } from "../domain/decision.ts"
import type { DecideRequest } from "../domain/request.ts"
import { Engine } from "../engine/Engine.ts"
import { InvalidSettings, type Settings } from "../policy/settings.ts"
import { camsLayer } from "../providers/aliyun/cams.ts"
import { resolveCredentials } from "../providers/aliyun/credentials.ts"
import { ChatappSenders, chatappSendersLayer } from "./ChatappSenders.ts"
import { alternativeOf } from "./senders.ts"

export const alternativesTotal = Metric.counter("precall_chatapp_alternatives_total", {
  description: "Refused decisions and whether they carried a WhatsApp alternative (offered: true, false)"
})
const offered = Metric.withAttributes(alternativesTotal, { offered: "true" })
const none = Metric.withAttributes(alternativesTotal, { offered: "false" })

/** The real numbers the request names: a sender that is one of them is never offered. */
const partyNumbersOf = (r: DecideRequest): ReadonlyArray<string> =>
  [r.callerNo, r.realCallee, r.binding?.phoneNoA, r.binding?.phoneNoB].filter((n) => n !== undefined)

/**
 * Engine → Engine: refusals carry `alternative` from the `ChatappSenders` in context, other decisions
 * pass through. Without a sender list (ChatApp not configured) refusals pass through too.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const Decorated = alternativeLayer.pipe(Layer.provide(engineLayer(settings)), Layer.provideMerge(chatappSendersLayer(chatapp)))
 * ```
 */
export const alternativeLayer: Layer.Layer<Engine, never, Engine> = Layer.effect(Engine, Effect.gen(function*() {
  const engine = yield* Engine
  const senders = yield* ChatappSenders
  const addAlternative = (request: DecideRequest, decision: Decision): Effect.Effect<Decision> =>
    decision.decision !== "refuse"
      ? Effect.succeed(decision)
      : Effect.gen(function*() {
        const list = yield* senders.list
        if (list === undefined) return decision
        const alternative = alternativeOf(list.senders, partyNumbersOf(request), list.failure?.code)
        yield* Metric.update(alternative === null ? none : offered, 1)
        return { ...decision, alternative }
      })
  return Engine.of({ ...engine, decide: (request) => Effect.flatMap(engine.decide(request), (d) => addAlternative(request, d)) })
}))

/**
 * The engine in context, decorated with the alternative channel when PRECALL_CHATAPP_CUST_SPACE_ID is
 * set (the cams client over undici, signed with the Aliyun key pair, and the refreshed sender list);
 * the engine unchanged otherwise. The sender list's calls go through the ProviderGuard in context
 * (the shared rate limit), so provide the composed engine, guard included.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const Live = Layer.merge(core, alternativeEngineLayer(settings).pipe(Layer.provide(core)))
 * ```
 */
export const alternativeEngineLayer = (settings: Settings): Layer.Layer<Engine, InvalidSettings, Engine> => {
  const custSpaceId = settings.chatappCustSpaceId
  if (custSpaceId === undefined) return Layer.effect(Engine, Effect.service(Engine))
  const credentials = resolveCredentials(settings.chatappEndpoint, settings.aliyunAccessKeyId, settings.aliyunAccessKeySecret)
  if (credentials === undefined) {
    // settingsFromEnv/settingsFromObject report this already; settings built by hand get it here
    return Layer.unwrap(Effect.fail(new InvalidSettings({
      issues: [{ setting: "PRECALL_CHATAPP_CUST_SPACE_ID", message: `ChatApp at ${settings.chatappEndpoint} needs the Aliyun key pair (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET)` }]
    })))
  }
  const cams = camsLayer({ endpoint: settings.chatappEndpoint.replace(/\/$/, ""), signature: settings.aliyunSignature, credentials })
  return alternativeLayer.pipe(
    Layer.provideMerge(chatappSendersLayer({ ...settings, chatappCustSpaceId: custSpaceId })),
    Layer.provide(cams),
    Layer.provide(NodeHttpClient.layerUndici)
  )
}
