/** `precall emulator --config FILE`: the file's options reach the emulator; bad files are named and explained. */
import { mkdtemp, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { readEmulatorConfig } from "../../src/emulator/aliyun/configFile.ts"
import { startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"

const file = async (name: string, text: string) => {
  const path = join(await mkdtemp(join(tmpdir(), "precall-emu-")), name)
  await writeFile(path, text)
  return path
}

describe("emulator config file", () => {
  it("pools, faults and seed from the file start the emulator with them", async () => {
    const path = await file("ok.json", JSON.stringify({
      seed: 3,
      pools: [{ poolKey: "FCFILE", numbers: ["17100000001"] }],
      faults: { QueryCallStatus: { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] } }
    }))
    const options = await readEmulatorConfig(path)
    const emulator = await startAliyunEmulator(options)
    try {
      expect(emulator.pools.map((p) => p.poolKey)).toContain("FCFILE")
      expect(emulator.state().faults).toEqual({ QueryCallStatus: { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] } })
    } finally {
      await emulator.close()
    }
  })

  it("names the file and every problem: bad JSON, wrong types, unknown keys", async () => {
    await expect(readEmulatorConfig(await file("broken.json", "{"))).rejects.toThrow(/broken\.json: .*JSON/)
    const wrong = readEmulatorConfig(await file("wrong.json", JSON.stringify({ seed: "x", bogus: 1 })))
    await expect(wrong).rejects.toThrow(/wrong\.json/)
    await expect(wrong).rejects.toThrow(/\["seed"\]/)
    await expect(wrong).rejects.toThrow(/\["bogus"\]/)
    await expect(readEmulatorConfig("/nonexistent/precall.json")).rejects.toThrow(/ENOENT/)
  })
})
