/**
 * The Dyplsapi actions the emulator serves: the parameters the gateway insists on (`Missing<Param>`)
 * and the translation between wire parameters / reply fields and the binding state.
 */
import { CAMS_ACTIONS } from "./cams.ts"
import { formatBeijing } from "./clock.ts"
import type { BindingExtras, BindingMode, BindingState, Outcome } from "./state.ts"

export const API_VERSION = "2017-05-25"

export type Params = Readonly<Record<string, string>>
export type ReplyFields = Readonly<Record<string, unknown>>

export interface ActionSpec {
  /** Checked by the gateway before the action runs; an empty value counts as missing. */
  readonly required: ReadonlyArray<string>
  /** `now` is the emulator clock; `wireOffsetMs` converts wire (wall-clock) Beijing strings to it. */
  readonly run: (state: BindingState, params: Params, now: number, wireOffsetMs: number) => Outcome<ReplyFields>
}

const opt = (p: Params, name: string): string | undefined => {
  const v = p[name]
  return v === undefined || v === "" ? undefined : v
}

const flag = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v.toLowerCase() === "true")

const extrasOf = (p: Params): BindingExtras => {
  const display = opt(p, "CallDisplayType")
  return {
    outId: opt(p, "OutId"),
    outOrderId: opt(p, "OutOrderId"),
    needRecord: flag(opt(p, "IsRecordingEnabled")),
    callRestrict: opt(p, "CallRestrict"),
    callDisplayType: display === undefined ? undefined : Number(display),
    asrStatus: flag(opt(p, "ASRStatus")),
    asrModelId: opt(p, "ASRModelId"),
    expectCity: opt(p, "ExpectCity")
  }
}

const bindAction = (mode: BindingMode, required: ReadonlyArray<string>): ActionSpec => ({
  required,
  run: (state, p, now, wireOffsetMs) => {
    const bound = state.bind(
      {
        mode,
        poolKey: opt(p, "PoolKey"),
        phoneNoA: p["PhoneNoA"]!,
        phoneNoB: opt(p, "PhoneNoB"),
        phoneNoX: opt(p, "PhoneNoX"),
        extension: mode === "AXN_EXTENSION" ? opt(p, "Extension") : undefined,
        expiration: p["Expiration"]!,
        extras: extrasOf(p)
      },
      now,
      wireOffsetMs
    )
    return bound.ok
      ? { ok: true, value: { SecretBindDTO: { SubsId: bound.value.subsId, SecretNo: bound.value.secretNo, Extension: bound.value.extension } } }
      : bound
  }
})

export const ACTIONS: Readonly<Record<string, ActionSpec>> = {
  BindAxb: bindAction("AXB", ["PhoneNoA", "PhoneNoB", "Expiration"]),
  BindAxn: bindAction("AXN", ["PhoneNoA", "Expiration"]),
  BindAxnExtension: bindAction("AXN_EXTENSION", ["PhoneNoA", "Expiration"]),
  QueryCallStatus: {
    required: ["PoolKey", "SubsId"],
    run: (state, p, now) => {
      const r = state.queryCallStatus(p["PoolKey"], p["SubsId"]!, now)
      return r.ok
        ? { ok: true, value: { SecretCallStatusDTO: { Status: r.value.status, CalledNo: r.value.calledNo, Extension: r.value.extension } } }
        : r
    }
  },
  QuerySubscriptionDetail: {
    required: ["SubsId", "PhoneNoX"],
    run: (state, p, now, wireOffsetMs) => {
      const r = state.querySubscriptionDetail(opt(p, "PoolKey"), p["SubsId"]!, p["PhoneNoX"]!, now)
      if (!r.ok) return r
      const b = r.value.binding
      return {
        ok: true,
        value: {
          SecretBindDetailDTO: {
            SubsId: b.subsId,
            PhoneNoA: b.phoneNoA,
            PhoneNoB: b.phoneNoB,
            PhoneNoX: b.phoneNoX,
            Extension: b.extension,
            Status: r.value.status,
            ExpireDate: formatBeijing(b.expiresAt - wireOffsetMs),
            GmtCreate: formatBeijing(b.createdAt - wireOffsetMs),
            NeedRecord: b.extras.needRecord ?? false,
            CallRestrict: b.extras.callRestrict,
            ASRStatus: b.extras.asrStatus ?? false,
            ASRModelId: b.extras.asrModelId
          }
        }
      }
    }
  },
  QuerySecretNoDetail: {
    required: ["PoolKey", "SecretNo"],
    run: (state, p, now) => {
      const r = state.querySecretNoDetail(p["PoolKey"], p["SecretNo"]!, now)
      return r.ok
        ? {
          ok: true,
          value: {
            SecretNoInfoDTO: { SecretNo: r.value.secretNo, SecretStatus: r.value.secretStatus, Vendor: 1, City: "杭州", Province: "浙江", CertifyStatus: 1 }
          }
        }
        : r
    }
  },
  UpdateSubscription: {
    required: ["SubsId", "PhoneNoX", "OperateType"],
    run: (state, p, now, wireOffsetMs) => {
      const r = state.updateSubscription(
        {
          poolKey: opt(p, "PoolKey"),
          subsId: p["SubsId"]!,
          phoneNoX: p["PhoneNoX"]!,
          operateType: p["OperateType"]!,
          phoneNoA: opt(p, "PhoneNoA"),
          phoneNoB: opt(p, "PhoneNoB"),
          expiration: opt(p, "Expiration"),
          callRestrict: opt(p, "CallRestrict"),
          callDisplayType: opt(p, "CallDisplayType"),
          outId: opt(p, "OutId"),
          isRecordingEnabled: opt(p, "IsRecordingEnabled")
        },
        now,
        wireOffsetMs
      )
      return r.ok ? { ok: true, value: {} } : r
    }
  },
  UnbindSubscription: {
    required: ["SubsId", "SecretNo"],
    run: (state, p, now) => {
      const r = state.unbind(opt(p, "PoolKey"), p["SubsId"]!, p["SecretNo"]!, now)
      return r.ok ? { ok: true, value: {} } : r
    }
  }
}

/** Every action served, Dyplsapi's and cams' (the names do not overlap). */
export const ACTION_NAMES: ReadonlyArray<string> = [...Object.keys(ACTIONS), ...Object.keys(CAMS_ACTIONS)]
