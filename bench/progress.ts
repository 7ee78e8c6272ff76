/** Progress on stderr: one line per step, and a `\r` status line while a step runs (on a terminal). */
export interface Progress {
  /** Starts a step: prints its line. */
  readonly step: (label: string) => void
  /** Live status of the current step; printed in place on a TTY, dropped otherwise. */
  readonly tick: (status: string) => void
  /** A finished step's result, on its own line. */
  readonly done: (result: string) => void
}

export const makeProgress = (total: number): Progress => {
  const tty = process.stderr.isTTY === true
  let n = 0
  let label = ""
  let live = false
  const clear = () => {
    if (live) process.stderr.write("\r\x1b[K")
    live = false
  }
  return {
    step: (l) => {
      clear()
      n++
      label = `[${n}/${total}] ${l}`
      process.stderr.write(tty ? `${label} …` : `${label}\n`)
      live = tty
    },
    tick: (status) => {
      if (!tty) return
      process.stderr.write(`\r\x1b[K${label} … ${status}`)
      live = true
    },
    done: (result) => {
      clear()
      process.stderr.write(`${tty ? label : "   "} → ${result}\n`)
    }
  }
}

/** The driver's onTick, rendered for the progress line. */
export const loopTicker = (progress: Progress) => (phase: string, done: number, elapsedMs: number) =>
  progress.tick(`${phase} ${(elapsedMs / 1000).toFixed(1)} s, ${done} ops, ${Math.round(done / (elapsedMs / 1000))}/s`)
