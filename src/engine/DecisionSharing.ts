/**
 * Reuse and coalescing of decisions (src/cache): a status-1 answer reused for a short time, and
 * identical requests in flight at once sharing one decision, in-process and, with Redis, across
 * instances. The engine is correct without them; they save provider calls.
 */
import { Context, Effect, Layer } from "effect"
import { createHmac, createSecretKey } from "node:crypto"
import { deriveKey, sharedStateSecret } from "../redis/sealed.ts"
import type { Decision } from "../domain/decision.ts"
import type { DecideRequest } from "../domain/request.ts"
import type { Settings } from "../policy/settings.ts"
import type { StatusAnswer } from "../domain/status.ts"

export interface DecisionSharingShape {
  /** A reusable status-1 answer for (poolKey, subsId, callerNo), if one is fresh at `now` (the fiber's Clock). */
  readonly cachedStatus: (key: string, now: number) => Effect.Effect<StatusAnswer | undefined>
  /** Offers an answer, got at `now`, for reuse; only status 1 is ever kept. */
  readonly offerStatus: (key: string, answer: StatusAnswer, now: number) => Effect.Effect<void>
  /**
   * Runs `decide` once for all identical requests in flight under `key`; the others wait for its
   * decision within `budgetMs`, and decide on their own if it does not come. `decide` is given the
   * time left of `budgetMs`, so a request that waited and then decides itself still ends in time.
   */
  readonly coalesce: (key: string, budgetMs: number, decide: (budgetMs: number) => Effect.Effect<Decision>) => Effect.Effect<Decision>
}

/** Nothing reused, nothing coalesced. */
export const noSharing: DecisionSharingShape = {
  cachedStatus: () => Effect.succeed(undefined),
  offerStatus: () => Effect.void,
  coalesce: (_key, budgetMs, decide) => decide(budgetMs)
}

/** The sharing in use; none unless a layer provides it (src/cache). */
// Stryker disable next-line StringLiteral: the key only has to be one no other service uses, and no other uses "" either
export const DecisionSharing = Context.Reference<DecisionSharingShape>("precall/DecisionSharing", { defaultValue: () => noSharing })

export const decisionSharingLayer = (sharing: DecisionSharingShape): Layer.Layer<never> => Layer.succeed(DecisionSharing, sharing)

/**
 * The keys shared state is stored under: HMAC-SHA256 with a secret the instances share, so no phone
 * number is ever written to a shared store in clear, and a plain hash of the few fields (which could
 * be searched through all mainland numbers) is not either. `inProcessOnly`: nothing is shared (no
 * Redis configured), so the keys only name entries of this process' own maps and are the fields
 * themselves (JSON), which costs no HMAC per decision.
 */
export const sharingKeys = (secret: string | Buffer, inProcessOnly = false) => {
  // A KeyObject made once: createHmac with a string or Buffer key builds one per call (about 8 µs).
  const key = createSecretKey(typeof secret === "string" ? Buffer.from(secret) : secret)
  const mac = inProcessOnly ? (text: string) => text : (text: string) => createHmac("sha256", key).update(text).digest("base64url")
  return {
    /** The status cache key: the provider, the binding and who is calling. */
    statusKey: (poolKey: string, subsId: string, callerNo: string | undefined, provider: string): string =>
      // joined, not a template: the status cache keeps the key, and a template's result is a rope of parts
      mac([provider, poolKey, subsId, callerNo ?? ""].join("|")),
    /**
     * The coalescing key: every field of the request, in a fixed order. Joined with `|`, an absent
     * field as "": a decoded request's fields are tokens that hold no `|` and are never empty.
     */
    requestKey: (request: DecideRequest): string =>
      mac([
        request.provider, request.poolKey, request.subsId, request.phoneNoX, request.extension, request.callerNo, request.realCallee,
        request.binding?.phoneNoA, request.binding?.phoneNoB, request.binding?.mode
      ].join("|"))
  }
}
export type SharingKeys = ReturnType<typeof sharingKeys>

/** The key of those macs: derived for key names from the instances' shared secret (src/redis/sealed.ts). */
export const sharingKeySecret = (settings: Settings): Buffer => deriveKey(sharedStateSecret(settings), "precall/redis-keys")
