/** Exposures in memory: for tests and embedding programs that provide their own ExposureStore. */
import { Effect, Layer } from "effect"
import { type ExposurePage, ExposureStore, matches } from "./ExposureStore.ts"
import type { ExposureRecord } from "./record.ts"

export const makeMemoryStore = () => {
  const records: Array<ExposureRecord> = []
  const store = ExposureStore.of({
    kind: "memory",
    where: "memory",
    append: (entry) => Effect.sync(() => void records.push({ id: records.length + 1, ...entry })),
    query: (q) =>
      Effect.sync((): ExposurePage => {
        const found = records.filter((r) => (q.after === undefined || r.id > q.after) && matches(q, r)).slice(0, q.limit + 1)
        const page = found.slice(0, q.limit)
        return { records: page, next: found.length > q.limit ? page[page.length - 1]!.id : null }
      })
  })
  return { store, records }
}

export const memoryStoreLayer = (): Layer.Layer<ExposureStore> => Layer.sync(ExposureStore, () => makeMemoryStore().store)
