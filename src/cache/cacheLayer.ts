/**
 * The DecisionSharing precall runs with: the status cache, and single-flight in-process then across
 * instances. Only an instance's in-process leader takes part in the cross-instance flight, so a
 * burst in one instance costs one Redis lock attempt, not one per request.
 */
import { Effect, Layer } from "effect"
import { DecisionSharing, type DecisionSharingShape } from "../engine/DecisionSharing.ts"
import type { Settings } from "../policy/settings.ts"
import { SharedRedis, type SharedRedisShape } from "../redis/SharedRedis.ts"
import { makeInFlight } from "./InFlight.ts"
import { makeSharedFlight } from "./SharedFlight.ts"
import { makeStatusCache } from "./StatusCache.ts"

export const makeSharing = (settings: Pick<Settings, "statusTtlMs">, shared: SharedRedisShape): DecisionSharingShape => {
  const cache = makeStatusCache(settings.statusTtlMs, shared)
  const inFlight = makeInFlight()
  const sharedFlight = makeSharedFlight(shared)
  return {
    cachedStatus: cache.get,
    offerStatus: cache.offer,
    coalesce: (key, budgetMs, decide) => inFlight(key, budgetMs, (left) => sharedFlight(key, left, decide))
  }
}

/** Status cache and coalescing for the engine, shared through Redis when PRECALL_REDIS_URL is set. */
export const cacheLayer = (settings: Settings): Layer.Layer<never, never, SharedRedis> =>
  Layer.effect(DecisionSharing, Effect.map(SharedRedis, (shared) => makeSharing(settings, shared)))
