/**
 * The result codes the emulator answers with (shared/providers/huawei.md §3.4): `resultdesc` and the
 * HTTP status of each. Statuses in square brackets in huawei.md are used as printed, and the header
 * checks answer 400 as Huawei's voice-call table shows them. The rest are the emulator's guesses (no
 * public table prints them): 400 for a bad key or time, 403 for a blocked account or a mode
 * mismatch, 405 for a wrong method, 200 for every other business code.
 */

export interface HuaweiResult {
  readonly status: number
  /** Undefined only for the 401 answers (invalid digest, replayed nonce), which come without one. */
  readonly resultcode: string | undefined
  readonly resultdesc: string
}

const TABLE: Readonly<Record<string, readonly [number, string]>> = {
  "0": [200, "Success"],
  "1010001": [500, "Internal error."],
  "1010002": [403, "Invalid request."],
  "1010003": [400, "Invalid app_key."],
  "1010006": [405, "The HTTP method is not allowed for this URI."],
  "1010007": [403, "The account is not active (in arrears)."],
  "1010008": [403, "The app_key is suspended."],
  "1010010": [200, "Flow control: too many requests, retry in a minute."],
  "1010013": [400, "Time out limit."],
  "1010029": [403, "The subscriber is frozen."],
  "1010040": [403, "The app_key is not allowed to access this API."],
  "1011001": [200, "The number does not exist."],
  "1011003": [200, "The number of privacy numbers bound to the user has reached the upper limit."],
  "1011004": [403, "The number does not belong to this app."],
  "1011005": [200, "Resources have been allocated/Resource has been applied."],
  "1012001": [403, "The number does not belong to this app."],
  "1012007": [200, "The record does not exist."],
  "1012010": [200, "The relation number has been bound."],
  "1012102": [200, "The number status is abnormal."],
  "1023001": [500, "Internal timeout."],
  "1023002": [500, "Internal timeout."],
  "1023006": [400, "Authorization not contained in the HTTP header."],
  "1023007": [400, "realm not contained in Authorization."],
  "1023008": [400, "profile not contained in Authorization."],
  "1023009": [400, "The value of realm in Authorization must be SDP."],
  "1023010": [400, "The value of profile in Authorization must be UsernameToken."],
  "1023011": [400, "The value of type in Authorization must be app_key."],
  "1023012": [400, "type not contained in Authorization."],
  "1023013": [400, "The scheme of Authorization must be AKSK or WSSE."],
  "1023026": [400, "HTTP header not found X-WSSE field."],
  "1023027": [400, "UserName not contained in X-WSSE."],
  "1023028": [400, "Nonce not contained in X-WSSE."],
  "1023029": [400, "Created not contained in X-WSSE."],
  "1023030": [400, "PasswordDigest not contained in X-WSSE."],
  "1023031": [400, "The format of Created in X-WSSE is invalid."],
  "1023033": [400, "HTTP header not found X-AKSK field."],
  "1023034": [400, "UserName not contained in X-AKSK."],
  "1023035": [400, "Nonce not contained in X-AKSK."],
  "1023036": [400, "Created not contained in X-AKSK or not well formatted."],
  "1023037": [400, "PasswordDigest not contained in X-AKSK."],
  // The emulator's own code for "no free X in the requested area": huawei.md §3.4 says the case
  // exists but no public source gives its number.
  "1012008": [200, "No available number resources."]
}

/** "No free X in the area" (strict areaMatchMode, or the app's pool is used up): the emulator's own code. */
export const NO_FREE_X = "1012008"

/** A result by code; `detail` replaces the description (1010002 names the offending parameter). */
export const result = (code: string, detail?: string): HuaweiResult => {
  const [status, desc] = TABLE[code] ?? [200, "Injected fault."]
  return { status, resultcode: code, resultdesc: detail ?? desc }
}

/** 1010002 naming the parameter, as Huawei's desc usually does. */
export const badParameter = (parameter: string, why = "is invalid"): HuaweiResult => result("1010002", `Invalid request: ${parameter} ${why}.`)
