/**
 * The evidence layers together: the store (shared through Redis when configured) and outcome
 * reporting over it. One per process, provided with the engine (precall.ts), so the engine, the push
 * route and the outcome route all read and write the same store.
 */
import { Layer } from "effect"
import { noRedis, SharedRedis } from "../redis/SharedRedis.ts"
import type { Settings } from "../policy/settings.ts"
import { type EvidenceStore, evidenceStoreLayer } from "./EvidenceStore.ts"
import { type Outcomes, outcomesLayer } from "./outcomes.ts"

export const evidenceLayer = (settings: Settings): Layer.Layer<EvidenceStore | Outcomes, never, SharedRedis> =>
  outcomesLayer.pipe(Layer.provideMerge(evidenceStoreLayer(settings)))

/** The evidence layers on memory alone, e.g. beside an engine built without the shared Redis. */
export const evidenceInMemory = (settings: Settings): Layer.Layer<EvidenceStore | Outcomes> =>
  evidenceLayer(settings).pipe(Layer.provide(Layer.succeed(SharedRedis, noRedis)))
