/**
 * `POST /v1/providers/huawei/events`: the callback URL for every push the Huawei privacy-call
 * platform sends (X number status, call events, CDRs; shared/providers/huawei.md §4).
 *
 * The sender is authenticated like a Huawei API caller, by the X-AKSK (or legacy X-WSSE) header
 * computed with a configured app's key and secret, not by our API keys: an unsigned, mis-signed,
 * stale (Created outside the skew window) or replayed (nonce seen before) push is a 401 and nothing
 * of it is recorded. A verified push is recorded in the evidence store, shared by every instance,
 * and answered 200 with an empty body, as the platform expects. Re-pushes of a call event or CDR are
 * acknowledged the same way and counted once.
 */
import { ByteSize, Effect, Layer, Metric } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { EvidenceStore } from "../evidence/EvidenceStore.ts"
import { resolveHuaweiApps } from "../providers/huawei/credentials.ts"
import { huaweiPushCodec } from "../providers/huawei/pushCodec.ts"
import { type HuaweiPushCodec, learnFromHuaweiPush, type PushApp } from "../providers/huawei/pushes.ts"
import type { Settings } from "../policy/settings.ts"
import { StateCodeTables } from "../evidence/outcomes.ts"
import { errorResponse } from "./errors.ts"

export const HUAWEI_EVENTS_PATH = "/v1/providers/huawei/events"

/** 100 status items or 50 merged CDRs fit many times over. */
const MAX_PUSH_BYTES = 512 * 1024

export interface HuaweiPushOptions {
  readonly apps: ReadonlyArray<PushApp>
  readonly codec: HuaweiPushCodec
  /** Largest distance between `Created` and our clock, either way (default 300 s, as the emulator). */
  readonly skewS?: number | undefined
}

/**
 * The configured Huawei apps (AXB, and AX when set) whose pushes are accepted, as the adapter signs
 * with them: with no app key and a loopback endpoint, the emulator's demo apps. Undefined when none is.
 */
export const huaweiPushOptions = (settings: Settings): HuaweiPushOptions | undefined => {
  const apps = resolveHuaweiApps(settings)
  return apps === undefined ? undefined : { apps: apps.ax === undefined ? [apps.axb] : [apps.axb, apps.ax], codec: huaweiPushCodec }
}

export const pushesTotal = Metric.counter("precall_pushes_total", {
  description: "Provider pushes received, by provider and result: recorded, repeat (a re-push already recorded), unauthorized, invalid"
})
const counted = (result: "recorded" | "repeat" | "unauthorized" | "invalid") =>
  Metric.update(Metric.withAttributes(pushesTotal, { provider: "huawei", result }), 1)

/** Why is not told to the sender: a prober learns nothing from the answer. */
const unauthorizedPush = Effect.as(counted("unauthorized"), errorResponse(401, "unauthorized", "push not signed by a configured Huawei app"))

const invalidPush = (message: string) => Effect.as(counted("invalid"), errorResponse(400, "invalid_push", message))

/** The route, over the evidence store of the service. */
export const huaweiPushRoute = (options: HuaweiPushOptions) =>
  Layer.unwrap(Effect.gen(function*() {
    const store = yield* EvidenceStore
    const tables = yield* StateCodeTables
    const stateCodes = tables["huawei"] ?? (() => "other" as const)
    const skewMs = (options.skewS ?? 300) * 1000

    const handle = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const token = options.apps.length === 0 ? undefined : options.codec.verify(request.headers, options.apps)
      if (token === undefined) return yield* unauthorizedPush
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      if (Math.abs(now - token.created) > skewMs) return yield* unauthorizedPush
      // a captured push sent again carries the same nonce; the platform's own re-pushes are signed anew
      if (!(yield* store.firstSeen(`huawei:nonce:${token.appKey}:${token.nonce}`, 2 * skewMs))) return yield* unauthorizedPush

      const text = yield* request.text.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_PUSH_BYTES)),
        Effect.option
      )
      if (text._tag === "None") return yield* invalidPush(`the body could not be read (at most ${MAX_PUSH_BYTES} bytes)`)
      let json: unknown
      try {
        json = JSON.parse(text.value)
      } catch {
        return yield* invalidPush("the body is not JSON")
      }
      const push = options.codec.parse(json)
      if (push._tag === "Failure") {
        return yield* invalidPush(`not a Huawei push: ${push.failure.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")}`)
      }
      const learned = yield* learnFromHuaweiPush(push.success, store, stateCodes)
      yield* counted(learned.repeats > 0 && learned.outcomes === 0 && learned.xStatuses === 0 ? "repeat" : "recorded")
      return HttpServerResponse.empty({ status: 200 })
    })
    return HttpRouter.add("POST", HUAWEI_EVENTS_PATH, handle)
  }))
