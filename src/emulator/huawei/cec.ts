/**
 * CEC mobile-agent call state (huawei.md §5): AK/SK tokens that expire on the emulator clock, and the
 * call states `queryCallState` reports, scripted by tests through the control API.
 */
import { randomBytes } from "node:crypto"

/** `X-Token-Expire` when absent, and its ceiling (one Huawei page states 3600). */
export const DEFAULT_TOKEN_SECONDS = 600
export const MAX_TOKEN_SECONDS = 3600

export interface CecToken {
  readonly accessToken: string
  readonly createdAt: number
  readonly expiresAt: number
}

/** One call as queryCallState reports it: state 0 to be called, 1 calling, 2 talking, 3 ended. */
export interface CecCall {
  readonly callSerialNo: string
  readonly state: 0 | 1 | 2 | 3
  /** 0-65535: 0 ended by callee, 1 by caller, 2-6 failures, or a Q.850 cause for ITA calls. */
  readonly reasonCode: number | undefined
  readonly caller: string | undefined
  readonly called: string | undefined
  readonly callData: string | undefined
  readonly callerPresent: string | undefined
  readonly agentPresent: string | undefined
  /** Epoch ms. */
  readonly startTime: number | undefined
  readonly endTime: number | undefined
}

/** What a test sets: the state and whatever else it cares about; times default from the emulator clock. */
export interface CecCallScript {
  readonly state: 0 | 1 | 2 | 3
  readonly reasonCode?: number | undefined
  readonly caller?: string | undefined
  readonly called?: string | undefined
  readonly callData?: string | undefined
  readonly callerPresent?: string | undefined
  readonly agentPresent?: string | undefined
  readonly startTime?: number | undefined
  readonly endTime?: number | undefined
}

/** Serial numbers are at most 50 characters; anything else is "malformed" (retCode 3). */
export const CALL_SERIAL_NO = /^[A-Za-z0-9_.:-]{1,50}$/

export class CecState {
  private readonly tokens = new Map<string, CecToken>()
  private readonly calls = new Map<string, CecCall>()

  issue(seconds: number, now: number): CecToken {
    // drop expired tokens here so the map stays as small as the live ones
    for (const [k, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(k)
    const token = { accessToken: randomBytes(24).toString("base64url"), createdAt: now, expiresAt: now + seconds * 1000 }
    this.tokens.set(token.accessToken, token)
    return token
  }

  /** A live token, or undefined when unknown or expired on the emulator clock. */
  valid(accessToken: string, now: number): CecToken | undefined {
    const t = this.tokens.get(accessToken)
    return t !== undefined && now < t.expiresAt ? t : undefined
  }

  /** Times not given keep their earlier value: a call's start is when it first left state 0, its end when it reached 3. */
  setCall(callSerialNo: string, s: CecCallScript, now: number): CecCall {
    const before = this.calls.get(callSerialNo)
    const call: CecCall = {
      callSerialNo,
      state: s.state,
      reasonCode: s.reasonCode ?? (s.state === 3 ? 0 : undefined),
      caller: s.caller,
      called: s.called,
      callData: s.callData,
      callerPresent: s.callerPresent,
      agentPresent: s.agentPresent,
      startTime: s.startTime ?? (s.state >= 1 ? (before?.startTime ?? now) : undefined),
      endTime: s.endTime ?? (s.state === 3 ? (before?.endTime ?? now) : undefined)
    }
    this.calls.set(callSerialNo, call)
    return call
  }

  call(callSerialNo: string): CecCall | undefined {
    return this.calls.get(callSerialNo)
  }

  get callCount(): number {
    return this.calls.size
  }

  get tokenCount(): number {
    return this.tokens.size
  }

  clear(): void {
    this.tokens.clear()
    this.calls.clear()
  }
}
