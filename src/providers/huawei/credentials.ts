/**
 * Where the Huawei adapter's app keys and the CEC AK/SK come from. With none configured, the
 * emulator's demo pairs (src/emulator/huawei accepts exactly these), but only for a loopback
 * endpoint, so a missing secret can never send demo credentials to Huawei.
 */
import { Redacted } from "effect"
import { isLoopbackEndpoint } from "../../policy/endpoint.ts"
import type { Settings } from "../../policy/settings.ts"
import type { HuaweiApp } from "./signature.ts"

/** The AXB app the emulator accepts; worthless anywhere else. */
export const DEMO_APP_KEY = "demoAppKey0001"
export const DEMO_APP_SECRET = "demoAppSecret0001"
/** The AX app the emulator accepts. */
export const DEMO_AX_APP_KEY = "demoAxAppKey0001"
export const DEMO_AX_APP_SECRET = "demoAxAppSecret0001"
/** The CEC AK/SK the emulator accepts. */
export const DEMO_CEC_AK = "demoCecAk0001"
export const DEMO_CEC_SK = "demoCecSk0001"

export interface HuaweiApps {
  readonly axb: HuaweiApp
  /** Undefined when no AX app is configured (AX calls then go out under the AXB app). */
  readonly ax: HuaweiApp | undefined
}

type HuaweiSettings = Pick<Settings, "huaweiEndpoint" | "huaweiAppKey" | "huaweiAppSecret" | "huaweiAxAppKey" | "huaweiAxAppSecret" | "huaweiAuth">

/** The configured apps; with no AXB app configured, both demo apps for a loopback endpoint; else undefined (Huawei not configured). */
export const resolveHuaweiApps = (s: HuaweiSettings): HuaweiApps | undefined => {
  const app = (appKey: string, appSecret: Redacted.Redacted<string>): HuaweiApp => ({ appKey, appSecret, auth: s.huaweiAuth })
  if (s.huaweiAppKey !== undefined && s.huaweiAppSecret !== undefined) {
    return {
      axb: app(s.huaweiAppKey, s.huaweiAppSecret),
      ax: s.huaweiAxAppKey !== undefined && s.huaweiAxAppSecret !== undefined ? app(s.huaweiAxAppKey, s.huaweiAxAppSecret) : undefined
    }
  }
  return isLoopbackEndpoint(s.huaweiEndpoint)
    ? { axb: app(DEMO_APP_KEY, Redacted.make(DEMO_APP_SECRET)), ax: app(DEMO_AX_APP_KEY, Redacted.make(DEMO_AX_APP_SECRET)) }
    : undefined
}

/** The configured CEC AK/SK; the demo pair for a loopback CEC endpoint; else undefined (CEC not configured). */
export const resolveCecCredentials = (
  s: Pick<Settings, "huaweiCecEndpoint" | "huaweiCecAk" | "huaweiCecSk">
): { readonly ak: string; readonly sk: Redacted.Redacted<string> } | undefined =>
  s.huaweiCecAk !== undefined && s.huaweiCecSk !== undefined
    ? { ak: s.huaweiCecAk, sk: s.huaweiCecSk }
    : isLoopbackEndpoint(s.huaweiCecEndpoint)
    ? { ak: DEMO_CEC_AK, sk: Redacted.make(DEMO_CEC_SK) }
    : undefined
