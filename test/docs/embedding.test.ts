/** The examples of docs/embedding.md are real programs: they appear verbatim there and run here. */
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const run = promisify(execFile)
const doc = readFileSync("docs/embedding.md", "utf8")

describe.each([
  ["docs/examples/promise.ts", ["use-x 17000000000 provider", "INVALID_REQUEST [ 'phoneNoX' ]"]],
  ["docs/examples/effect.ts", ["rebind 4 true"]]
])("%s", (file, expected) => {
  it("appears verbatim in docs/embedding.md", () => {
    expect(doc).toContain(readFileSync(file, "utf8").trimEnd())
  })

  it("runs and prints what its comments say", async () => {
    const { stdout } = await run(process.execPath, [file], { timeout: 20_000 })
    expect(stdout.trim().split("\n")).toEqual(expected)
  })
})
