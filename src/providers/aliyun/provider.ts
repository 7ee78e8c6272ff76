/**
 * The Aliyun Dypls adapter behind the PrivacyNumberProvider interface. Status evidence comes from
 * QueryCallStatus, or, where Aliyun no longer serves it, from QuerySubscriptionDetail and
 * QuerySecretNoDetail (evidence.ts reads both). In `auto` mode the adapter remembers that this
 * endpoint answered InvalidAction.NotFound and asks QueryCallStatus again only every probe interval.
 */
import { Effect, Layer } from "effect"
import { HttpClient } from "effect/http"
import type { ProviderError } from "../../domain/errors.ts"
import type { Evidence } from "../../domain/evidence.ts"
import { normalizeStatus, type StatusAnswer } from "../../domain/status.ts"
import { type EvidenceProvider, PrivacyNumberProvider, type StatusQuery } from "../Provider.ts"
import { type AliyunRpcConfig, makeAliyunRpc } from "./client.ts"
import { bindAction, DYPLS_VERSION, makeDypls, type QueryCallStatusReply } from "./dypls.ts"
import { derivedEvidence, evidenceOfCallStatus, evidenceOfDeadBinding, isNotServed, type SecretStatusFact, type SubscriptionFact } from "./evidence.ts"

const orUndefined = (s: string | null | undefined): string | undefined => (s === null || s === "" ? undefined : s)

/** PRECALL_ALIYUN_STATUS_SOURCE: `query` QueryCallStatus only, `derived` never, `auto` until the endpoint says it does not serve it. */
export type StatusSource = "auto" | "query" | "derived"

export interface AliyunProviderConfig extends Omit<AliyunRpcConfig, "version"> {
  /** Default `auto`. */
  readonly statusSource?: StatusSource | undefined
  /** In `auto`, how long after a NotFound QueryCallStatus is asked again. Default 600 s. */
  readonly statusProbeMs?: number | undefined
  /** The pool bindings moved here from another provider go into (PRECALL_ALIYUN_POOL_KEY). */
  readonly rebindPoolKey?: string | undefined
}

/**
 * Whether to ask QueryCallStatus now. In `auto`, a NotFound is remembered with its time, and the
 * first decision after the probe interval claims the probe (the others keep deriving meanwhile).
 */
const makeSourceChoice = (source: StatusSource, probeMs: number) => {
  let notServedSince: number | undefined
  return {
    askQuery: (now: number): boolean => {
      if (source !== "auto") return source === "query"
      if (notServedSince === undefined) return true
      if (now - notServedSince < probeMs) return false
      notServedSince = now
      return true
    },
    notServed: (now: number) => {
      notServedSince = now
    },
    served: () => {
      notServedSince = undefined
    }
  }
}

