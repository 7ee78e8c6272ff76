/** `precall audit` as a user runs it: the page as one JSON object, from the file or PostgreSQL; bad flags exit 2, a damaged store 1. */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { ExposureStore } from "../../src/audit/ExposureStore.ts"
import { makeFileStore } from "../../src/audit/fileStore.ts"
import { pgStoreLayer } from "../../src/audit/pgStore.ts"
import { entry, HASH_SECRET, ownSchema, urlIn } from "./support.ts"

const root = resolve(import.meta.dirname, "../..")
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PRECALL_|ALIBABA_CLOUD_|PORT$)/.test(k)))
const precall = (env: Record<string, string>, ...args: ReadonlyArray<string>) =>
  spawnSync(process.execPath, ["src/cli/main.ts", "audit", ...args], { cwd: root, env: { ...baseEnv, ...env }, encoding: "utf8", timeout: 20_000 })

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "precall-audit-cli-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const NUMBER = "13900139000"

describe("precall audit", () => {
  it.effect("from the JSON-lines file: the page by number, then the next; bad flags exit 2 without repeating them", () =>
    Effect.gen(function*() {
      const file = join(yield* tempDir, "exposures.jsonl")
      const store = yield* makeFileStore(file)
      for (const [i, n] of [NUMBER, "13900139001", NUMBER].entries()) yield* store.append(entry(i + 1, n))
      const env = { PRECALL_AUDIT_FILE: file, PRECALL_AUDIT_HASH_SECRET: HASH_SECRET }

      const first = precall(env, "--number", "+86 139 0013 9000", "--limit", "1")
      assert.strictEqual(first.status, 0, first.stderr)
      const page = JSON.parse(first.stdout)
      assert.deepStrictEqual([page.records.map((r: { requestId: string }) => r.requestId), page.next], [["req-1"], "1"])
      const second = JSON.parse(precall(env, "--number", NUMBER, "--after", page.next).stdout)
      assert.deepStrictEqual([second.records.map((r: { requestId: string }) => r.requestId), second.next], [["req-3"], null])
      assert.notInclude(first.stdout + second.stdout, NUMBER)

      const bad = precall(env, "--number", "12345", "--from", "yesterday")
      assert.strictEqual(bad.status, 2)
      assert.match(bad.stderr, /^precall: --from: .*; --number: /)
      assert.notInclude(bad.stderr, "12345")
      assert.strictEqual(bad.stderr.trim().split("\n").length, 1)

      const help = precall({}, "--help")
      for (const flag of ["--from", "--to", "--number", "--pool-key", "--subs-id", "--limit", "--after"]) {
        assert.match(help.stdout.split("\n").find((l) => l.trimStart().startsWith(flag)) ?? "", /default/, flag)
      }
    }))

  it.effect("a damaged file exits 1 naming the line", () =>
    Effect.gen(function*() {
      const file = join(yield* tempDir, "exposures.jsonl")
      writeFileSync(file, `{"broken":\n`)
      const r = precall({ PRECALL_AUDIT_FILE: file })
      assert.strictEqual(r.status, 1)
      assert.match(r.stderr, /^precall: exposure audit damaged \(file Corrupt\): line 1 /)
    }))

  it.live("from PostgreSQL (migrated at start), the same answer", () =>
    Effect.gen(function*() {
      const schema = yield* ownSchema()
      const url = urlIn(schema)
      const store = Context.get(yield* Layer.build(pgStoreLayer({ url: Redacted.make(url) })), ExposureStore)
      yield* store.append(entry(1, NUMBER))
      yield* store.append(entry(2, "13900139001"))
      const r = precall({ PRECALL_AUDIT_DATABASE_URL: url, PRECALL_AUDIT_HASH_SECRET: HASH_SECRET }, "--number", NUMBER)
      assert.strictEqual(r.status, 0, r.stderr)
      assert.deepStrictEqual(JSON.parse(r.stdout).records.map((x: { requestId: string }) => x.requestId), ["req-1"])
      const down = precall({ PRECALL_AUDIT_DATABASE_URL: "postgres://writer:hunter2@127.0.0.1:1/precall" })
      assert.strictEqual(down.status, 1)
      assert.notInclude(down.stderr, "hunter2")
    }))
})
