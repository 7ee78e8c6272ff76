/**
 * Exposures in an append-only JSON-lines file (PRECALL_AUDIT_FILE): one record per line, appended
 * and fsync'd before the decision is returned. A record's id is its line number. precall opens the
 * file for appending only (mode 0600): it never rewrites, truncates or removes a line.
 *
 * A line cut short by a crash mid-write is left as it is and the next record starts on a new line;
 * reading a line that is not a record fails with AuditStoreError reason Corrupt naming the line,
 * because an answer that skipped it could miss an exposure (docs/audit.md says how to repair).
 * One file per instance: several instances sharing a database is what PostgreSQL is for.
 */
import { Effect, Exit, Layer, Semaphore } from "effect"
import { type FileHandle, open, stat } from "node:fs/promises"
import { dirname } from "node:path"
import { createInterface } from "node:readline"
import { AuditStoreError, type ExposurePage, type ExposureQuery, ExposureStore, matches } from "./ExposureStore.ts"
import { ExposureEntry, type ExposureRecord } from "./record.ts"
import { Schema } from "effect"

const decodeEntry = Schema.decodeUnknownExit(ExposureEntry)

const failure = (reason: AuditStoreError["reason"], message: string, line?: number) =>
  new AuditStoreError({ reason, store: "file", message, ...(line === undefined ? {} : { line }) })

/** An error's code only (ENOSPC, EACCES): messages of node's fs errors carry the path, which is fine, but codes are what one acts on. */
const codeOf = (e: unknown): string => (typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : "unknown")

/** Reads one line as a record; a problem names the line and what is wrong, never the line's content. */
export const parseLine = (text: string, line: number): Exit.Exit<ExposureRecord, AuditStoreError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Exit.fail(failure("Corrupt", `line ${line} of the audit file is not JSON${text.trim() === "" ? " (blank)" : ""}`, line))
  }
  const entry = decodeEntry(json)
  if (Exit.isFailure(entry)) {
    return Exit.fail(failure("Corrupt", `line ${line} of the audit file is not an exposure record`, line))
  }
  return Exit.succeed({ id: line, ...entry.value })
}

const fsyncDirectory = async (dir: string) => {
  const handle = await open(dir, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Appends one line and fsyncs it; a torn last line (no newline) is ended first so records never merge. */
const appendLine = async (path: string, line: string) => {
  const existed = await stat(path).then(() => true, () => false)
  const handle = await open(path, "a+", 0o600)
  try {
    const { size } = await handle.stat()
    let prefix = ""
    if (size > 0) {
      const last = Buffer.alloc(1)
      await handle.read(last, 0, 1, size - 1)
      if (last[0] !== 0x0a) prefix = "\n"
    }
    await handle.write(`${prefix}${line}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  if (!existed) await fsyncDirectory(dirname(path))
}

/**
 * Reads the file as it is at the start of the search (its size then), line by line. A last line
 * without its newline is a record being written right now, or one cut short by a crash: never
 * acknowledged either way (a record and its newline are one write), so it is left out.
 */
const scan = (handle: FileHandle, size: number, endsWithNewline: boolean, q: ExposureQuery) =>
  Effect.callback<ExposurePage, AuditStoreError>((resume) => {
    const stream = handle.createReadStream({ encoding: "utf8", autoClose: false, start: 0, end: size - 1 })
    const lines = createInterface({ input: stream, crlfDelay: Infinity })
    const found: Array<ExposureRecord> = []
    let n = 0
    let pending: string | undefined = undefined
    let done = false
    const finish = (result: Effect.Effect<ExposurePage, AuditStoreError>) => {
      if (done) return
      done = true
      lines.close()
      stream.destroy()
      resume(result)
    }
    const failed = (e: unknown) => finish(Effect.fail(failure("Unavailable", `cannot read the audit file: ${codeOf(e)}`)))
    const take = (text: string) => {
      n++
      if (done || (q.after !== undefined && n <= q.after)) return
      const record = parseLine(text, n)
      if (Exit.isFailure(record)) return finish(Effect.failCause(record.cause))
      if (!matches(q, record.value)) return
      found.push(record.value)
      if (found.length > q.limit) {
        const page = found.slice(0, q.limit)
        finish(Effect.succeed({ records: page, next: page[page.length - 1]!.id }))
      }
    }
    stream.on("error", failed)
    lines.on("error", failed)
    // each line is taken once the next one is seen, so the last one can be judged by its newline
    lines.on("line", (text) => {
      if (pending !== undefined) take(pending)
      pending = text
    })
    lines.on("close", () => {
      if (pending !== undefined && endsWithNewline) take(pending)
      finish(Effect.succeed({ records: found, next: null }))
    })
    return Effect.sync(() => {
      done = true
      lines.close()
      stream.destroy()
    })
  })

/** The file's size and whether its last byte is a newline, at the start of a search. */
const extent = async (handle: FileHandle) => {
  const { size } = await handle.stat()
  if (size === 0) return { size, endsWithNewline: true }
  const last = Buffer.alloc(1)
  await handle.read(last, 0, 1, size - 1)
  return { size, endsWithNewline: last[0] === 0x0a }
}

/** Every record after `q.after` that matches, in line order; no file yet is no record. */
const search = (path: string, q: ExposureQuery): Effect.Effect<ExposurePage, AuditStoreError> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => open(path, "r").catch((e: unknown) => (codeOf(e) === "ENOENT" ? undefined : Promise.reject(e))),
      catch: (e) => failure("Unavailable", `cannot open the audit file ${path}: ${codeOf(e)}`)
    }),
    (handle) =>
      handle === undefined ? Effect.succeed({ records: [], next: null }) : Effect.tryPromise({
        try: () => extent(handle),
        catch: (e) => failure("Unavailable", `cannot read the audit file ${path}: ${codeOf(e)}`)
      }).pipe(Effect.flatMap(({ size, endsWithNewline }) => size === 0 ? Effect.succeed({ records: [], next: null }) : scan(handle, size, endsWithNewline, q))),
    (handle) => (handle === undefined ? Effect.void : Effect.promise(() => handle.close()))
  )

/** Opens the file for appending once (creating it, mode 0600), so a path that cannot be written is found at start. */
const probe = (path: string) =>
  Effect.tryPromise({
    try: async () => {
      const existed = await stat(path).then(() => true, () => false)
      await (await open(path, "a", 0o600)).close()
      if (!existed) await fsyncDirectory(dirname(path))
    },
    catch: (e) => failure("Unavailable", `cannot open the audit file ${path} for appending: ${codeOf(e)}`)
  })

/**
 * The JSON-lines store at `path`; appends are serialised within the process. With `probe` (when
 * real-number fallback is allowed) the file is opened for appending at start, so a path that cannot
 * be written stops precall at start instead of refusing the first fallback.
 */
export const makeFileStore = (path: string, options: { readonly probe?: boolean } = {}) =>
  Effect.andThen(options.probe === true ? probe(path) : Effect.void, Semaphore.make(1)).pipe(Effect.map((lock) =>
    ExposureStore.of({
      kind: "file",
      where: path,
      append: (entry) =>
        lock.withPermits(1)(Effect.tryPromise({
          try: () => appendLine(path, JSON.stringify(Schema.encodeSync(ExposureEntry)(entry))),
          catch: (e) => failure("Unavailable", `cannot append to the audit file ${path}: ${codeOf(e)}`)
        })),
      query: (q) => search(path, q)
    })))

export const fileStoreLayer = (path: string, options: { readonly probe?: boolean } = {}): Layer.Layer<ExposureStore, AuditStoreError> =>
  Layer.effect(ExposureStore, makeFileStore(path, options))
