/**
 * Reply bodies as the POP gateway writes them: JSON (default) or XML (`Format=XML`), gateway errors
 * with `{RequestId, Code, Message, HostId, Recommend}` and their HTTP status (aliyun.md §5).
 */
import { randomUUID } from "node:crypto"

export const HOST_ID = "dyplsapi.aliyuncs.com"
export const PRODUCT = "Dyplsapi"

export type ReplyFormat = "JSON" | "XML"

/** Upper-case UUID, the shape of Aliyun request ids. */
export const newRequestId = (): string => randomUUID().toUpperCase()

/** Gateway codes the emulator answers itself, or that faults may inject, with status and message. */
const GATEWAY: Readonly<Record<string, readonly [number, string]>> = {
  SignatureDoesNotMatch: [400, "Specified signature is not matched with our calculation."],
  IncompleteSignature: [400, "The request signature does not conform to Aliyun standards."],
  "InvalidTimeStamp.Expired": [400, "Specified time stamp or date value is expired."],
  "InvalidTimeStamp.Format": [400, "Specified time stamp or date value is not well formatted."],
  SignatureNonceUsed: [400, "Specified signature nonce was used already."],
  "InvalidParameter.Format": [400, "Specified parameter Format is not valid."],
  InvalidParameter: [400, "Specified parameter is not valid."],
  InvalidSignatureMethod: [400, "Specified signature method is not valid."],
  InvalidVersion: [400, "Specified parameter Version is not valid."],
  UnsupportedHTTPMethod: [400, "This http method is not supported."],
  "InvalidAccessKeyId.NotFound": [404, "Specified access key is not found."],
  "InvalidAccessKeyId.Inactive": [400, "Specified access key is disabled."],
  "InvalidApi.NotFound": [404, "Specified api is not found, please check your url and method."],
  "InvalidAction.NotFound": [404, "Specified api is not found, please check your url and method."],
  "InvalidProduct.NotFound": [404, "Specified product is not found."],
  "Forbidden.RAM": [403, "User not authorized to operate on the specified resource, or this API doesn't support RAM."],
  "Throttling.User": [400, "Request was denied due to user flow control."],
  "Throttling.Api": [400, "Request was denied due to api flow control."],
  Throttling: [400, "Request was denied due to request throttling."],
  InternalError: [500, "The request processing has failed due to some unknown error, exception or failure."],
  ServiceUnavailable: [503, "The request has failed due to a temporary failure of the server."],
  EntityTooLarge: [413, "The request body is larger than 65536 bytes."],
  // cams codes (seed 001), all HTTP 400
  "Product.Unsubscript": [400, "You have not subscribed to the specified product."],
  "Ram.PermissionDeny": [400, "You are not authorized to perform the operation."],
  "System.LimitControl": [400, "The system is under flow control."],
  "Unknown.ResourceOwnerId": [400, "The resource does not belong to the current user."]
}

export interface GatewayError {
  readonly status: number
  readonly code: string
  readonly message: string
}

export const gatewayError = (code: string, detail?: string): GatewayError => {
  const [status, message] = GATEWAY[code] ?? [400, `${code}.`]
  return { status, code, message: detail === undefined ? message : `${message} ${detail}` }
}

export const missingParam = (param: string): GatewayError => ({ status: 400, code: `Missing${param}`, message: `${param} is mandatory for this action.` })

/** Business codes (isv.*, isp.*) ride on HTTP 200; gateway codes on their table status. */
export const defaultStatusOf = (code: string): number =>
  /^is[vp]\./.test(code) || code === "OK" ? 200 : (GATEWAY[code]?.[0] ?? 400)

export const defaultMessageOf = (code: string): string => GATEWAY[code]?.[1] ?? "Injected fault."

/** The error body; `host` and `product` name the product that answered (Dyplsapi unless told). */
export const gatewayErrorBody = (e: GatewayError, requestId: string, host = HOST_ID, product = PRODUCT): Record<string, unknown> => ({
  RequestId: requestId,
  HostId: host,
  Code: e.code,
  Message: e.message,
  Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}&product=${product}&requestId=${requestId}`
})

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!)

const xmlElement = (k: string, v: unknown): string =>
  typeof v === "object" ? `<${k}>${xmlElements(v as Record<string, unknown>)}</${k}>` : `<${k}>${escapeXml(String(v))}</${k}>`

/** A list is its element repeated under the list's name (`<PhoneNumbers>…</PhoneNumbers><PhoneNumbers>…`). */
const xmlElements = (obj: Readonly<Record<string, unknown>>): string =>
  Object.entries(obj)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => (Array.isArray(v) ? v.map((item) => xmlElement(k, item)).join("") : xmlElement(k, v)))
    .join("")

/**
 * Serialises a reply. Absent values are `undefined` in the body and left out, as the gateway's
 * serialiser does, so e.g. `CalledNo` is simply missing for status 3 and 4.
 */
export const renderBody = (format: ReplyFormat, root: string, body: Readonly<Record<string, unknown>>): { readonly contentType: string; readonly text: string } =>
  format === "XML"
    ? { contentType: "text/xml;charset=utf-8", text: `<?xml version='1.0' encoding='UTF-8'?><${root}>${xmlElements(body)}</${root}>` }
    : { contentType: "application/json;charset=utf-8", text: JSON.stringify(body) }

/** The reverse proxy's page when the backend is gone; Aliyun's edge runs Tengine. */
export const HTML_502 =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n"
