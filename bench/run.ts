// `npm run bench [name ...]`: runs every benchmark (or those whose file name contains a name)
// and prints its figures.
// Benchmarks print; they assert nothing. Each module exports one async function; a module that
// is missing (not written yet) is skipped with a note, so one missing piece never hides the rest.

interface Bench {
  file: string;
  fn: string;
  title: string;
}

const BENCHES: Bench[] = [
  {
    file: './trap-to-ban.js',
    fn: 'benchTrapToBan',
    title: 'first probe → ban enforced, classic and advanced modes (nftables)',
  },
  { file: './nft-bulk.js', fn: 'benchNftBulk', title: 'nftables bulk bans (1k / 10k / 100k)' },
  {
    file: './detector-flood.js',
    fn: 'benchDetectorFlood',
    title: 'detector under a flood of 1M distinct sources',
  },
  {
    file: './daemon-flood.js',
    fn: 'benchDaemonFlood',
    title: 'daemon RSS and drops under a flood of 1M distinct sources',
  },
  { file: './packet-pipeline.js', fn: 'benchPacketPipeline', title: 'offline packet pipeline vs libpcap' },
  {
    file: './scanner-learns.js',
    fn: 'benchScannerLearns',
    title: 'what a scanner learns (trap mode vs unprotected), first probe to enforcement',
  },
  { file: './rules.js', fn: 'benchRules', title: 'logcheck rule matcher (server-level rules)' },
  { file: './logcheck.js', fn: 'benchLogcheck', title: 'logcheck pipeline vs logcheck 1.4.2' },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  let failures = 0;
  for (const bench of BENCHES) {
    if (only.length > 0 && !only.some((o) => bench.file.includes(o))) continue;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(bench.file)) as Record<string, unknown>;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND') {
        console.log(`\n== ${bench.title}: skipped (${bench.file.replace('.js', '.ts')} not in this build)`);
        continue;
      }
      throw err;
    }
    const fn = mod[bench.fn];
    if (typeof fn !== 'function') {
      console.log(`\n== ${bench.title}: skipped (${bench.fn} not exported)`);
      continue;
    }
    console.log(`\n== ${bench.title}`);
    const started = performance.now();
    try {
      await (fn as () => Promise<unknown>)();
    } catch (err) {
      failures++;
      console.log(`   failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    console.log(`   (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (failures > 0) process.exitCode = 1;
}

await main();
