// A fixed-window budget: at most `limit` takes per wall-clock second. Used to keep log output
// and audit rows bounded under a flood, where what exceeds the budget is counted instead.

export interface Budget {
  take(): boolean;
}

export function perSecond(limit: number, now: () => number = Date.now): Budget {
  let second = 0;
  let used = 0;
  return {
    take() {
      const s = Math.floor(now() / 1000);
      if (s !== second) {
        second = s;
        used = 0;
      }
      return used++ < limit;
    },
  };
}
