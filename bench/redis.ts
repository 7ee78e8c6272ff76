/**
 * The Redis the scale-out scenarios (d, f) share state through: BENCH_REDIS_URL, default
 * redis://127.0.0.1:6379. Every run writes under a prefix of its own and deletes its keys afterwards,
 * so runs never see each other's limits, slow-downs or cached statuses, and nothing is left behind.
 */
import { createClient } from "redis"

export const BENCH_REDIS_URL = process.env["BENCH_REDIS_URL"] ?? "redis://127.0.0.1:6379"
/** The secret the benchmark's instances share (PRECALL_REDIS_KEY_SECRET): Redis keys and values are keyed by it. */
export const BENCH_REDIS_KEY_SECRET = "bench-shared-secret-0123456789"

/** `precall-bench:<time>-<pid>:`: unique per run; scenarios append their own part (`d-shared:`). */
export const runPrefix = (): string => `precall-bench:${Date.now().toString(36)}-${process.pid}:`

const connect = async (url: string) => {
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 1000, reconnectStrategy: false } })
  client.on("error", () => {})
  await Promise.race([
    client.connect(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no connection to ${url} within 2 s`)), 2000))
  ])
  return client
}

/** undefined when Redis answers PING; otherwise why not. */
export const redisProblem = async (url: string = BENCH_REDIS_URL): Promise<string | undefined> => {
  try {
    const client = await connect(url)
    try {
      const pong = await client.sendCommand(["PING"])
      return String(pong) === "PONG" ? undefined : `PING answered ${String(pong)}`
    } finally {
      client.destroy()
    }
  } catch (e) {
    return `Redis at ${url} not reachable: ${e instanceof Error ? e.message : String(e)}`
  }
}

export interface KeyCleanup {
  readonly prefix: string
  /** Keys under the prefix when the cleanup started, by shape (the part after the prefix; hashes as `<hash>`, random tokens as `<token>`). */
  readonly found: Readonly<Record<string, number>>
  /** Some key names as found, for the report (the key layout). */
  readonly sample: ReadonlyArray<string>
  readonly deleted: number
  /** Keys still under the prefix after deleting (0 unless a client was still writing). */
  readonly remaining: number
  readonly error?: string
}

const scanAll = async (client: Awaited<ReturnType<typeof connect>>, pattern: string): Promise<Array<string>> => {
  const keys: Array<string> = []
  let cursor = "0"
  // Bounded: at most 10 000 SCAN calls of 1000 keys each.
  for (let i = 0; i < 10_000; i++) {
    const [next, batch] = (await client.sendCommand(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])) as [string, Array<string>]
    keys.push(...batch)
    cursor = next
    if (cursor === "0") break
  }
  return [...new Set(keys)]
}

/** Deletes every key under `prefix` (SCAN + UNLINK in batches) and counts what was there. */
export const deleteKeys = async (prefix: string, url: string = BENCH_REDIS_URL): Promise<KeyCleanup> => {
  if (/[*?[\]\\]/.test(prefix) || prefix.length < 8) throw new Error(`refusing to delete under the prefix ${JSON.stringify(prefix)}`)
  try {
    const client = await connect(url)
    try {
      const keys = await scanAll(client, `${prefix}*`)
      const found: Record<string, number> = {}
      for (const k of keys) {
        const rest = k.slice(prefix.length)
        const kind = rest.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<token>").replace(/[A-Za-z0-9_-]{40,}/g, "<hash>")
        found[kind] = (found[kind] ?? 0) + 1
      }
      let deleted = 0
      for (let i = 0; i < keys.length; i += 500) deleted += Number(await client.sendCommand(["UNLINK", ...keys.slice(i, i + 500)]))
      const remaining = (await scanAll(client, `${prefix}*`)).length
      return { prefix, found, sample: keys.slice(0, 8), deleted, remaining }
    } finally {
      client.destroy()
    }
  } catch (e) {
    return { prefix, found: {}, sample: [], deleted: 0, remaining: -1, error: e instanceof Error ? e.message : String(e) }
  }
}
