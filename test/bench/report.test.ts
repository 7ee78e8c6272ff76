/**
 * The benchmark's target table: each (a) ratio comes with the same ratio round by round, so a reader
 * sees how far the machine's drift moved it within the run.
 */
import { assert, describe, it } from "@effect/vitest"
import { evaluateTargets, perRoundRatios, shownRatio } from "../../bench/report.ts"
import type { LibraryRow } from "../../bench/scenarios/library.ts"

const row = (name: LibraryRow["name"], concurrency: number, roundThroughputs: ReadonlyArray<number>): LibraryRow => ({
  name, concurrency, count: 1000, errors: 0, firstError: undefined,
  throughput: roundThroughputs.reduce((a, b) => a + b, 0) / roundThroughputs.length,
  p50: 0.1, p99: 1, cpuMicrosPerOp: 100, emulatorCpuMicrosPerRequest: 40, providerCallsPerOp: 1, roundThroughputs
})

describe("bench report", () => {
  it("pairs the rounds of two contenders: range and median of their ratios", () => {
    assert.strictEqual(perRoundRatios(row("precall", 16, [80, 90, 50, 100]), row("floor", 16, [100, 100, 100, 100])), "0.50-1.00, median 0.85 (4 rounds)")
    assert.strictEqual(perRoundRatios(row("precall", 16, [80, 90, 70]), row("floor", 16, [100, 100, 100])), "0.70-0.90, median 0.80 (3 rounds)")
  })

  it("shows more than two decimals only where two would put a ratio on the wrong side of its threshold", () => {
    assert.strictEqual(shownRatio(0.8996, 0.9), "0.8996")
    assert.strictEqual(shownRatio(0.8996, 0.8), "0.90")
    assert.strictEqual(shownRatio(1.0951, 1.1), "1.095")
    assert.strictEqual(shownRatio(0.9, 0.9), "0.90")
  })

  it("gives nothing when the rounds cannot be paired", () => {
    assert.isUndefined(perRoundRatios(row("precall", 16, [80, 90]), row("floor", 16, [100])))
    assert.isUndefined(perRoundRatios(undefined, row("floor", 16, [100])))
    assert.isUndefined(perRoundRatios(row("precall", 16, [80]), row("floor", 16, [0])))
  })

  it("puts the per-round spread beside each library ratio target, numerator first", () => {
    const library = [1, 16, 64].flatMap((c) => [
      row("floor", c, [100, 100]), row("pop-core", c, [50, 100]), row("precall", c, [90, 80]), row("precall-production", c, [81, 80])
    ])
    const targets = evaluateTargets({
      startedAt: "", mode: "full", command: "", options: {}, library,
      machine: { cpus: 2, cpuModel: "test", node: "24", loadavgStart: [0, 0, 0], loadavgEnd: [0, 0, 0] }
    })
    const byId = new Map(targets.map((t) => [t.id, t]))
    assert.strictEqual(byId.get("a-floor-16")?.perRound, "0.80-0.90, median 0.85 (2 rounds)")
    assert.strictEqual(byId.get("a-popcore-1")?.perRound, "0.80-1.80, median 1.30 (2 rounds)")
    assert.strictEqual(byId.get("a-production-64")?.perRound, "0.90-1.00, median 0.95 (2 rounds)")
    assert.isUndefined(byId.get("b-skeleton")?.perRound)
  })
})
