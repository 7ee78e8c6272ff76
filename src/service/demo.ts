/**
 * The zero-credential demo behind `npm start`: the Aliyun emulator in-process on a free loopback
 * port, seeded with one binding per provider answer, and a ready-to-paste curl line for each.
 */
import { Effect, Redacted, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DecideRequestInput } from "../domain/request.ts"
import type { Settings } from "../policy/settings.ts"
import { aliyunEmulatorScoped, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, type RunningAliyunEmulator } from "../emulator/aliyun/index.ts"

export interface DemoCase {
  /** What the emulator answers and what precall should decide. */
  readonly label: string
  readonly request: DecideRequestInput
}

/** Creates the demo bindings. The expired one lives 60 s and the emulator clock is moved past it. */
const seedDemo = (emulator: RunningAliyunEmulator): ReadonlyArray<DemoCase> => {
  const bind = (n: number, ttlSeconds: number) => {
    const phoneNoA = `1380000000${n}`
    const phoneNoB = `1390000000${n}`
    const b = emulator.createBinding({ mode: "AXB", phoneNoA, phoneNoB, ttlSeconds })
    const request = { poolKey: b.poolKey, subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: phoneNoA }
    return { subsId: b.subsId, request, parties: { phoneNoA, phoneNoB, mode: "AXB" as const } }
  }
  const day = 24 * 3600
  const normal = bind(1, day)
  const temporary = bind(2, day)
  emulator.setCallStatus(temporary.subsId, { status: 2 })
  const noTemporary = bind(3, day)
  emulator.setCallStatus(noTemporary.subsId, { status: 3 })
  const expired = bind(4, 60)
  emulator.advanceClock(120)
  const faulty = bind(5, day)
  emulator.setFault(`QueryCallStatus@${faulty.subsId}`, { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] })
  const stranger = bind(6, day)
  emulator.setCallStatus(stranger.subsId, { status: 3 })
  return [
    { label: "status 1, binding normal -> use-x", request: normal.request },
    { label: "status 2, temporary X assigned -> use-temporary-x", request: temporary.request },
    {
      label: "status 3, no temporary X -> fallback-real to the real callee (the demo allows it; off by default), written to the exposure audit first",
      request: noTemporary.request
    },
    { label: "status 4, binding expired -> rebind (the request names the parties)", request: { ...expired.request, binding: expired.parties } },
    { label: "faulty: every QueryCallStatus fails with isp.SYSTEM_ERROR -> retried, then degraded use-x, still HTTP 200", request: faulty.request },
    {
      label: "status 3, and the caller is no party of the AXB binding -> refuse (the real callee is unknown)",
      request: { ...stranger.request, callerNo: "13700000006" }
    }
  ]
}

/** The emulator for the lifetime of the scope, with the demo key pair the adapter uses for loopback endpoints. */
export const startDemo: Effect.Effect<{ readonly emulator: RunningAliyunEmulator; readonly cases: ReadonlyArray<DemoCase> }, never, Scope.Scope> =
  Effect.map(
    aliyunEmulatorScoped({ accessKeyId: DEMO_ACCESS_KEY_ID, accessKeySecret: DEMO_ACCESS_KEY_SECRET }),
    (emulator) => ({ emulator, cases: seedDemo(emulator) })
  )

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`

/**
 * A curl line for one case. With API keys configured it says `Bearer $PRECALL_API_KEY`: a key is
 * never printed, the reader exports one of theirs.
 */
export const curlLine = (baseUrl: string, request: DecideRequestInput, keysRequired: boolean): string =>
  [
    "curl -sS",
    shellQuote(`${baseUrl}/v1/decisions`),
    "-H 'content-type: application/json'",
    ...(keysRequired ? [`-H "authorization: Bearer $PRECALL_API_KEY"`] : []),
    `-d ${shellQuote(JSON.stringify(request))}`
  ].join(" ")

/** The number the demo's fallback-real case puts the caller through to, for the exposure search line. */
export const DEMO_EXPOSED_NUMBER = "13900000003"

/**
 * The demo's settings: the emulator, real-number fallback allowed (so one case shows an audited
 * fallback-real), and the exposure audit in a file of this run under the temp folder, removed when
 * the demo stops, with a hash secret of this run. PRECALL_AUDIT_FILE, PRECALL_AUDIT_DATABASE_URL and
 * PRECALL_AUDIT_HASH_SECRET, when set, are used instead.
 */
export const demoSettings = (settings: Settings, env: Readonly<Record<string, string | undefined>>, emulatorUrl: string): Effect.Effect<Settings, never, Scope.Scope> =>
  Effect.gen(function*() {
    const given = (name: string) => (env[name]?.trim() ?? "") !== ""
    const auditFile = given("PRECALL_AUDIT_FILE")
      ? settings.auditFile
      : yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "precall-demo-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      ).pipe(Effect.map((dir) => join(dir, "exposures.jsonl")))
    return {
      ...settings,
      aliyunEndpoint: emulatorUrl,
      allowRealFallback: true,
      auditFile,
      auditHashSecret: settings.auditHashSecret ?? Redacted.make(randomBytes(32).toString("hex"))
    }
  })

/** A curl line for the exposure search (open in the demo; with admin keys it says `Bearer $PRECALL_ADMIN_KEY`). */
export const exposuresCurlLine = (baseUrl: string, query: string, keysRequired: boolean): string =>
  ["curl -sS", shellQuote(`${baseUrl}/v1/exposures?${query}`), ...(keysRequired ? [`-H "authorization: Bearer $PRECALL_ADMIN_KEY"`] : [])].join(" ")
