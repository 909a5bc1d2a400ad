// A token bucket on event time: `perMinute` tokens, refilled continuously. Used for the cap on new
// bans and for the burst-summary flood limiter. Time only moves forward: an event older than the
// last one seen refills nothing (replays and two sensors may interleave slightly out of order).

export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  /** perMinute <= 0 means unlimited. */
  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }

  take(at: number): boolean {
    if (this.perMinute <= 0) return true;
    if (this.last === undefined) this.last = at;
    if (at > this.last) {
      this.tokens = Math.min(this.perMinute, this.tokens + ((at - this.last) * this.perMinute) / 60_000);
      this.last = at;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}
