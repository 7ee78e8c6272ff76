/**
 * Which provider endpoints precall will talk to. "Loopback" is decided on the address, not on how the
 * name looks: `https://127.evil.example` is a public name and never receives the emulator's demo key
 * pair. Anything that is not loopback must be https, and no endpoint may carry credentials in its URL
 * (they would end up in logs and error messages).
 */
import { isIPv4 } from "node:net"

/** 127.0.0.0/8, `localhost` or [::1]; the WHATWG URL parser has already normalised shorthand like 127.1. */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || (isIPv4(hostname) && hostname.split(".")[0] === "127")

export const isLoopbackEndpoint = (endpoint: string): boolean => {
  try {
    return isLoopbackHost(new URL(endpoint).hostname)
  } catch {
    return false
  }
}

/** Why `endpoint` is not acceptable as a provider endpoint, or undefined when it is. */
export const endpointProblem = (endpoint: string): string | undefined => {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return "expected an http(s) URL with no path, e.g. https://dyplsapi.aliyuncs.com"
  }
  if (url.username !== "" || url.password !== "") return "must not carry a user name or password"
  if (url.protocol !== "https:" && url.protocol !== "http:") return "expected an http(s) URL"
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) return "must be https unless it is a loopback address (127.0.0.0/8, localhost, [::1])"
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") return "expected an http(s) URL with no path, query or fragment, e.g. https://dyplsapi.aliyuncs.com"
  return undefined
}
