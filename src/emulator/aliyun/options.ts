/** Options of the Aliyun emulator and how they default. */
import { DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET } from "../../providers/aliyun/credentials.ts"
import { ACTION_NAMES } from "./actions.ts"
import { ALL_ACTIONS, parseFaultSpec } from "../faults.ts"
import type { FaultSpec } from "../faults.ts"
import { effectivePools, validatePools } from "./state.ts"
import type { PoolConfig } from "./state.ts"

/**
 * The key pair accepted when neither options nor ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET give one; the
 * adapter's credentials module owns it, so the two sides cannot disagree.
 */
export { DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET }

/** Port of `precall emulator` when none is given. */
export const DEFAULT_EMULATOR_PORT = 8931

export interface AliyunEmulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number | undefined
  /** Default 127.0.0.1: the emulator accepts unsigned control calls, so it stays on loopback unless told. */
  readonly host?: string | undefined
  readonly accessKeyId?: string | undefined
  readonly accessKeySecret?: string | undefined
  /** false skips signature, timestamp and nonce checks (benchmark floor mode). Default true. */
  readonly verifySignatures?: boolean | undefined
  /** Pools besides the demo pool FC100000000001 (a pool with that key replaces it). */
  readonly pools?: ReadonlyArray<PoolConfig> | undefined
  /** Faults at start, by action name or `*`. */
  readonly faults?: Readonly<Record<string, FaultSpec>> | undefined
  /** PRNG seed for fault draws. Default 1, so runs repeat unless told otherwise. */
  readonly seed?: number | undefined
  /** How long an expired binding stays queryable (emulator clock). Default 86400. */
  readonly expiredRetentionSeconds?: number | undefined
  /** Hard cap on remembered nonces. Default 1,000,000. */
  readonly maxNonces?: number | undefined
  /**
   * Plays an Aliyun that no longer serves QueryCallStatus (its current API catalogue lists none):
   * the action answers InvalidAction.NotFound. Default false.
   */
  readonly withoutQueryCallStatus?: boolean | undefined
  /** When set, every control API request must carry `authorization: Bearer <token>` (`--control-token`). */
  readonly controlToken?: string | undefined
}

export interface ResolvedOptions {
  readonly port: number
  readonly host: string
  readonly accessKeyId: string
  readonly accessKeySecret: string
  readonly verifySignatures: boolean
  readonly pools: ReadonlyArray<PoolConfig>
  readonly faults: ReadonlyMap<string, FaultSpec>
  readonly seed: number
  readonly expiredRetentionMs: number
  readonly maxNonces: number
  /** Actions answered with InvalidAction.NotFound from the start. */
  readonly withdrawnActions: ReadonlyArray<string>
  readonly controlToken: string | undefined
}

/**
 * The key pair `precall emulator` accepts: ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET when both are set and
 * non-empty (so `precall decide` with the same environment signs with it), else the demo pair.
 * Programmatic use takes the pair from options only, so an embedding process's real keys never
 * leak into an emulator by accident.
 */
export const keyPairFromEnv = (env: NodeJS.ProcessEnv): Pick<AliyunEmulatorOptions, "accessKeyId" | "accessKeySecret"> => {
  const id = env["ALIBABA_CLOUD_ACCESS_KEY_ID"]?.trim()
  const secret = env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]?.trim()
  return id && secret ? { accessKeyId: id, accessKeySecret: secret } : {}
}

/** Throws on invalid pools or faults: a bad start configuration should fail loudly, once. */
export const resolveOptions = (o: AliyunEmulatorOptions = {}): ResolvedOptions => {
  const pools = effectivePools(o.pools)
  const invalidPools = validatePools(pools)
  if (invalidPools !== undefined) throw new Error(`emulator pools: ${invalidPools}`)
  const faults = new Map<string, FaultSpec>()
  for (const [action, spec] of Object.entries(o.faults ?? {})) {
    const known = faultTargetError(action)
    if (known !== undefined) throw new Error(`emulator faults: ${known}`)
    const parsed = parseFaultSpec(spec)
    if (!parsed.ok) throw new Error(`emulator faults for ${action}: ${parsed.message}`)
    faults.set(action, parsed.spec)
  }
  return {
    port: o.port ?? 0,
    host: o.host ?? "127.0.0.1",
    accessKeyId: o.accessKeyId ?? DEMO_ACCESS_KEY_ID,
    accessKeySecret: o.accessKeySecret ?? DEMO_ACCESS_KEY_SECRET,
    verifySignatures: o.verifySignatures ?? true,
    pools,
    faults,
    seed: o.seed ?? 1,
    expiredRetentionMs: (o.expiredRetentionSeconds ?? 86_400) * 1000,
    maxNonces: o.maxNonces ?? 1_000_000,
    withdrawnActions: o.withoutQueryCallStatus === true ? ["QueryCallStatus"] : [],
    controlToken: o.controlToken === undefined || o.controlToken === "" ? undefined : o.controlToken
  }
}

/**
 * Faults are keyed by a served action, `*`, or `<action>@<SubsId>` for one binding's calls; a typo
 * would otherwise silently inject nothing.
 */
export const faultTargetError = (target: string): string | undefined => {
  const [action = "", subsId] = target.split("@", 2)
  if (subsId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(subsId)) return `invalid SubsId in fault target ${JSON.stringify(target)}`
  return action === ALL_ACTIONS || ACTION_NAMES.includes(action)
    ? undefined
    : `unknown action ${JSON.stringify(action)}; expected one of ${[ALL_ACTIONS, ...ACTION_NAMES].join(", ")}, optionally followed by @<SubsId>`
}
