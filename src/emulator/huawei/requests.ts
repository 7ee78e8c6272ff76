/**
 * Reading privacy-call requests: the JSON body of POST/PUT, the query string of GET/DELETE, into the
 * typed requests of state.ts. Anything malformed is `1010002` naming the parameter, as Huawei's desc
 * does (huawei.md §3.4, §7): numbers without `+86`, stray spaces, a `+` sent raw in a query string
 * (it decodes to a space), out-of-range integers, mutually exclusive parameters.
 */
import { E164_CN } from "./options.ts"
import { badParameter } from "./results.ts"
import type { HuaweiResult } from "./results.ts"
import { MAX_DURATION_SECONDS } from "./state.ts"
import type { AxbBindRequest, AxbChanges, AxbQuery, AxBindRequest, AxQuery, AxSettings, AxTarget, Changes, PreVoice } from "./state.ts"

export type Parsed<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: HuaweiResult }

/** Thrown inside a parser and caught at its edge, so each field check is one line. */
class Invalid {
  readonly error: HuaweiResult
  constructor(error: HuaweiResult) {
    this.error = error
  }
}

const invalid = (parameter: string, why?: string): never => {
  throw new Invalid(badParameter(parameter, why))
}

const parsing = <A>(run: () => A): Parsed<A> => {
  try {
    return { ok: true, value: run() }
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.error }
    throw e
  }
}

type Fields = Readonly<Record<string, unknown>>

const text = (f: Fields, name: string, max = 256): string | undefined => {
  const v = f[name]
  if (v === undefined || v === null || v === "") return undefined
  if (typeof v !== "string" || v.length > max) return invalid(name, `must be a string of at most ${max} characters`)
  return v
}

const number = (f: Fields, name: string): string | undefined => {
  const v = text(f, name, 32)
  if (v !== undefined && !E164_CN.test(v)) invalid(name, "must be an E.164 number with +86 and no spaces")
  return v
}

const required = <A>(v: A | undefined, name: string): A => v ?? invalid(name, "is missing")

const integer = (f: Fields, name: string, min: number, max: number): number | undefined => {
  const raw = f[name]
  if (raw === undefined || raw === null) return undefined
  // query strings carry digits; JSON bodies carry numbers
  const v = typeof raw === "string" && /^\d{1,10}$/.test(raw) ? Number(raw) : raw
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) return invalid(name, `must be an integer ${min}..${max}`)
  return v
}

const oneOf = <A extends string>(f: Fields, name: string, values: ReadonlyArray<A>): A | undefined => {
  const v = f[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== "string" || !(values as ReadonlyArray<string>).includes(v)) return invalid(name, `must be one of ${values.map((x) => `"${x}"`).join(", ")}`)
  return v as A
}

const flag = (f: Fields, name: string): boolean | undefined => {
  const v = oneOf(f, name, ["true", "false"])
  return v === undefined ? undefined : v === "true"
}

const userData = (f: Fields): string | undefined => {
  const v = text(f, "userData", 256)
  if (v !== undefined && /[{}]/.test(v)) invalid("userData", "must not contain { or }")
  return v
}

const areaCode = (f: Fields): string | undefined => {
  const v = text(f, "areaCode", 32)
  if (v !== undefined && !/^\d{1,32}$/.test(v)) invalid("areaCode", "must be digits")
  return v
}

const preVoice = (f: Fields): PreVoice | undefined => {
  const v = f["preVoice"]
  if (v === undefined || v === null) return undefined
  if (typeof v !== "object" || Array.isArray(v)) return invalid("preVoice", "must be an object")
  return { callerHintTone: text(v as Fields, "callerHintTone"), calleeHintTone: text(v as Fields, "calleeHintTone") }
}

/** lastMinVoice is played a minute before maxDuration runs out: without a cap it cannot be played. */
const checkLastMinVoice = (lastMinVoice: string | undefined, maxDuration: number | undefined): void => {
  if (lastMinVoice !== undefined && maxDuration === undefined) invalid("lastMinVoice", "needs maxDuration > 0")
}

const direction = (f: Fields): 0 | 1 | 2 | undefined => integer(f, "callDirection", 0, 2) as 0 | 1 | 2 | undefined

export const parseAxbBind = (f: Fields): Parsed<AxbBindRequest> =>
  parsing(() => {
    const callerNum = required(number(f, "callerNum"), "callerNum")
    const calleeNum = required(number(f, "calleeNum"), "calleeNum")
    if (callerNum === calleeNum) invalid("calleeNum", "must differ from callerNum")
    const maxDuration = integer(f, "maxDuration", 0, 1440) || undefined
    const lastMinVoice = text(f, "lastMinVoice")
    checkLastMinVoice(lastMinVoice, maxDuration)
    return {
      relationNum: number(f, "relationNum"),
      areaCode: areaCode(f),
      areaMatchMode: oneOf(f, "areaMatchMode", ["0", "1"]) ?? "0",
      callerNum,
      calleeNum,
      callDirection: direction(f) ?? 0,
      duration: integer(f, "duration", 0, MAX_DURATION_SECONDS) ?? 0,
      maxDuration: maxDuration ?? 0,
      lastMinVoice,
      recordFlag: flag(f, "recordFlag") ?? false,
      recordHintTone: text(f, "recordHintTone"),
      privateSms: flag(f, "privateSms"),
      preVoice: preVoice(f),
      userData: userData(f)
    }
  })

