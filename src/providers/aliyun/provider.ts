/** The Aliyun Dypls adapter behind the PrivacyNumberProvider interface. */
import { Effect, Layer } from "effect"
import { HttpClient } from "effect/http"
import { normalizeStatus } from "../../domain/status.ts"
import { PrivacyNumberProvider, type StatusProvider } from "../Provider.ts"
import { type AliyunRpcConfig, makeAliyunRpc } from "./client.ts"
import { bindAction, DYPLS_VERSION, makeDypls } from "./dypls.ts"

const orUndefined = (s: string | null | undefined): string | undefined => (s === null || s === "" ? undefined : s)

export const makeAliyunProvider = (config: Omit<AliyunRpcConfig, "version">) =>
  Effect.gen(function*() {
    const dypls = makeDypls(yield* makeAliyunRpc({ ...config, version: DYPLS_VERSION }))
    const provider: StatusProvider = {
      name: "aliyun",
      endpoint: config.endpoint,
      actions: { queryCallStatus: "QueryCallStatus", bindingDetail: "QuerySubscriptionDetail", bind: (mode) => bindAction[mode], unbind: "UnbindSubscription" },
      queryCallStatus: (q) =>
        dypls.queryCallStatus({ poolKey: q.poolKey, subsId: q.subsId, callNo: q.callerNo }).pipe(
          Effect.map(({ RequestId, SecretCallStatusDTO: dto }) => {
            const calledNo = orUndefined(dto.CalledNo)
            return { status: normalizeStatus(dto.Status, calledNo), calledNo, extension: orUndefined(dto.Extension), requestId: RequestId }
          }),
          // Defensive rule (aliyun.md §7): a binding-class error on QueryCallStatus (isv.SUBS_NOT_EXIST,
          // isv.NO_NOT_EXIST, isv.FORBIDDEN_ACTION "binding expired") means the binding is dead: handled
          // like status 4, so it is rebound instead of dialled.
          Effect.catchIf(
            (e) => e.errorClass === "binding",
            (e) => Effect.succeed({ status: 4 as const, calledNo: undefined, extension: undefined, requestId: e.requestId })
          )
        ),
      bindingDetail: (ref) =>
        dypls.querySubscriptionDetail(ref).pipe(Effect.map(({ RequestId, SecretBindDetailDTO: d }) => ({
          subsId: d.SubsId, phoneNoA: orUndefined(d.PhoneNoA), phoneNoB: orUndefined(d.PhoneNoB), phoneNoX: d.PhoneNoX,
          extension: orUndefined(d.Extension), active: d.Status === 1, requestId: RequestId
        }))),
      bind: (r) =>
        dypls.bind(r).pipe(Effect.map(({ RequestId, SecretBindDTO: b }) => ({
          subsId: b.SubsId, phoneNoX: b.SecretNo, extension: orUndefined(b.Extension), requestId: RequestId
        })))
    }
    return provider
  })

/** The Aliyun provider over the HttpClient in context (provide NodeHttpClient.layerUndici). */
export const aliyunProviderLayer = (config: Omit<AliyunRpcConfig, "version">): Layer.Layer<PrivacyNumberProvider, never, HttpClient.HttpClient> =>
  Layer.effect(PrivacyNumberProvider, makeAliyunProvider(config))
