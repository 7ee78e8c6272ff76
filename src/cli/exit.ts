/** The CLI's exit codes (docs/cli.md) and its one way to report an error: one line on stderr. */
import { Effect } from "effect"

export const exitCodes = {
  /** A decision was printed, or the command ran and stopped cleanly. */
  ok: 0,
  /** Anything unexpected. */
  unexpected: 1,
  /** Bad arguments or settings: nothing was asked of any provider. */
  usage: 2
} as const

/**
 * Sets the exit code and, when `message` is non-empty, writes `precall: <message>` on stderr as one
 * line (an empty message: the presenter already said it).
 */
export const failWith = (code: number, message: string | undefined) =>
  Effect.sync(() => {
    if (message !== undefined && message !== "") process.stderr.write(`precall: ${message.replace(/:\s*\n\s*/g, ": ").replace(/\s*\n\s*/g, "; ")}\n`)
    process.exitCode = code
  })
