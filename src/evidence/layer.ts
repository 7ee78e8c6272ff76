/**
 * The evidence layers together: the store (shared through Redis when configured) and outcome
 * reporting over it. One per process, provided with the engine (precall.ts), so the engine, the push
 * route and the outcome route all read and write the same store.
 */
import { Layer } from "effect"
import type { Settings } from "../policy/settings.ts"
import type { SharedRedis } from "../redis/SharedRedis.ts"
import { type EvidenceStore, evidenceStoreLayer } from "./EvidenceStore.ts"
import { type Outcomes, outcomesLayer } from "./outcomes.ts"

export const evidenceLayer = (settings: Settings): Layer.Layer<EvidenceStore | Outcomes, never, SharedRedis> =>
  outcomesLayer.pipe(Layer.provideMerge(evidenceStoreLayer(settings)))
