// nftables ban throughput and latency, in a throw-away network namespace (the host's own
// ruleset is never touched). Prints figures; asserts nothing. Run: npm run bench -- nft-bulk
// (or `node dist/bench/run.js nft-bulk`). Needs root and nft.

import { execFileSync } from 'node:child_process';
import type { BanTarget } from '../src/responders/contract.js';
import { NftablesResponder } from '../src/responders/nftables.js';
import { makeRunner } from '../src/responders/spawn.js';

function addresses(n: number, offset = 0): BanTarget[] {
  const until = Date.now() + 3_600_000;
  const out: BanTarget[] = [];
  for (let i = offset; i < offset + n; i++) {
    // 10.0.0.0/8 inside a private namespace: never routed anywhere.
    out.push({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, family: 4, until });
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function benchNftBulk(): Promise<void> {
  const ns = `ps-rsb-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const prefix = ['ip', 'netns', 'exec', ns];
  const r = new NftablesResponder(
    { run: makeRunner(prefix), spawnPrefix: prefix, log: () => {}, now: () => Date.now() },
    { table: 'portsentinel' },
  );
  try {
    await r.init();
    let offset = 0;
    for (const n of [1000, 10_000, 100_000]) {
      const batch = addresses(n, offset);
      offset += n;
      const t0 = performance.now();
      const results = await r.block(batch);
      const ms = performance.now() - t0;
      const failed = results.filter((x) => !x.ok).length;
      console.log(
        `   block ${String(n).padStart(6)} new addresses, one transaction: ${ms.toFixed(0).padStart(5)} ms${failed ? ` (${failed} failed)` : ''}`,
      );
    }
    const listed = (await r.list()).length;
    console.log(`   set holds ${listed} elements`);

    const t1 = performance.now();
    await r.block(addresses(100_000, 1000));
    console.log(
      `   re-block 100000 existing addresses (new timeouts): ${(performance.now() - t1).toFixed(0)} ms`,
    );

    const singles: number[] = [];
    for (let i = 0; i < 500; i++) {
      const [one] = addresses(1, 200_000 + i);
      const t = performance.now();
      await r.block([one as BanTarget]);
      singles.push(performance.now() - t);
    }
    singles.sort((a, b) => a - b);
    console.log(
      `   single ban (block() call to committed in the kernel), 500 runs, set of ~111k: p50 ${percentile(singles, 50).toFixed(2)} ms, p99 ${percentile(singles, 99).toFixed(2)} ms`,
    );

    execFileSync('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'portsentinel']);
    const active = [...addresses(100_000, 0)];
    const t2 = performance.now();
    const report = await r.reconcile(active);
    console.log(
      `   reconcile after the table was deleted: 100000 bans re-applied in ${(performance.now() - t2).toFixed(0)} ms (${report.applied.length} applied, ${report.errors.length} errors)`,
    );
  } finally {
    await r.close();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