export const parseAxbModify = (f: Fields): Parsed<{ readonly subscriptionId: string; readonly changes: AxbChanges }> =>
  parsing(() => ({
    subscriptionId: required(text(f, "subscriptionId", 64), "subscriptionId"),
    changes: {
      callerNum: number(f, "callerNum"),
      calleeNum: number(f, "calleeNum"),
      callDirection: direction(f),
      duration: integer(f, "duration", 0, MAX_DURATION_SECONDS),
      maxDuration: integer(f, "maxDuration", 0, 1440),
      lastMinVoice: text(f, "lastMinVoice"),
      privateSms: flag(f, "privateSms"),
      recordFlag: flag(f, "recordFlag"),
      preVoice: preVoice(f),
      userData: userData(f)
    }
  }))

export const parseAxbQuery = (f: Fields): Parsed<AxbQuery> =>
  parsing(() => {
    const subscriptionId = text(f, "subscriptionId", 64)
    const relationNum = number(f, "relationNum")
    if (subscriptionId === undefined && relationNum === undefined) invalid("subscriptionId", "or relationNum is required")
    return {
      subscriptionId,
      relationNum,
      callerNum: number(f, "callerNum"),
      calleeNum: number(f, "calleeNum"),
      pageIndex: integer(f, "pageIndex", 1, 1_000_000) ?? 1,
      pageSize: integer(f, "pageSize", 10, 100) ?? 50
    }
  })

export const parseAxbUnbind = (f: Fields): Parsed<{ readonly subscriptionId?: string | undefined; readonly relationNum?: string | undefined }> =>
  parsing(() => {
    const subscriptionId = text(f, "subscriptionId", 64)
    const relationNum = number(f, "relationNum")
    if (subscriptionId === undefined && relationNum === undefined) invalid("subscriptionId", "or relationNum is required")
    return { subscriptionId, relationNum }
  })

const axSettings = (f: Fields): Changes<AxSettings> => {
  const maxDuration = integer(f, "maxDuration", 0, 1440)
  const lastMinVoice = text(f, "lastMinVoice")
  return {
    calleeNumDisplay: oneOf(f, "calleeNumDisplay", ["0", "1"]),
    maxDuration,
    lastMinVoice,
    recordFlag: flag(f, "recordFlag"),
    recordHintTone: text(f, "recordHintTone"),
    privateSms: flag(f, "privateSms"),
    preVoice: preVoice(f),
    userData: userData(f)
  }
}

export const parseAxBind = (f: Fields): Parsed<AxBindRequest> =>
  parsing(() => {
    const s = axSettings(f)
    checkLastMinVoice(s.lastMinVoice, s.maxDuration || undefined)
    oneOf(f, "privateNumType", ["mobile-virtual"])
    return {
      origNum: required(number(f, "origNum"), "origNum"),
      privateNum: number(f, "privateNum"),
      areaCode: areaCode(f),
      areaMatchMode: oneOf(f, "areaMatchMode", ["0", "1"]) ?? "0",
      calleeNumDisplay: s.calleeNumDisplay ?? "0",
      maxDuration: s.maxDuration ?? 0,
      lastMinVoice: s.lastMinVoice,
      recordFlag: s.recordFlag ?? false,
      recordHintTone: s.recordHintTone,
      privateSms: s.privateSms,
      preVoice: s.preVoice,
      userData: s.userData
    }
  })

/** subscriptionId, or origNum and privateNum together. */
const axTarget = (f: Fields): AxTarget => {
  const subscriptionId = text(f, "subscriptionId", 64)
  if (subscriptionId !== undefined) return { subscriptionId }
  const origNum = number(f, "origNum")
  const privateNum = number(f, "privateNum")
  if (origNum === undefined || privateNum === undefined) return invalid("subscriptionId", "or origNum and privateNum are required")
  return { origNum, privateNum }
}

export const parseAxModify = (f: Fields): Parsed<{ readonly target: AxTarget; readonly changes: Changes<AxSettings> }> =>
  parsing(() => ({ target: axTarget(f), changes: axSettings(f) }))

export const parseAxQuery = (f: Fields): Parsed<AxQuery> =>
  parsing(() => {
    const subscriptionId = text(f, "subscriptionId", 64)
    if (subscriptionId !== undefined) return { subscriptionId }
    const origNum = number(f, "origNum")
    if (origNum !== undefined) return { origNum }
    const privateNum = number(f, "privateNum")
    return privateNum !== undefined ? { privateNum } : invalid("subscriptionId", "or origNum or privateNum is required")
  })

export const parseAxUnbind = (f: Fields): Parsed<AxTarget> => parsing(() => axTarget(f))

/** Temporary callee: `subscriptionId` or `privateNum`, and the `calleeNum` A reaches next. */
export const parseAxCallee = (f: Fields): Parsed<{ readonly target: { readonly subscriptionId: string } | { readonly privateNum: string }; readonly calleeNum: string }> =>
  parsing(() => {
    const subscriptionId = text(f, "subscriptionId", 64)
    const privateNum = number(f, "privateNum")
    const calleeNum = required(number(f, "calleeNum"), "calleeNum")
    if (subscriptionId !== undefined) return { target: { subscriptionId }, calleeNum }
    return privateNum !== undefined ? { target: { privateNum }, calleeNum } : invalid("subscriptionId", "or privateNum is required")
  })
