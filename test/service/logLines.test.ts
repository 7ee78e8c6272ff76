/** The service's stdout log writer: lines keep their order and go out in one write per event-loop turn. */
import { assert, it } from "@effect/vitest"
import { batchedLineWriter } from "../../src/service/logging.ts"

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
