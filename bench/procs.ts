/** Child processes of the benchmark: started with IPC, asked for their CPU time, stopped by pid. */
import { type ChildProcess, fork } from "node:child_process"
import { createServer } from "node:net"
import type { AddressInfo } from "node:net"

export interface Child {
  readonly proc: ChildProcess
  /** Set when the child announces it over IPC (`{ url }`). */
  readonly url: string
  /** The child's process.cpuUsage(), total micros, for children that answer `{ cpu: true }`. */
  readonly cpuMicros: () => Promise<number>
  readonly stop: () => Promise<void>
}

const within = <A>(ms: number, what: string, p: Promise<A>): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    p.then((a) => (clearTimeout(t), resolve(a)), (e: unknown) => (clearTimeout(t), reject(e)))
  })

/**
 * Forks `script` (a .ts file run by Node's type stripping) and waits for it to be ready: for its
 * `{ url }` message, or, with `readyUrl`, for that URL to answer 200.
 */
export const startChild = async (
  script: string,
  env: Record<string, string>,
  options: { readonly readyUrl?: string; readonly quietStdout?: boolean; readonly execArgv?: ReadonlyArray<string> } = {}
): Promise<Child> => {
  const proc = fork(script, [], {
    env: { ...process.env, ...env },
    ...(options.execArgv === undefined ? {} : { execArgv: [...process.execArgv, ...options.execArgv] }),
    stdio: ["ignore", options.quietStdout === true ? "ignore" : "inherit", "pipe", "ipc"]
  })
  let stderr = ""
  proc.stderr?.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString("utf8")).slice(-4000)
  })
  const exited = new Promise<never>((_, reject) =>
    proc.once("exit", (code) => reject(new Error(`${script} exited with ${code}: ${stderr.trim().slice(-800)}`))))
  exited.catch(() => undefined)
  const url = await within(30_000, `starting ${script}`, Promise.race([
    exited,
    options.readyUrl !== undefined ? waitForHttp(options.readyUrl) : new Promise<string>((resolve) => {
      const onMessage = (m: { url?: string }) => {
        if (typeof m.url === "string") {
          proc.off("message", onMessage)
          resolve(m.url)
        }
      }
      proc.on("message", onMessage)
    })
  ]))
  const cpuMicros = () =>
    within(5000, `cpu of ${script}`, new Promise<number>((resolve) => {
      const onMessage = (m: { cpu?: NodeJS.CpuUsage }) => {
        if (m.cpu !== undefined) {
          proc.off("message", onMessage)
          resolve(m.cpu.user + m.cpu.system)
        }
      }
      proc.on("message", onMessage)
      proc.send({ cpu: true })
    }))
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()))
    proc.kill("SIGTERM")
    const t = setTimeout(() => proc.kill("SIGKILL"), 5000)
    await gone
    clearTimeout(t)
  }
  return { proc, url, cpuMicros, stop }
}

/** Polls `url` until it answers 200 (at most 30 s); resolves with its origin. */
const waitForHttp = async (url: string): Promise<string> => {
  const until = Date.now() + 30_000
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.status === 200) return new URL(url).origin
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not answer 200 within 30 s`)
}

/** A free loopback port (asked of the OS, then released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
  })
