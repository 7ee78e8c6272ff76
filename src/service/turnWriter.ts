/**
 * The decision route's answers, written together at the end of the event-loop turn that produced
 * them (issue 11).
 *
 * Why: a socket write that wakes a client sleeping on the other end costs the writing process the
 * kernel's wake-up, and on a virtual machine that wake-up is an inter-processor interrupt, a VM exit.
 * With the client on the same host (a sidecar, the benchmark), that was the largest single cost of
 * a status-cache hit: the same `end()` took twice the CPU in precall's service as in a bare server
 * whose client never slept. Under load node's poll phase hands over the requests of many
 * connections in one turn; their answers now go out back to back in the check phase that follows
 * (`setImmediate`), so a client woken by the first finds the others waiting. Measured (2026-12-04,
 * 2 cores, 64 connections, median of 7 interleaved 3 s blocks): status-cache hits 105 → 78 µs of
 * server CPU per request (9.5k → 12.9k req/s, the bare server 25.8k); live decisions, which spend
 * most of a request waiting on the provider, within the noise. Over a real network the wake-up is
 * the receiving host's, so the gain there is smaller.
 *
 * An answer waits at most for the rest of its turn, never for I/O: while an immediate is pending,
 * node's poll does not block. The status line and headers are set at once (`writeHead` writes
 * nothing: node sends them with the body); only `end` waits. A response destroyed meanwhile (the
 * client went away) is skipped; one whose `end` throws is destroyed, and the others still go out.
 */
import type { ServerResponse } from "node:http"

/** `end(body)` of each response handed over in a turn, in order, once the turn's I/O is done. */
export const makeTurnWriter = (): ((response: ServerResponse, body: string) => void) => {
  let responses: Array<ServerResponse> = []
  let bodies: Array<string> = []
  const flush = () => {
    const ending = responses
    const written = bodies
    responses = []
    bodies = []
    for (let i = 0; i < ending.length; i++) {
      const response = ending[i]!
      if (response.destroyed) continue
      try {
        response.end(written[i])
      } catch {
        // outside any handler a throw would end the process, and the turn's other answers with it
        response.destroy()
      }
    }
  }
  return (response, body) => {
    responses.push(response)
    bodies.push(body)
    if (responses.length === 1) setImmediate(flush)
  }
}
