/**
 * A bounded in-memory map whose entries expire: the status cache when Redis is not there. Times come
 * in from effect's Clock (the caller passes `now`), so the TTL logic runs on the TestClock.
 */
export interface TtlMap<V> {
  /** The value if present and not expired at `now`; an expired entry is dropped on the way. */
  readonly get: (key: string, now: number) => V | undefined
  readonly set: (key: string, value: V, expiresAt: number) => void
  readonly delete: (key: string) => void
  readonly size: () => number
}

/**
 * When full, the oldest write makes room. Every entry lives equally long, so the oldest write is also
 * the first to expire: no read-order bookkeeping (LRU) is needed to evict the least useful entry.
 */
export const makeTtlMap = <V>(capacity: number): TtlMap<V> => {
  // A Map iterates in insertion order; re-inserting on set keeps the oldest write first.
  const entries = new Map<string, { readonly value: V; readonly expiresAt: number }>()
  return {
    get: (key, now) => {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (entry.expiresAt <= now) {
        entries.delete(key)
        return undefined
      }
      return entry.value
    },
    set: (key, value, expiresAt) => {
      entries.delete(key)
      entries.set(key, { value, expiresAt })
      if (entries.size > capacity) entries.delete(entries.keys().next().value!)
    },
    delete: (key) => void entries.delete(key),
    size: () => entries.size
  }
}
