// Port lists as PortSentry writes them ("1,7,9,11-15": PortSentry 1.2 takes single ports, PortSentry 2
// adds a-b ranges) and as portsentinel.toml writes them ([1, 7, "11-15"]). Lists are kept sorted
// and without duplicates, so two spellings of the same list compare equal.

export const MIN_PORT = 1;
export const MAX_PORT = 65_535;

export interface PortSpecError {
  /** `bad-port` (0 or above 65535), `bad-range` (a-b with a > b), `wrong-type` (not a number). */
  code: 'bad-port' | 'bad-range' | 'wrong-type';
  message: string;
  /** The item of the list that was wrong, as written. */
  item: string;
}

export interface PortSpec {
  ports: number[];
  errors: PortSpecError[];
}

export function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= MIN_PORT && n <= MAX_PORT;
}

function parsePortNumber(text: string, item: string, errors: PortSpecError[]): number | undefined {
  if (!/^\d+$/.test(text)) {
    errors.push({ code: 'wrong-type', message: `"${item}" is not a port number or a range a-b`, item });
    return undefined;
  }
  const n = Number(text);
  if (!isPort(n)) {
    errors.push({ code: 'bad-port', message: `port ${text} is outside 1-65535`, item });
    return undefined;
  }
  return n;
}

/** One item: "80" or "1024-2048". Appends the ports to `into`. */
export function parsePortItem(raw: string, into: Set<number>, errors: PortSpecError[]): void {
  const item = raw.trim();
  if (item === '') return;
  const dash = item.indexOf('-');
  if (dash < 0) {
    const n = parsePortNumber(item, item, errors);
    if (n !== undefined) into.add(n);
    return;
  }
  const low = parsePortNumber(item.slice(0, dash).trim(), item, errors);
  const high = parsePortNumber(item.slice(dash + 1).trim(), item, errors);
  if (low === undefined || high === undefined) return;
  if (low > high) {
    errors.push({ code: 'bad-range', message: `range ${item} runs backwards (${low} > ${high})`, item });
    return;
  }
  for (let p = low; p <= high; p++) into.add(p);
}

/** Parses "1,7,9,11-15" (spaces around items tolerated, empty items skipped as PortSentry's strtok does). */
export function parsePortSpec(spec: string): PortSpec {
  const set = new Set<number>();
  const errors: PortSpecError[] = [];
  for (const item of spec.split(',')) parsePortItem(item, set, errors);
  return { ports: sortedPorts(set), errors };
}

export function sortedPorts(ports: Iterable<number>): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** Runs of consecutive ports collapsed: [1,2,3,7] -> [[1,3],[7,7]]. Input must be sorted. */
export function portRuns(ports: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const p of ports) {
    const last = runs[runs.length - 1];
    if (last && p === last[1] + 1) last[1] = p;
    else runs.push([p, p]);
  }
  return runs;
}

/** "1,7,9,11-15": the PortSentry 2 spelling (used in messages and summaries). */
export function formatPortSpec(ports: readonly number[]): string {
  return portRuns(ports)
    .map(([a, b]) => (a === b ? String(a) : b === a + 1 ? `${a},${b}` : `${a}-${b}`))
    .join(',');
}
