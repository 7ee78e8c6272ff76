/**
 * How a benchmark's floor servers run as child processes (bench/procs.ts startChild): listen on a
 * loopback port the OS picks, send the URL over IPC, answer `{ cpu: true }` with this process's CPU
 * time, and stop on SIGTERM or when the parent goes away.
 */
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"

export const runAsChild = (server: Server, beforeExit: () => Promise<void> = async () => undefined): void => {
  server.keepAliveTimeout = 60_000
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    process.send?.({ url: `http://127.0.0.1:${port}` })
  })
  process.on("message", (m: { cpu?: boolean }) => {
    if (m.cpu === true) process.send?.({ cpu: process.cpuUsage() })
  })
  const stop = (): void => {
    server.closeAllConnections()
    server.close(() => void beforeExit().finally(() => process.exit(0)))
  }
  process.on("SIGTERM", stop)
  process.on("disconnect", stop)
}
