/**
 * Numbers on Huawei's wire (shared/providers/huawei.md §1): E.164 with `+86`; a fixed line is `+86`
 * plus its area code without the trunk 0 plus the local number (`010 1234 5678` → `+861012345678`).
 * precall itself speaks national digits (src/domain/phone.ts), so numbers are converted on the way out
 * and back on the way in: a decision dials the form the request and the binding used.
 */
import { normalizePhone } from "../../domain/phone.ts"

const MOBILE = /^1[3-9]\d{9}$/
/**
 * Mainland area codes are 010, 02x or 0 + three digits from 3-9: stricter than src/domain/phone.ts,
 * so that without the trunk 0 a fixed line can never be read back as a mobile (`+86 15…`).
 */
const FIXED_LINE = /^0(10|2\d|[3-9]\d{2})\d{7,8}$/

/**
 * A mainland number in any accepted spelling (11-digit mobile, `86…`, `+86…`, `0086…`, fixed line
 * with its 0 area code) as Huawei's E.164; undefined for anything else (service numbers such as
 * 95xxx / 400 included: Huawei binds none of them).
 */
export const toHuaweiNumber = (raw: string): string | undefined => {
  const compact = raw.replace(/[\s-]/g, "")
  // `86` before a national number: national numbers start with 1 or 0, never 8, so this is unambiguous
  const national = /^86[1-9]/.test(compact) && (MOBILE.test(compact.slice(2)) || FIXED_LINE.test(`0${compact.slice(2)}`))
    ? normalizePhone(`+${compact}`)
    : normalizePhone(compact)
  if (MOBILE.test(national)) return `+86${national}`
  if (FIXED_LINE.test(national)) return `+86${national.slice(1)}`
  return undefined
}

/** A number Huawei sent, in precall's national form (fixed lines get their trunk 0 back); undefined when it is not a mainland number. */
export const fromHuaweiNumber = (e164: string): string | undefined => {
  const national = normalizePhone(e164)
  return MOBILE.test(national) || FIXED_LINE.test(national) ? national : undefined
}
