/**
 * Authenticated shared state. Whoever can write to Redis must not be able to steer a decision: every
 * value precall writes there is stored as `v1.<mac>.<payload>`, the mac an HMAC-SHA256 over the key
 * and the payload, and a value whose mac does not verify (forged, written under another secret, or
 * moved to another key) is treated as absent and counted in `precall_shared_state_rejected_total`.
 *
 * Key names and value macs use keys derived from the instances' shared secret for that one purpose
 * (HMAC(secret, "precall/redis-keys"), HMAC(secret, "precall/redis-values")): the secret itself, an
 * Aliyun AccessKey secret perhaps, is never used directly, and a key name reveals nothing of a value
 * mac's key.
 */
import { Metric, Redacted } from "effect"
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from "node:crypto"
import type { Settings } from "../policy/settings.ts"

const VERSION = "v1"

/** A key for one purpose, derived from the shared secret. */
export const deriveKey = (secret: string | Buffer, purpose: string): Buffer => createHmac("sha256", secret).update(purpose).digest()

export const sharedStateRejectedTotal = Metric.counter("precall_shared_state_rejected_total", {
  description: "Values read from the shared Redis and ignored: a seal that does not verify, a value that does not decode, or one precall never writes (kind)"
})

/** Counts a rejected shared value; `kind` names what it was (status, flight, ...). */
export const rejectedSharedValue = (kind: string) => Metric.update(Metric.withAttributes(sharedStateRejectedTotal, { kind }), 1)

export interface Sealer {
  /** The stored form of `payload` under `key`. */
  readonly seal: (key: string, payload: string) => string
  /** The payload if `raw` was sealed for `key` under this secret; undefined otherwise. */
  readonly open: (key: string, raw: string) => string | undefined
  /** A key name for `text` that does not reveal it (base64url HMAC). */
  readonly keyName: (text: string) => string
}

export const makeSealer = (secret: string | Buffer): Sealer => {
  // KeyObjects made once: createHmac with a Buffer key builds one per call (about 8 µs).
  const keys = createSecretKey(deriveKey(secret, "precall/redis-keys"))
  const values = createSecretKey(deriveKey(secret, "precall/redis-values"))
  const mac = (key: string, payload: string): Buffer => createHmac("sha256", values).update(`${key}\u0000${payload}`).digest()
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
    keyName: (text) => createHmac("sha256", keys).update(text).digest("base64url")
  }
}

/**
 * The secret the instances share: PRECALL_REDIS_KEY_SECRET, else the Aliyun AccessKey secret (the
 * instances of one account share it). Settings refuse a Redis URL without either; without Redis,
 * nothing leaves the process and a random per-process secret serves its in-memory keys.
 */
export const sharedStateSecret = (settings: Pick<Settings, "redisKeySecret" | "aliyunAccessKeySecret">): string | Buffer =>
  settings.redisKeySecret !== undefined
    ? Redacted.value(settings.redisKeySecret)
    : settings.aliyunAccessKeySecret !== undefined
    ? Redacted.value(settings.aliyunAccessKeySecret)
    : processSecret

const processSecret = randomBytes(32)
