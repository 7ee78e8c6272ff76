/**
 * The Huawei emulator's HTTP server: plain `node:http`, for the same reason as Aliyun's (the
 * provider side of a benchmark must cost little CPU). It never crashes on bad input: every handler is
 * guarded (a bug costs one request a `1010001`) and bodies are capped at 64 KiB.
 */
import { createServer } from "node:http"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { CONTROL_PREFIX, handleControlRequest } from "./control.ts"
import type { HuaweiEmulatorCore } from "./emulator.ts"
import { result } from "./results.ts"
import { handleApiRequest } from "./wire.ts"

export const MAX_BODY_BYTES = 64 * 1024
/** Past this a body is no longer drained for the sake of a clean 413; the connection is dropped. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024

export interface HuaweiEmulatorServer {
  readonly server: Server
  readonly listen: (port: number, host: string) => Promise<AddressInfo>
  /** Stops listening and pushing, cancels delayed replies and destroys every socket, hanging ones included. */
  readonly close: () => Promise<void>
}

const sendError = (res: ServerResponse, status: number, code: string, desc: string): void => {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify({ resultcode: code, resultdesc: desc })
  res.writeHead(status, { "content-type": "application/json;charset=UTF-8", "content-length": Buffer.byteLength(text), connection: "close" })
  res.end(text)
}

const internalError = (res: ServerResponse, e: unknown): void =>
  sendError(res, 500, "1010001", `${result("1010001").resultdesc} ${e instanceof Error ? e.message : String(e)}`)

export const createHuaweiEmulatorServer = (core: HuaweiEmulatorCore): HuaweiEmulatorServer => {
  const timers = new Set<NodeJS.Timeout>()
  // A bug must cost one request, not the emulator.
  const guarded = (res: ServerResponse, fn: () => Promise<void> | void): void => {
    try {
      const p = fn()
      if (p instanceof Promise) p.catch((e: unknown) => internalError(res, e))
    } catch (e) {
      internalError(res, e)
    }
  }

  const dispatch = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const url = req.url ?? "/"
    if (url === CONTROL_PREFIX || url.startsWith(`${CONTROL_PREFIX}/`) || url.startsWith(`${CONTROL_PREFIX}?`)) {
      return guarded(res, () => handleControlRequest(core, req, res, body))
    }
    const schedule = (ms: number, fn: () => void): void => {
      const t = setTimeout(() => {
        timers.delete(t)
        guarded(res, fn)
      }, ms)
      timers.add(t)
    }
    guarded(res, () => handleApiRequest(core, schedule, req, res, body))
  }

  const server = createServer((req, res) => {
    req.on("error", () => req.destroy())
    res.on("error", () => res.destroy())
    const tooLarge = (): void => {
      sendError(res, 413, "1010002", `Invalid request: the body is larger than ${MAX_BODY_BYTES} bytes.`)
      drain(req)
    }
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return tooLarge()
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk)
        return
      }
      req.off("data", onData)
      req.off("end", onEnd)
      chunks.length = 0
      tooLarge()
    }
    const onEnd = (): void => dispatch(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    req.on("data", onData)
    req.on("end", onEnd)
  })
  // Malformed HTTP: answer 400 when possible instead of letting the parser error escape.
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
    else socket.destroy()
  })

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject)
        server.listen(port, host, () => {
          server.off("error", reject)
          resolve(server.address() as AddressInfo)
        })
      }),
    close: () =>
      new Promise((resolve) => {
        core.outbox.stop()
        for (const t of timers) clearTimeout(t)
        timers.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/** Reads and discards the rest of an oversized body so the client gets its 413 rather than a broken pipe. */
const drain = (req: IncomingMessage): void => {
  let drained = 0
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy()
  })
  req.resume()
}
