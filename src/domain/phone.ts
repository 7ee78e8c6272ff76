/**
 * Phone numbers as precall sees them: mainland China mobile and fixed-line numbers, optionally in
 * E.164 (+86 / 86 prefix). Numbers are normalised to the national digit form providers expect.
 */
import { Schema, SchemaGetter } from "effect"

/** Mainland mobile: 11 digits starting 1[3-9]; this also covers 170/171 virtual-operator X numbers. */
const MOBILE = /^1[3-9]\d{9}$/
/** Fixed line: area code 0 + 2-3 digits, then a 7-8 digit local number, no separators. */
const FIXED_LINE = /^0[1-9]\d{1,2}\d{7,8}$/
/** 95/400-style service numbers are carried by some privacy pools (AXN_95). */
const SERVICE = /^(95\d{3,6}|400\d{7})$/

/** National form of a number: strips spaces, dashes and an E.164 +86 / 0086 / 86 prefix. */
export const normalizePhone = (raw: string): string => {
  // the usual spelling, a national mobile, is already its own national form
  if (MOBILE.test(raw)) return raw
  const compact = raw.replace(/[\s-]/g, "")
  const e164 = /^(\+86|0086)/.exec(compact)
  if (e164 !== null) {
    const rest = compact.slice(e164[0].length)
    // E.164 drops the trunk 0 of fixed lines: +86 10 1234 5678 is 010 1234 5678.
    return MOBILE.test(rest) || !FIXED_LINE.test(`0${rest}`) ? rest : `0${rest}`
  }
  return compact.length === 13 && compact.startsWith("86") && MOBILE.test(compact.slice(2)) ? compact.slice(2) : compact
}

export const isPhoneNumber = (s: string): boolean => MOBILE.test(s) || FIXED_LINE.test(s) || SERVICE.test(s)

const PhoneDigits = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) => isPhoneNumber(s), {
      expected: "a mainland China mobile (1[3-9] + 9 digits) or fixed-line (0 + area code + number) phone number, optionally +86"
    })
  ),
  Schema.brand("PhoneNumber")
)

/** A phone number, accepted as national digits or E.164 +86 and decoded to national digits. */
export const PhoneNumber = Schema.String.pipe(
  Schema.decodeTo(PhoneDigits, {
    decode: SchemaGetter.transform(normalizePhone),
    encode: SchemaGetter.transform((s: string) => s)
  })
)
export type PhoneNumber = typeof PhoneNumber.Type

/** Only ASCII digits: a number in its national form, which needs no clean-up before masking. */
const ASCII_DIGITS = /^[0-9]*$/

/** Full-width digits (U+FF10-FF19) as ASCII, so they are masked like any other digits. */
const asciiDigits = (text: string): string => text.replace(/[\uff10-\uff19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xff10 + 0x30))

/**
 * Masks a number for logs and errors: only the last 4 digits survive (13800138000 → ****8000), and
 * the mask has one length whatever the number's, so it tells nothing of the rest. Never log a number
 * without it.
 */
export const maskPhone = (n: string): string => {
  const digits = ASCII_DIGITS.test(n) ? n : asciiDigits(n).replace(/\D/g, "")
  return digits.length <= 4 ? "****" : `****${digits.slice(-4)}`
}

/**
 * A run of 7 or more digits however it is written: with spaces, dashes, dots or brackets between
 * them, a leading + / ＋ (as in +86), in ASCII or full-width digits.
 */
const NUMBER_RUN = /[+\uff0b]?[0-9\uff10-\uff19](?:[\s\-\u2010-\u2015\uff0d.()\uff08\uff09]*[0-9\uff10-\uff19]){6,}/g

/**
 * Masks every number in a text (a provider's error message may quote one, in any spelling): reasons
 * and logs carry such texts, and only `fallback-real` may carry a real number.
 */
export const maskNumbersIn = (text: string): string => text.replace(NUMBER_RUN, (n) => maskPhone(n))
