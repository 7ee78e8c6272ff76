/**
 * Authenticated values in the shared Redis. Whoever can write to Redis must not be able to mark an X
 * broken, hide a broken one or forge a binding: every value is stored as `v1.<mac>.<payload>`, the
 * mac an HMAC-SHA256 over the key and the payload under the secret the instances share, and a value
 * whose mac does not match (or that is moved to another key) is rejected as if absent, and counted.
 *
 * Key names are HMAC digests under the same secret (domain-separated), so no key carries a phone
 * number or a binding id in clear.
 */
import { Metric } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"

const VERSION = "v1"

/** Values read from Redis whose seal did not verify, by kind of evidence. */
export const evidenceForgedTotal = Metric.counter("precall_evidence_forged_total", {
  description: "Evidence values in the shared Redis rejected because their HMAC seal did not verify (tampered, or written under another secret)"
})

export interface Sealer {
  /** The value to store under `key`. */
  readonly seal: (key: string, payload: string) => string
  /** The payload if `raw` was sealed for `key` with this secret; undefined otherwise. */
  readonly open: (key: string, raw: string) => string | undefined
  /** A key name for `text` (e.g. provider and X number) that does not reveal it. */
  readonly digest: (text: string) => string
}

export const makeSealer = (secret: string): Sealer => {
  const mac = (key: string, payload: string): Buffer =>
    createHmac("sha256", secret).update(`seal\u0000${key}\u0000${payload}`).digest()
  return {
    seal: (key, payload) => `${VERSION}.${mac(key, payload).toString("base64url")}.${payload}`,
    open: (key, raw) => {
      const first = raw.indexOf(".")
      const second = raw.indexOf(".", first + 1)
      if (first < 0 || second < 0 || raw.slice(0, first) !== VERSION) return undefined
      const presented = Buffer.from(raw.slice(first + 1, second), "base64url")
      const payload = raw.slice(second + 1)
      const expected = mac(key, payload)
      return presented.length === expected.length && timingSafeEqual(presented, expected) ? payload : undefined
    },
    digest: (text) => createHmac("sha256", secret).update(`key\u0000${text}`).digest("base64url")
  }
}
