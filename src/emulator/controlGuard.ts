/**
 * Who may drive an emulator's control API (every provider's emulator uses this one guard): requests
 * whose Host is a loopback address (a page on another site, or a DNS-rebound name, sends its own
 * Host), with a JSON body when they send one (a browser form cannot send application/json without a
 * CORS preflight, which nothing here answers), and with the control token when one is configured.
 */
import { timingSafeEqual } from "node:crypto"
import type { IncomingMessage } from "node:http"
import { isLoopbackHost } from "../policy/endpoint.ts"

export interface ControlRefusal {
  readonly status: number
  readonly code: string
  readonly message: string
}

/** `127.0.0.0/8`, `localhost` or `[::1]`, with an optional port: what a Host header on loopback says. */
const isLoopbackHostHeader = (host: string | undefined): boolean => {
  if (host === undefined) return false
  try {
    return isLoopbackHost(new URL(`http://${host}`).hostname)
  } catch {
    return false
  }
}

/** Undefined when the request may drive the emulator, else what to answer. */
export const controlDenied = (controlToken: string | undefined, req: IncomingMessage, body: Buffer): ControlRefusal | undefined => {
  if (!isLoopbackHostHeader(req.headers.host)) return { status: 403, code: "Forbidden", message: "the control API answers loopback Host headers only" }
  if (controlToken !== undefined) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? ""
    const a = Buffer.from(given)
    const b = Buffer.from(controlToken)
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { status: 401, code: "Unauthorized", message: "the control API needs authorization: Bearer <control token>" }
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
  if (body.length > 0 && type !== "application/json") return { status: 415, code: "UnsupportedMediaType", message: "control API bodies are application/json" }
  return undefined
}
