/**
 * `precall emulator --config FILE`: start-up options from a JSON file (pools, faults, seed,
 * signature checks). Shapes are checked here; pools and fault specs are then checked in depth by
 * `resolveOptions`, which names what is wrong.
 */
import { readFile } from "node:fs/promises"
import { Schema } from "effect"
import type { AliyunEmulatorOptions } from "./options.ts"

const EmulatorConfigFile = Schema.Struct({
  pools: Schema.optionalKey(Schema.Array(Schema.Struct({ poolKey: Schema.String, numbers: Schema.Array(Schema.String) }))),
  /** By action, `*` or `<action>@<SubsId>`; each spec as in docs/emulator.md. */
  faults: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  seed: Schema.optionalKey(Schema.Int),
  verifySignatures: Schema.optionalKey(Schema.Boolean),
  expiredRetentionSeconds: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  /** Plays an Aliyun without QueryCallStatus (InvalidAction.NotFound). */
  withoutQueryCallStatus: Schema.optionalKey(Schema.Boolean)
})

/** Reads and checks the file; throws an Error whose message names the file and every problem. */
export const readEmulatorConfig = async (path: string): Promise<AliyunEmulatorOptions> => {
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, "utf8"))
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const decoded = Schema.decodeUnknownResult(EmulatorConfigFile)(json, { errors: "all", onExcessProperty: "error" })
  if (decoded._tag === "Failure") throw new Error(`${path}: ${decoded.failure.message}`)
  return decoded.success as AliyunEmulatorOptions
}
