/**
 * API keys on `/v1/*`: `Authorization: Bearer <key>`, checked against PRECALL_API_KEYS in constant time.
 */
import { Effect, Layer, Redacted } from "effect"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import { createHash, timingSafeEqual } from "node:crypto"
import { Unauthorized, unauthorized } from "./errors.ts"

export class Authorization extends HttpApiMiddleware.Service<Authorization>()("precall/service/Authorization", {
  security: { bearer: HttpApiSecurity.bearer },
  error: Unauthorized
}) {}

// Digests have a fixed length, so timingSafeEqual never throws and the comparison time does not
// depend on how long the presented key is or how much of it matches.
const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest()

/** True when `presented` is one of `keys`; every key is compared, so timing does not tell which one matched. */
export const makeKeyCheck = (keys: ReadonlyArray<Redacted.Redacted<string>>): ((presented: string) => boolean) => {
  const digests = keys.map((k) => digest(Redacted.value(k)))
  return (presented) => {
    const candidate = digest(presented)
    let match = false
    for (const d of digests) match = timingSafeEqual(d, candidate) || match
    return match
  }
}

/** With no keys the API is open: only the embedded emulator demo is allowed to run like that (see config.ts). */
export const authorizationLayer = (keys: ReadonlyArray<Redacted.Redacted<string>>): Layer.Layer<Authorization> => {
  const isKnown = makeKeyCheck(keys)
  return Layer.succeed(Authorization, {
    bearer: (httpEffect, { credential }) => {
      if (keys.length === 0) return httpEffect
      const presented = Redacted.value(credential)
      if (presented === "") return Effect.fail(unauthorized("missing API key: send Authorization: Bearer <key>"))
      return isKnown(presented) ? httpEffect : Effect.fail(unauthorized("unknown API key"))
    }
  })
}
