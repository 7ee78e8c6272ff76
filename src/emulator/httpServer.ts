/**
 * The HTTP server under every provider emulator: plain `node:http`, not the Effect HTTP stack, since
 * the emulator is the provider side of benchmarks and must cost as little CPU per request as
 * possible. It never crashes on bad input: each request's handler is guarded (a bug costs that one
 * request the provider's internal-error reply), bodies are capped at 64 KiB, and a request that
 * breaks HTTP parsing gets a bare 400.
 */
import { createServer } from "node:http"
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export const MAX_BODY_BYTES = 64 * 1024
/** Past this a body is no longer drained for the sake of a clean 413; the connection is dropped. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024

/** Runs `fn` after `ms`, in a way the server can cancel when it closes. */
export type Schedule = (ms: number, fn: () => void) => void

export interface EmulatorHandlers {
  /** One request with its whole body; may answer later through `schedule`, or through a promise. */
  readonly dispatch: (req: IncomingMessage, res: ServerResponse, body: Buffer, schedule: Schedule) => Promise<void> | void
  /** The provider's reply to a body over MAX_BODY_BYTES. */
  readonly tooLarge: (res: ServerResponse) => void
  /** The provider's reply when a handler threw. */
  readonly internalError: (res: ServerResponse, error: unknown) => void
  /** Runs first on close (e.g. stop pushing). */
  readonly onClose?: (() => void) | undefined
}

export interface EmulatorServer {
  readonly server: Server
  readonly listen: (port: number, host: string) => Promise<AddressInfo>
  /** Stops listening, cancels pending delayed replies and destroys every socket, hanging ones included. */
  readonly close: () => Promise<void>
}

export const createEmulatorHttpServer = (handlers: EmulatorHandlers): EmulatorServer => {
  const timers = new Set<NodeJS.Timeout>()
  // A bug must cost one request, not the emulator.
  const guarded = (res: ServerResponse, fn: () => Promise<void> | void): void => {
    try {
      const p = fn()
      if (p instanceof Promise) p.catch((e: unknown) => handlers.internalError(res, e))
    } catch (e) {
      handlers.internalError(res, e)
    }
  }

  const dispatch = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const schedule: Schedule = (ms, fn) => {
      const t = setTimeout(() => {
        timers.delete(t)
        guarded(res, fn)
      }, ms)
      timers.add(t)
    }
    guarded(res, () => handlers.dispatch(req, res, body, schedule))
  }

  const server = createServer((req, res) => {
    req.on("error", () => req.destroy())
    res.on("error", () => res.destroy())
    const tooLarge = (): void => {
      handlers.tooLarge(res)
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
        handlers.onClose?.()
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