export const makeAliyunProvider = (config: AliyunProviderConfig) =>
  Effect.gen(function*() {
    const dypls = makeDypls(yield* makeAliyunRpc({ ...config, version: DYPLS_VERSION }))
    const choice = makeSourceChoice(config.statusSource ?? "auto", config.statusProbeMs ?? 600_000)

    const callStatusOf = ({ RequestId, SecretCallStatusDTO: dto }: typeof QueryCallStatusReply.Type): StatusAnswer => {
      const calledNo = orUndefined(dto.CalledNo)
      return { status: normalizeStatus(dto.Status, calledNo), calledNo, extension: orUndefined(dto.Extension), requestId: RequestId }
    }
    const askCallStatus = (q: StatusQuery) => dypls.queryCallStatus({ poolKey: q.poolKey, subsId: q.subsId, callNo: q.callerNo })
    const queryCallStatus = (q: StatusQuery): Effect.Effect<StatusAnswer, ProviderError> => Effect.map(askCallStatus(q), callStatusOf)

    /** Status from the binding's detail and its X's state, asked together. */
    const derived = (q: StatusQuery): Effect.Effect<Evidence, ProviderError> =>
      Effect.all([
        dypls.querySubscriptionDetail({ poolKey: q.poolKey, subsId: q.subsId, phoneNoX: q.phoneNoX }).pipe(
          Effect.map(({ RequestId, SecretBindDetailDTO: d }): readonly [SubscriptionFact, string | undefined] =>
            [{ _tag: "Found", status: d.Status, phoneNoX: d.PhoneNoX, extension: orUndefined(d.Extension) }, RequestId]),
          // a binding the platform no longer knows is as dead as an expired one
          Effect.catchIf((e) => e.errorClass === "binding", (e) => Effect.succeed([{ _tag: "Gone", code: e.code }, e.requestId] as const))
        ),
        dypls.querySecretNoDetail({ poolKey: q.poolKey, secretNo: q.phoneNoX }).pipe(
          Effect.map(({ SecretNoInfoDTO }): SecretStatusFact => SecretNoInfoDTO.SecretStatus),
          // without the X's state the binding's own status still decides
          Effect.orElseSucceed((): SecretStatusFact => undefined)
        )
      ], { concurrency: 2 }).pipe(Effect.map(([[binding, requestId], secret]) => derivedEvidence(binding, secret, requestId)))

    /**
     * Evidence from QueryCallStatus asked at `now`: a binding-class refusal is a dead binding; in
     * `auto`, an endpoint that does not serve the action is remembered and the status derived.
     */
    const pulled = (q: StatusQuery, now: number): Effect.Effect<Evidence, ProviderError> =>
      Effect.matchEffect(askCallStatus(q), {
        onFailure: (e) =>
          e.errorClass === "binding"
            ? Effect.succeed(evidenceOfDeadBinding(e.code, e.requestId))
            : config.statusSource !== "query" && isNotServed(e.code)
            ? Effect.andThen(Effect.sync(() => choice.notServed(now)), derived(q))
            : Effect.fail(e),
        onSuccess: (reply) => {
          choice.served()
          return Effect.succeed(evidenceOfCallStatus(callStatusOf(reply)))
        }
      })

    const provider: EvidenceProvider & { readonly queryCallStatus: typeof queryCallStatus } = {
      name: "aliyun",
      endpoint: config.endpoint,
      rebindPoolKey: config.rebindPoolKey,
      actions: {
        queryCallStatus: "QueryCallStatus", bindingDetail: "QuerySubscriptionDetail", bind: (mode) => bindAction[mode], unbind: "UnbindSubscription"
      },
      queryCallStatus,
      evidence: (q) =>
        Effect.clockWith((clock) => {
          const now = clock.currentTimeMillisUnsafe()
          return choice.askQuery(now) ? pulled(q, now) : derived(q)
        }),
      bindingDetail: (ref) =>
        dypls.querySubscriptionDetail(ref).pipe(Effect.map(({ RequestId, SecretBindDetailDTO: d }) => ({
          subsId: d.SubsId, phoneNoA: orUndefined(d.PhoneNoA), phoneNoB: orUndefined(d.PhoneNoB), phoneNoX: d.PhoneNoX,
          extension: orUndefined(d.Extension), active: d.Status === 1, requestId: RequestId
        }))),
      bind: (r) =>
        dypls.bind(r).pipe(Effect.map(({ RequestId, SecretBindDTO: b }) => ({
          subsId: b.SubsId, phoneNoX: b.SecretNo, extension: orUndefined(b.Extension), requestId: RequestId
        }))),
      unbind: (ref) => Effect.asVoid(dypls.unbindSubscription({ poolKey: ref.poolKey, subsId: ref.subsId, secretNo: ref.phoneNoX }))
    }
    return provider
  })

/** The Aliyun provider over the HttpClient in context (provide NodeHttpClient.layerUndici). */
export const aliyunProviderLayer = (config: AliyunProviderConfig): Layer.Layer<PrivacyNumberProvider, never, HttpClient.HttpClient> =>
  Layer.effect(PrivacyNumberProvider, makeAliyunProvider(config))
