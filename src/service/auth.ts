/**
 * API keys on `/v1/*`: `Authorization: Bearer <key>`, checked against PRECALL_API_KEYS in constant time.
 * The exposures endpoint takes admin keys (PRECALL_ADMIN_KEYS) instead, and only them: the two lists
 * are disjoint (config.ts), so a decision key cannot read exposures and an admin key cannot decide.
 *
 * A key is named in records and logs by its id, `k_` + the first 12 hex digits of its SHA-256
 * (`printf %s "$KEY" | sha256sum | cut -c1-12`), never by itself.
 */
import { Context, Effect, Layer, Redacted, Result } from "effect"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import { hash, timingSafeEqual } from "node:crypto"
import { Unauthorized, unauthorized } from "./errors.ts"

export class Authorization extends HttpApiMiddleware.Service<Authorization>()("precall/service/Authorization", {
  security: { bearer: HttpApiSecurity.bearer },
  error: Unauthorized
}) {}

/** SHA-256 of a key, the one-shot form (no Hash object). */
const digest = (s: string): Buffer => hash("sha256", s, "buffer")

/** The id a key is known by in audit records and logs: `k_` + 12 hex digits of its SHA-256. */
export const keyIdOf = (key: string): string => `k_${digest(key).toString("hex").slice(0, 12)}`

/**
 * The id of the key `presented` is, or undefined; every key is compared, so timing does not tell
 * which one matched.
 *
 * Constant time without a hash per request: each key is kept zero-padded in a buffer as long as the
 * longest one; the presented key is written (cut to that length) into a buffer of the same size and
 * compared with every key by `timingSafeEqual`, its byte length with each key's by a plain integer
 * compare. The work does not depend on how much of a key matches, nor on which key, and a key too
 * long is cut, not refused early. A SHA-256 per request, which this replaces, was ~11k instructions
 * of a status-cache hit's ~270k (issue 11); this check is ~2k. The buffer is cleared again after
 * each check, so no presented key stays in memory.
 */
export const makeKeyMatch = (keys: ReadonlyArray<Redacted.Redacted<string>>): ((presented: string) => string | undefined) => {
  const width = Math.max(1, ...keys.map((k) => Buffer.byteLength(Redacted.value(k))))
  const known = keys.map((k) => {
    const padded = Buffer.alloc(width)
    return { padded, length: padded.write(Redacted.value(k)), id: keyIdOf(Redacted.value(k)) }
  })
  const candidate = Buffer.alloc(width)
  return (presented) => {
    const length = Buffer.byteLength(presented)
    // zero from the last check's clearing (or from alloc)
    candidate.write(presented)
    let match: string | undefined = undefined
    for (const k of known) if (timingSafeEqual(k.padded, candidate) && k.length === length) match = k.id
    candidate.fill(0)
    return match
  }
}

/** True when `presented` is one of `keys`. */
export const makeKeyCheck = (keys: ReadonlyArray<Redacted.Redacted<string>>): ((presented: string) => boolean) => {
  const match = makeKeyMatch(keys)
  return (presented) => match(presented) !== undefined
}

/** The id of the API key that authorised the current request; null when the API is open (the demo). */
export const CurrentApiKeyId = Context.Reference<string | null>("precall/service/CurrentApiKeyId", { defaultValue: () => null })

/**
 * The credential of an `Authorization` header as HttpApiSecurity.bearer reads it (RFC 9110 §11.1: the
 * scheme is case-insensitive, one or more spaces follow it), "" when there is none. The decision
 * route served on node:http (decisionRoute.ts) reads its key with this.
 */
export const bearerCredential = (authorization: string | undefined): string => {
  const scheme = "bearer"
  if (authorization === undefined || authorization.length <= scheme.length || authorization.charCodeAt(scheme.length) !== 32) return ""
  if (authorization.slice(0, scheme.length).toLowerCase() !== scheme) return ""
  let start = scheme.length + 1
  while (authorization.charCodeAt(start) === 32) start++
  return authorization.slice(start)
}

/**
 * The API-key check of `/v1/*`, for both the HttpApi middleware and the decision route on node:http:
 * the id of the key presented, null when the API is open (no keys: only the embedded emulator demo
 * is allowed to run like that, see config.ts), or the 401.
 */
export const makeApiKeyAuthorize = (keys: ReadonlyArray<Redacted.Redacted<string>>): ((presented: string) => Result.Result<string | null, Unauthorized>) => {
  const match = makeKeyMatch(keys)
  return (presented) => {
    if (keys.length === 0) return Result.succeed(null)
    if (presented === "") return Result.fail(unauthorized("missing API key: send Authorization: Bearer <key>"))
    const id = match(presented)
    return id !== undefined ? Result.succeed(id) : Result.fail(unauthorized("unknown API key"))
  }
}

export const authorizationLayer = (keys: ReadonlyArray<Redacted.Redacted<string>>): Layer.Layer<Authorization> => {
  const authorize = makeApiKeyAuthorize(keys)
  return Layer.succeed(Authorization, {
    bearer: (httpEffect, { credential }) => {
      const who = authorize(Redacted.value(credential))
      if (Result.isFailure(who)) return Effect.fail(who.failure)
      return who.success === null ? httpEffect : Effect.provideService(httpEffect, CurrentApiKeyId, who.success)
    }
  })
}

/** Admin keys, on the exposures endpoint only. */
export class AdminAuthorization extends HttpApiMiddleware.Service<AdminAuthorization>()("precall/service/AdminAuthorization", {
  security: { bearer: HttpApiSecurity.bearer },
  error: Unauthorized
}) {}

/**
 * Admin keys: with none, the exposures endpoint refuses everyone, except in the open demo (`open`:
 * no API keys either), where it is as open as the rest.
 */
export const adminAuthorizationLayer = (keys: ReadonlyArray<Redacted.Redacted<string>>, open: boolean): Layer.Layer<AdminAuthorization> => {
  const match = makeKeyMatch(keys)
  return Layer.succeed(AdminAuthorization, {
    bearer: (httpEffect, { credential }) => {
      if (keys.length === 0 && open) return httpEffect
      if (keys.length === 0) return Effect.fail(unauthorized("no admin keys configured: set PRECALL_ADMIN_KEYS to read exposures"))
      const presented = Redacted.value(credential)
      if (presented === "") return Effect.fail(unauthorized("missing admin key: send Authorization: Bearer <admin key>"))
      const id = match(presented)
      return id !== undefined ? Effect.provideService(httpEffect, CurrentApiKeyId, id) : Effect.fail(unauthorized("unknown admin key"))
    }
  })
}
