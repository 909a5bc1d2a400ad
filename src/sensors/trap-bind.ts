// Binding trap sockets on many ports and addresses, shared by the TCP and UDP traps. A port that a
// real service already holds (on any of the addresses) is skipped entirely, so the trap never sits
// on one stack of a port whose other stack serves real clients. The result is ONE summary, not one
// error per port.

export interface TrapSummary {
  /** Ports bound on every usable address, ascending. */
  bound: number[];
  /** Ports skipped because something already listens there (EADDRINUSE), ascending. */
  inUse: number[];
  /** Ports that failed for another reason (EACCES below 1024 without root, ...). */
  failed: { port: number; error: string }[];
  /** Addresses this host cannot bind at all (IPv6 disabled, address not configured): skipped. */
  skippedAddresses: { address: string; error: string }[];
}

export interface Closable {
  close(): Promise<void>;
}

/** Errors that say "this address does not exist here", not "this port is taken". */
const ADDRESS_UNAVAILABLE = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

export async function bindAll(
  ports: number[],
  addresses: string[],
  bindOne: (port: number, address: string) => Promise<Closable>,
): Promise<{ summary: TrapSummary; handles: Closable[] }> {
  const summary: TrapSummary = { bound: [], inUse: [], failed: [], skippedAddresses: [] };
  const handles: Closable[] = [];
  const uniquePorts = [...new Set(ports)].sort((a, b) => a - b);
  const usable = [...new Set(addresses)];

  const results = await Promise.all(
    uniquePorts.map(async (port) => {
      const outcomes = await Promise.all(
        usable.map((address) =>
          bindOne(port, address).then(
            (handle) => ({ address, handle, error: undefined as string | undefined }),
            (err: unknown) => ({ address, handle: undefined, error: codeOf(err) }),
          ),
        ),
      );
      return { port, outcomes };
    }),
  );

  const unavailable = new Map<string, string>();
  for (const { outcomes } of results) {
    for (const o of outcomes)
      if (o.error && ADDRESS_UNAVAILABLE.has(o.error)) unavailable.set(o.address, o.error);
  }
  for (const [address, error] of unavailable) summary.skippedAddresses.push({ address, error });

  for (const { port, outcomes } of results) {
    const relevant = outcomes.filter((o) => !unavailable.has(o.address));
    const inUse = relevant.some((o) => o.error === 'EADDRINUSE');
    const failure = relevant.find((o) => o.error !== undefined && o.error !== 'EADDRINUSE');
    const ok = relevant.length > 0 && !inUse && !failure;
    for (const o of outcomes) {
      if (!o.handle) continue;
      if (ok) handles.push(o.handle);
      else await o.handle.close();
    }
    if (ok) summary.bound.push(port);
    else if (inUse) summary.inUse.push(port);
    else summary.failed.push({ port, error: failure?.error ?? 'no usable address' });
  }
  return { summary, handles };
}

export async function closeAll(handles: Closable[]): Promise<void> {
  await Promise.allSettled(handles.map((h) => h.close()));
}
