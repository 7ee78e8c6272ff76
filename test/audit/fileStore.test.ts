/** The JSON-lines exposure store: appended, fsync'd, searched and paged; a damaged file gives a typed error. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeFileStore } from "../../src/audit/fileStore.ts"
import { makeNumberHasher } from "../../src/audit/record.ts"
import { entry, HASH_SECRET } from "./support.ts"

const hasher = makeNumberHasher(HASH_SECRET)

const tempFile = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "precall-audit-"))
    return { dir, path: join(dir, "audit.jsonl") }
  }),
  ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("the JSON-lines exposure store", () => {
  it.effect("records are appended as lines (mode 0600), found by number hash, binding and time, and paged", () =>
    Effect.gen(function*() {
      const { path } = yield* tempFile
      const store = yield* makeFileStore(path)
      assert.deepStrictEqual(yield* store.query({ limit: 10 }), { records: [], next: null }) // no file yet
      const numbers = ["13900139000", "13900139001", "13900139000", "13900139000"]
      for (const [i, n] of numbers.entries()) yield* store.append(entry(i + 1, n, i === 3 ? { subsId: "S1" } : {}))
      assert.strictEqual(readFileSync(path, "utf8").split("\n").length, 5)
      assert.strictEqual(statSync(path).mode & 0o777, 0o600)
      assert.notInclude(readFileSync(path, "utf8"), "13900139000")

      const byNumber = yield* store.query({ numberHash: hasher.hash("+86 139 0013 9000"), limit: 10 })
      assert.deepStrictEqual(byNumber.records.map((r) => r.id), [1, 3, 4])
      const first = yield* store.query({ numberHash: hasher.hash("13900139000"), limit: 2 })
      assert.deepStrictEqual([first.records.map((r) => r.id), first.next], [[1, 3], 3])
      const second = yield* store.query({ numberHash: hasher.hash("13900139000"), limit: 2, after: first.next! })
      assert.deepStrictEqual([second.records.map((r) => r.id), second.next], [[4], null])
      assert.deepStrictEqual((yield* store.query({ subsId: "S1", poolKey: "FC100000000001", limit: 10 })).records.map((r) => r.id), [1, 4])
      const from = Date.parse("2026-12-01T00:02:00.000Z")
      assert.deepStrictEqual((yield* store.query({ from, to: from + 120_000, limit: 10 })).records.map((r) => r.id), [2, 3])
      assert.deepStrictEqual((yield* store.query({ poolKey: "OTHER", limit: 10 })).records, [])
    }))

  it.effect("a line cut short by a crash stays alone: the next record starts on a new line, and reading names the damaged line", () =>
    Effect.gen(function*() {
      const { path } = yield* tempFile
      const store = yield* makeFileStore(path)
      yield* store.append(entry(1, "13900139000"))
      appendFileSync(path, `{"at":"2026-12-01T00:0`)
      yield* store.append(entry(3, "13900139000"))
      const lines = readFileSync(path, "utf8").split("\n")
      assert.strictEqual(lines.length, 4)
      assert.strictEqual(JSON.parse(lines[2]!).requestId, "req-3")
      const error = yield* Effect.flip(store.query({ limit: 10 }))
      assert.deepStrictEqual([error._tag, error.reason, error.store, error.line], ["AuditStoreError", "Corrupt", "file", 2])
      // a page that starts after the damaged line reads on
      assert.deepStrictEqual((yield* store.query({ after: 2, limit: 10 })).records.map((r) => r.id), [3])
    }))

  it.effect("a last line without its newline (being written, or cut by a crash) is left out until a record follows it", () =>
    Effect.gen(function*() {
      const { path } = yield* tempFile
      const store = yield* makeFileStore(path)
      yield* store.append(entry(1, "13900139000"))
      appendFileSync(path, JSON.stringify(entry(2, "13900139000")).slice(0, 40))
      assert.deepStrictEqual((yield* store.query({ limit: 10 })).records.map((r) => r.id), [1])
      appendFileSync(path, JSON.stringify(entry(2, "13900139000")).slice(40)) // the same record, now whole but still without its newline
      assert.deepStrictEqual((yield* store.query({ limit: 10 })).records.map((r) => r.id), [1])
      appendFileSync(path, "\n")
      assert.deepStrictEqual((yield* store.query({ limit: 10 })).records.map((r) => r.id), [1, 2])
    }))

  it.effect("a line that is JSON but not a record, or blank, is Corrupt too; the message never repeats the line", () =>
    Effect.gen(function*() {
      const { path } = yield* tempFile
      writeFileSync(path, `${JSON.stringify({ realNumber: "13900139000" })}\n\n`)
      const store = yield* makeFileStore(path)
      const error = yield* Effect.flip(store.query({ limit: 10 }))
      assert.deepStrictEqual([error.reason, error.line], ["Corrupt", 1])
      assert.notInclude(error.message, "13900139000")
      const blank = yield* Effect.flip(store.query({ after: 1, limit: 10 }))
      assert.deepStrictEqual([blank.reason, blank.line], ["Corrupt", 2])
    }))

  it.effect("a file that cannot be written: Unavailable, not a crash; with probe already at start", () =>
    Effect.gen(function*() {
      const { dir } = yield* tempFile
      const path = join(dir, "missing-dir", "audit.jsonl")
      const store = yield* makeFileStore(path)
      const error = yield* Effect.flip(store.append(entry(1, "13900139000")))
      assert.deepStrictEqual([error.reason, error.store], ["Unavailable", "file"])
      assert.include(error.message, "ENOENT")
      const atStart = yield* Effect.flip(makeFileStore(path, { probe: true }))
      assert.deepStrictEqual([atStart.reason, atStart.store], ["Unavailable", "file"])
      // a path that can be written: probed, created empty with mode 0600
      const fine = join(dir, "audit.jsonl")
      yield* makeFileStore(fine, { probe: true })
      assert.deepStrictEqual([readFileSync(fine, "utf8"), statSync(fine).mode & 0o777], ["", 0o600])
    }))
})
