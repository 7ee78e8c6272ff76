/** The service's stdout log writer: lines keep their order and go out in one write per event-loop turn. */
import { assert, it } from "@effect/vitest"
import * as fc from "fast-check"
import { batchedLineWriter, makeIsoTime, renderLine } from "../../src/service/logging.ts"

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

it("lines written in one turn go out as one chunk, in order; a later turn gets its own chunk", async () => {
  const chunks: Array<string> = []
  const write = batchedLineWriter((chunk) => chunks.push(chunk))
  write('{"n":1}')
  write('{"n":2}')
  write('{"n":3}')
  assert.deepStrictEqual(chunks, [], "nothing is written before the turn ends")
  await nextTurn()
  assert.deepStrictEqual(chunks, ['{"n":1}\n{"n":2}\n{"n":3}\n'])
  write('{"n":4}')
  await nextTurn()
  await nextTurn()
  assert.deepStrictEqual(chunks, ['{"n":1}\n{"n":2}\n{"n":3}\n', '{"n":4}\n'])
})

const TIME = "2026-12-04T10:00:00.000Z"

// Keys that are array indices ("0", "17") come first in an object copied with a spread, so only the
// parsed lines are compared; with other keys the text is the same too.
it("a line is the fields after time and level, whatever the fields", () => {
  fc.assert(fc.property(
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("time", "level", "msg", "7")), fc.jsonValue()),
    fc.constantFrom("info", "warn", "error", "debug"),
    (fields, level) => {
      const line = renderLine(TIME, level, fields)
      const copied = { time: TIME, level, ...fields }
      assert.deepStrictEqual(JSON.parse(line), JSON.parse(JSON.stringify(copied)))
      if (!Object.keys(fields).some((k) => /^(0|[1-9]\d*)$/.test(k))) assert.strictEqual(line, JSON.stringify(copied))
    }
  ), { numRuns: 500 })
})

it("fields that are not a plain object, or that name time or level, are copied as before", () => {
  class Entry {
    readonly msg = "m"
    toJSON() {
      return { replaced: true }
    }
  }
  assert.strictEqual(renderLine(TIME, "info", new Entry()), `{"time":"${TIME}","level":"info","msg":"m"}`)
  assert.strictEqual(renderLine(TIME, "info", { level: "x", n: 1 }), `{"time":"${TIME}","level":"x","n":1}`)
  const withToJson = { n: 1, toJSON: () => ({ replaced: true }) }
  assert.strictEqual(renderLine(TIME, "info", withToJson), JSON.stringify({ time: TIME, level: "info", ...withToJson }))
  assert.strictEqual(renderLine(TIME, "info", {}), `{"time":"${TIME}","level":"info"}`)
  assert.strictEqual(renderLine(TIME, "info", { msg: "decision", dial: null }), `{"time":"${TIME}","level":"info","msg":"decision","dial":null}`)
})

it("the time of a line is toISOString's, for times in any order, near each other or far apart", () => {
  const near = fc.integer({ min: 1_764_806_400_000, max: 1_764_806_405_000 })
  const anyTime = fc.oneof(near, fc.integer({ min: -62_167_219_200_000 * 2, max: 8_640_000_000_000_000 }), fc.double({ min: -1e12, max: 1e13, noNaN: true }))
  fc.assert(fc.property(fc.array(anyTime, { minLength: 1, maxLength: 40 }), (times) => {
    const isoTime = makeIsoTime()
    for (const t of times) assert.strictEqual(isoTime(t), new Date(t).toISOString())
  }), { numRuns: 500 })
})
