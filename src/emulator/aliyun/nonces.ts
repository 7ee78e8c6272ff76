/**
 * Seen signature nonces, for `SignatureNonceUsed`. A nonce only needs remembering until its request's
 * timestamp leaves the 15-minute window, because after that a replay fails the timestamp check anyway.
 * Entries are kept in insertion order (close to timestamp order) and dropped from the front; a hard
 * cap bounds memory under extreme load at the price of forgetting the oldest nonces early.
 */
export class NonceStore {
  private readonly seen = new Map<string, number>()
  private readonly windowMs: number
  private readonly maxEntries: number

  constructor(windowMs: number, maxEntries: number) {
    this.windowMs = windowMs
    this.maxEntries = maxEntries
  }

  /** Records the nonce; false when it was already seen within the window. */
  claim(nonce: string, requestTimeMs: number, nowMs: number): boolean {
    this.forgetExpired(nowMs)
    const until = this.seen.get(nonce)
    // Kept through the last millisecond the timestamp check still accepts (|now - t| <= window).
    if (until !== undefined && until >= nowMs) return false
    this.seen.delete(nonce)
    this.seen.set(nonce, requestTimeMs + this.windowMs)
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!)
    return true
  }

  get size(): number {
    return this.seen.size
  }

  clear(): void {
    this.seen.clear()
  }

  private forgetExpired(nowMs: number): void {
    for (const [nonce, until] of this.seen) {
      if (until >= nowMs) return
      this.seen.delete(nonce)
    }
  }
}
