/**
 * precall's public API. Everything a dialing app, a service or a test needs is exported here;
 * nothing else under src/ is a public entry point.
 */
export { createPrecall, decide, decodeRequest, InvalidRequest, PrecallError, PrecallFromEnv, PrecallLive, PrecallWith, providerLayer } from "./precall.ts"
export type { Precall, PrecallServices } from "./precall.ts"
export { Engine, engineLayer, makeEngine } from "./engine/Engine.ts"
export { telemetryLayer } from "./telemetry/otlp.ts"
export type { EngineShape } from "./engine/Engine.ts"
export { decide as decideFromFacts } from "./domain/decide.ts"
export type { DecisionFacts, DecisionPolicy } from "./domain/decide.ts"
export { Alternative, Decision, DecisionKind, DecisionSource, DegradedDecision } from "./domain/decision.ts"
export { DecideRequest, KnownBinding } from "./domain/request.ts"
export type { DecideRequestInput } from "./domain/request.ts"
export { BindingMode, PoolKey, SubsId } from "./domain/binding.ts"
export { CallStatus } from "./domain/status.ts"
export type { StatusAnswer } from "./domain/status.ts"
export { maskPhone, PhoneNumber } from "./domain/phone.ts"
export { ErrorClass, ProviderError } from "./domain/errors.ts"
export { defaults, envNames, InvalidSettings, Settings, settingsFromEnv, settingsFromObject } from "./policy/settings.ts"
export type { SettingsInput } from "./policy/settings.ts"
export { MoreProviders, PrivacyNumberProvider } from "./providers/Provider.ts"
export type {
  BindingDetail,
  BindingRef,
  BindRequest,
  EvidenceProvider,
  NewBinding,
  ProviderShape,
  StatusProvider,
  StatusQuery
} from "./providers/Provider.ts"
export { evidenceOfStatus, statusOf } from "./domain/evidence.ts"
export type { Evidence, Verdict } from "./domain/evidence.ts"
export { aliyunProviderLayer } from "./providers/aliyun/provider.ts"
export { classifyAliyunCode } from "./providers/aliyun/codes.ts"
export { huaweiProviderLayer } from "./providers/huawei/provider.ts"
export { classifyHuaweiCode } from "./providers/huawei/codes.ts"
// Evidence between decisions: X status from pushes, the binding cache, X health from call outcomes (docs/outcomes.md).
export { EvidenceStore, evidenceStoreLayer } from "./evidence/EvidenceStore.ts"
export type { BindingRecord, CallOutcomeRecord, EvidenceStoreShape, XHealth, XStatusRecord } from "./evidence/EvidenceStore.ts"
export { InvalidOutcome, OutcomeReceipt, OutcomeReport, Outcomes, outcomesLayer, reportOutcome } from "./evidence/outcomes.ts"
export type { OutcomeReportInput } from "./evidence/outcomes.ts"
export { OutcomeClass } from "./evidence/classes.ts"
// The alternative channel: a WhatsApp sender from ChatApp (cams) on refused calls (docs/alternative.md).
export { alternativeEngineLayer, alternativeLayer } from "./alternative/layer.ts"
export { ChatappSenders, chatappSendersLayer } from "./alternative/ChatappSenders.ts"
export type { ChatappSendersShape, SenderList } from "./alternative/ChatappSenders.ts"
export { alternativeOf, chooseSender, isUsable } from "./alternative/senders.ts"
export type { MessagingLimitTier, QualityRating, Sender, SenderStatus } from "./alternative/senders.ts"
export { Cams, camsLayer } from "./providers/aliyun/cams.ts"
export type { CamsConfig, CamsShape } from "./providers/aliyun/cams.ts"
// The local Aliyun emulator: for tests, demos and benchmarks (docs/emulator.md).
export { AliyunEmulator, aliyunEmulatorScoped, DEMO_POOL_KEY, startAliyunEmulator } from "./emulator/aliyun/index.ts"
export type { AliyunEmulatorOptions, FaultSpec, RunningAliyunEmulator } from "./emulator/aliyun/index.ts"
// The local Huawei privacy-call and CEC emulator (docs/emulator.md#the-huawei-emulator).
export { HuaweiEmulator, huaweiEmulatorScoped, startHuaweiEmulator } from "./emulator/huawei/index.ts"
export type { HuaweiEmulatorOptions, RunningHuaweiEmulator } from "./emulator/huawei/index.ts"
// The exposure audit: every fallback-real recorded before it is returned (docs/audit.md).
export { auditedEngineLayer, auditFailuresTotal, CurrentRequest, exposuresAuditedTotal } from "./audit/audited.ts"
export type { RequestContext } from "./audit/audited.ts"
export { AuditStoreError, ExposureStore } from "./audit/ExposureStore.ts"
export type { ExposurePage, ExposureQuery, ExposureStoreShape } from "./audit/ExposureStore.ts"
export { exposureStoreLayer } from "./audit/layer.ts"
export { fileStoreLayer } from "./audit/fileStore.ts"
export { pgStoreLayer, readerGrants, writerGrants } from "./audit/pgStore.ts"
export { memoryStoreLayer } from "./audit/memoryStore.ts"
export { ExposureEntry, ExposureRecord, makeNumberHasher } from "./audit/record.ts"
export type { NumberHasher } from "./audit/record.ts"
