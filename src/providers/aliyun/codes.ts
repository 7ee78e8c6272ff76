/**
 * Every Dyplsapi business code, cams (ChatApp) code and gateway code of shared/providers/aliyun.md
 * §5, §7 and §8, classified once. The adapter and the emulator both read this table; nothing else
 * branches on Aliyun codes.
 */
import type { ErrorClass } from "../../domain/errors.ts"
import { LocalCodes } from "../../domain/errors.ts"

/** Exact codes. `isv.FORBIDDEN_ACTION` is refined by its message in `classifyAliyunCode`. */
export const aliyunCodeClasses: Readonly<Record<string, ErrorClass>> = {
  // Business codes (HTTP 200 with Code != OK)
  "isp.SYSTEM_ERROR": "transient",
  "isp.DAO_EXCEPTION": "transient",
  "isp.UNKNOWN_ERR_CODE": "transient",
  "isp.GATEWAY_ERROR": "transient",
  // The doc says "retry later"; bounded by the retry policy, then the degraded decision.
  "isv.PARTNER_NOT_EXIST": "transient",
  "isv.FLOW_LIMIT": "throttled",
  "isv.NO_AVAILABLE_NUMBER": "pool",
  "isp.VENDOR_UNAVAILABLE": "pool",
  "isv.VENDOR_BIND_FAILED": "pool",
  "isv.NO_USED_BY_OTHERS": "pool",
  "isv.SUBS_NOT_EXIST": "binding",
  "isv.BIND_CONFLICT": "binding",
  "isv.UPDATE_CONFLICT": "binding",
  "isv.NO_NOT_EXIST": "binding",
  "isv.FORBIDDEN_ACTION": "configuration",
  "isv.EXPIRE_DATE_ILLEGAL": "bad-input",
  "isv.MOBILE_NUMBER_ILLEGAL": "bad-input",
  "isv.ILLEGAL_ARGUMENT": "bad-input",
  "isv.INVALID_PARAMETERS": "bad-input",
  "isp.RAM_PERMISSION_DENY": "configuration",
  "isv.OUT_OF_SERVICE": "configuration",
  "isv.PRODUCT_UN_SUBSCRIPT": "configuration",
  "isv.PRODUCT_UNSUBSCRIBE": "configuration",
  "isv.ACCOUNT_NOT_EXISTS": "configuration",
  "isv.ACCOUNT_ABNORMAL": "configuration",
  "isv.PARTNER_IS_CLOSED": "configuration",
  "isv.POOLKEY_NOT_EXISTS": "configuration",
  "isv.SUBS_NOT_BELONG": "configuration",
  "isv.BUY_NUM_OVER_LIMIT": "configuration",
  // cams (ChatApp) codes, all HTTP 400 (aliyun.md §8)
  "Product.Unsubscript": "configuration",
  "Ram.PermissionDeny": "configuration",
  "System.LimitControl": "throttled",
  "Unknown.ResourceOwnerId": "configuration",
  // Gateway (POP) codes
  "Throttling.User": "throttled",
  "Throttling.Api": "throttled",
  Throttling: "throttled",
  // A reused nonce is fixed by re-signing, which every attempt does.
  SignatureNonceUsed: "transient",
  // Clock skew: re-signing will not help while the local clock is wrong.
  "InvalidTimeStamp.Expired": "configuration",
  "InvalidTimeStamp.Format": "bad-input",
  InternalError: "transient",
  ServiceUnavailable: "transient",
  SignatureDoesNotMatch: "configuration",
  "Forbidden.RAM": "configuration",
  InvalidVersion: "configuration",
  InvalidSignatureMethod: "configuration",
  UnsupportedHTTPMethod: "configuration",
  "InvalidParameter.Format": "bad-input",
  [LocalCodes.connection]: "transient",
  [LocalCodes.timeout]: "transient",
  [LocalCodes.malformed]: "transient"
}

/** Families of gateway codes named by a pattern in §5/§7, checked after the exact table. */
const patterns: ReadonlyArray<readonly [RegExp, ErrorClass]> = [
  [/^Throttling(\.|$)/, "throttled"],
  [/^InvalidAccessKeyId\./, "configuration"],
  [/^Invalid[A-Za-z]+\.NotFound$/, "configuration"],
  [/^InvalidProtocol\./, "configuration"],
  [/^Forbidden(\.|$)/, "configuration"],
  [/^Missing[A-Z]/, "bad-input"],
  [/^Invalid[A-Z]/, "bad-input"],
  [/^Reply\.HttpStatus5\d\d$/, "transient"],
  [/^Reply\.HttpStatus429$/, "throttled"],
  [/^Reply\.HttpStatus4\d\d$/, "configuration"]
]

/**
 * The class of an Aliyun code. `isv.FORBIDDEN_ACTION` means an expired binding when its message says
 * so (binding class: rebind), otherwise a pool/number misconfiguration. Unknown `isp.*` codes are the
 * platform's (transient); any other unknown code is treated as configuration so it is never retried blindly.
 */
export const classifyAliyunCode = (code: string, message = ""): ErrorClass => {
  if (code === "isv.FORBIDDEN_ACTION" && /expire|过期/i.test(message)) return "binding"
  const exact = aliyunCodeClasses[code]
  if (exact !== undefined) return exact
  for (const [re, c] of patterns) if (re.test(code)) return c
  return code.startsWith("isp.") ? "transient" : "configuration"
}
