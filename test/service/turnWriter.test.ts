import { assert, describe, it } from "@effect/vitest"
import type { ServerResponse } from "node:http"
import { makeTurnWriter } from "../../src/service/turnWriter.ts"

/** A response that records what `end` was given. */
const response = (ended: Array<string>, name: string, destroyed = false) =>
  ({ destroyed, end: (body: string) => void ended.push(`${name}:${body}`) }) as unknown as ServerResponse

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe("the turn writer", () => {
  it("ends nothing during the turn, then every response of the turn in order", async () => {
    const ended: Array<string> = []
    const end = makeTurnWriter()
    end(response(ended, "a"), "1")
    end(response(ended, "b"), "2")
    end(response(ended, "c"), "3")
    await Promise.resolve()
    assert.deepStrictEqual(ended, [])
    await nextTurn()
    assert.deepStrictEqual(ended, ["a:1", "b:2", "c:3"])
  })

  it("skips a response destroyed before the turn ended, and writes the others", async () => {
    const ended: Array<string> = []
    const end = makeTurnWriter()
    const gone = { destroyed: false, end: () => assert.fail("a destroyed response was ended") }
    end(response(ended, "a"), "1")
    end(gone as unknown as ServerResponse, "2")
    gone.destroyed = true
    end(response(ended, "c"), "3")
    await nextTurn()
    assert.deepStrictEqual(ended, ["a:1", "c:3"])
  })

  it("destroys a response whose end throws, and still ends the others", async () => {
    const ended: Array<string> = []
    const end = makeTurnWriter()
    let destroyed = false
    const broken = { destroyed: false, end: () => { throw new Error("write after end") }, destroy: () => void (destroyed = true) }
    end(broken as unknown as ServerResponse, "1")
    end(response(ended, "b"), "2")
    await nextTurn()
    assert.isTrue(destroyed)
    assert.deepStrictEqual(ended, ["b:2"])
  })

  it("writes a later turn's responses in that turn", async () => {
    const ended: Array<string> = []
    const end = makeTurnWriter()
    end(response(ended, "a"), "1")
    await nextTurn()
    end(response(ended, "b"), "2")
    assert.deepStrictEqual(ended, ["a:1"])
    await nextTurn()
    assert.deepStrictEqual(ended, ["a:1", "b:2"])
  })
})
