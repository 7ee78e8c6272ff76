/**
 * Machine instructions per HTTP request of one of scenario (b)'s servers, for
 * `node bench/profile.ts --service-instructions <server> [requests]`: the server runs under valgrind's
 * callgrind with counting off; after a warm-up, counting is switched on (`callgrind_control -i on`),
 * `requests` requests are sent from 16 connections, and the count is dumped (`callgrind_control -d`).
 * What it counts is the server's user-space work per request (node:http, precall, undici, GC), not
 * the kernel's (socket writes, wake-ups), and not timing: an A/B of a change to the service's own
 * CPU that repeats where timed runs on this VM do not.
 *
 * The window must be long: a major GC or a tier-up falls in a short one or not, and 4,000 requests
 * gave 205k-475k for the same status-cache hit; 15,000 repeat within about 0.5 % (issue 11, round 11).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Agent, request } from "undici"
import { startEmulatorProcess } from "./emulator.ts"
import { LIVE_ENV } from "./live.ts"
import { freePort } from "./procs.ts"
import { makeTargets } from "./run-helpers.ts"
import { API_KEY, decisionBodies } from "./scenarios/service.ts"

export const INSTRUMENTED_SERVERS = ["precall", "precall-hits", "skeleton", "bare"] as const
export type InstrumentedServer = (typeof INSTRUMENTED_SERVERS)[number]

/**
 * valgrind's arguments for counting a node process's instructions: V8 writes its code at run time,
 * and one thread makes V8 compile on the main thread, so the count does not hang on thread timing.
 */
export const callgrindNode = (outFile: string, script: string, ...valgrindFlags: ReadonlyArray<string>): Array<string> => [
  "--tool=callgrind", `--callgrind-out-file=${outFile}`, "--smc-check=all-non-file", ...valgrindFlags, process.execPath, "--single-threaded", script
]

const CONNECTIONS = 16
const WARMUP_REQUESTS = 10_000
/** Requests around each switch: callgrind takes a command when the process runs, not while it waits in epoll. */
const NUDGE_REQUESTS = 20

const scriptOf = (server: InstrumentedServer): string =>
  new URL(server === "skeleton" ? "./skeleton-server.ts" : server === "bare" ? "./bare-server.ts" : "./service-process.ts", import.meta.url).pathname

const run = (command: string, args: ReadonlyArray<string>): Promise<number | null> =>
  new Promise((resolve) => spawn(command, args, { stdio: "ignore" }).on("close", resolve))

/** Instructions per request of `server` over `requests` requests after a warm-up; start-up and warm-up are not counted. */
export const serviceInstructions = async (server: InstrumentedServer, requests: number): Promise<number> => {
  const emulator = await startEmulatorProcess({ verifySignatures: true })
  const dir = mkdtempSync(join(tmpdir(), "precall-service-instructions-"))
  const agent = new Agent({ connections: CONNECTIONS })
  let proc: ReturnType<typeof spawn> | undefined = undefined
  try {
    const bodies = decisionBodies(await makeTargets(emulator, CONNECTIONS))
    const port = await freePort()
    const env = {
      ...process.env, ...LIVE_ENV, BENCH_SERVICE_PORT: String(port), PRECALL_ALIYUN_ENDPOINT: emulator.url, BENCH_EMULATOR_URL: emulator.url,
      PRECALL_API_KEYS: API_KEY, ...(server === "precall-hits" ? { PRECALL_STATUS_TTL_MS: "60000" } : {})
    }
    const child = spawn("valgrind", callgrindNode(join(dir, "callgrind.out"), scriptOf(server), "--instr-atstart=no"), {
      env, stdio: ["ignore", "ignore", "pipe", "ipc"]
    })
    proc = child
    let stderr = ""
    child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)))
    // the bare server and the skeleton announce their URL over IPC; precall's service listens on BENCH_SERVICE_PORT
    const url = server.startsWith("precall") ? `http://127.0.0.1:${port}` : await new Promise<string>((resolve, reject) => {
      child.on("message", (m: { url?: string }) => typeof m.url === "string" && resolve(m.url))
      child.on("exit", (code) => reject(new Error(`${server} exited with ${code}: ${stderr.slice(-800)}`)))
    })
    const send = async (n: number) => {
      let next = 0
      await Promise.all(bodies.map(async (body) => {
        while (next < n) {
          next++
          const res = await request(`${url}/v1/decisions`, {
            method: "POST", dispatcher: agent, body, headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` }
          })
          await res.body.text()
          if (res.statusCode !== 200) throw new Error(`${server} answered ${res.statusCode}`)
        }
      }))
    }
    const until = Date.now() + 5 * 60_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${server} exited with ${child.exitCode}: ${stderr.slice(-800)}`)
      try {
        await send(1)
        break
      } catch (e) {
        if (Date.now() > until) throw e
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    await send(WARMUP_REQUESTS)
    const on = run("callgrind_control", ["-i", "on", String(child.pid)])
    await send(NUDGE_REQUESTS)
    await on
    await send(requests)
    const dumped = run("callgrind_control", ["-d", String(child.pid)])
    await send(NUDGE_REQUESTS)
    await dumped
    const counts = readdirSync(dir).map((f) => Number(/^summary:\s+(\d+)/m.exec(readFileSync(join(dir, f), "utf8"))?.[1] ?? 0))
    const counted = Math.max(0, ...counts)
    if (counted === 0) throw new Error(`no callgrind dump in ${dir}`)
    // the nudge before the window is counted; the one after it, at most in part
    return counted / (requests + NUDGE_REQUESTS)
  } finally {
    proc?.kill("SIGKILL")
    await agent.close()
    await emulator.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
