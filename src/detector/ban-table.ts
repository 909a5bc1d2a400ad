// The bans the detector believes are in force, with their end times in a min-heap so tick() finds
// the expired ones without scanning every ban. Kept apart from the source table: evicting a
// source under a flood must never forget a ban. Its size is bounded by the ban rate cap
// (maxBansPerMinute × ban lifetime), not by the traffic.

export interface Ban {
  /** Epoch ms, null = permanent. */
  until: number | null;
  offence: number;
  /** A provisional ban of an unverified source; upgraded to a full ban once corroborated. */
  provisional?: boolean;
}

export class BanTable {
  private readonly bans = new Map<string, Ban>();
  /** [until, address]; stale entries (ban replaced or forgotten) are skipped when popped. */
  private readonly heap: [number, string][] = [];

  get size(): number {
    return this.bans.size;
  }

  get(address: string): Ban | undefined {
    return this.bans.get(address);
  }

  set(address: string, ban: Ban): void {
    this.bans.set(address, ban);
    if (ban.until !== null) this.push([ban.until, address]);
  }

  delete(address: string): boolean {
    return this.bans.delete(address);
  }

  /** Removes and returns the bans whose end time is <= now, earliest first (ties by address). */
  takeExpired(now: number): [string, Ban][] {
    const out: [string, Ban][] = [];
    while (this.heap.length > 0 && (this.heap[0] as [number, string])[0] <= now) {
      const [until, address] = this.pop();
      const ban = this.bans.get(address);
      if (ban && ban.until === until) {
        this.bans.delete(address);
        out.push([address, ban]);
      }
    }
    return out;
  }

  private less(a: [number, string], b: [number, string]): boolean {
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  }

  private push(item: [number, string]): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i] as [number, string], h[parent] as [number, string])) break;
      [h[i], h[parent]] = [h[parent] as [number, string], h[i] as [number, string]];
      i = parent;
    }
  }

  private pop(): [number, string] {
    const h = this.heap;
    const top = h[0] as [number, string];
    const last = h.pop() as [number, string];
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < h.length && this.less(h[l] as [number, string], h[smallest] as [number, string]))
          smallest = l;
        if (r < h.length && this.less(h[r] as [number, string], h[smallest] as [number, string]))
          smallest = r;
        if (smallest === i) break;
        [h[i], h[smallest]] = [h[smallest] as [number, string], h[i] as [number, string]];
        i = smallest;
      }
    }
    return top;
  }
}
