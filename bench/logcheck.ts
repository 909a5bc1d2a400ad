// Benchmark: portsentinel's logcheck engine against the real logcheck 1.4.2 on the same generated
// log (a busy server's syslog + auth.log mix) with Debian's full server-level rules. Prints lines/s,
// times, peak memory and whether the two reports are identical; asserts nothing.
//   BENCH_LOGCHECK_LINES=200000 npm run bench   (default 1,000,000; logcheck needs ~100 s for 1M)
//   BENCH_LOGCHECK_REAL=0 skips the real logcheck.

import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Classifier } from '../src/logcheck/engine.js';
import { generateLogLines } from '../src/logcheck/gen-logs.js';
import { renderReport } from '../src/logcheck/report.js';
import { loadRuleDirs } from '../src/logcheck/rule-dirs.js';
import { readFileSource } from '../src/logcheck/sources/file.js';
import { prepareRealRun, realLogcheckMissing, runRealLogcheckAsync } from '../test/logcheck-real.js';

const RULES = '/etc/logcheck';

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

async function writeLog(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  let buf = '';
  for (const line of generateLogLines(count, { seed: 42 })) {
    buf += `${line}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

type Loaded = ReturnType<typeof loadRuleDirs>;

/** One pass of the pipeline over the file: read as a source (streaming batches), classify, render. */
async function pipeline(rules: Loaded, path: string) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const classifier = new Classifier(rules.dirs, {});
  let peakRss = process.memoryUsage().rss;
  let n = 0;
  const src = readFileSource(path, undefined, { chunkBytes: 1 << 20 });
  const group = basename(path);
  for await (const batch of src) {
    classifier.pushBatch(batch, group);
    n += batch.length;
    if ((n & 0xffff) < batch.length) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const result = classifier.finish();
  const report = renderReport({
    result,
    header: rules.header,
    footer: rules.footer,
    host: 'bench',
    date: new Date(),
  });
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return { n, result, body: report?.body ?? '', secs, cpuSecs: (cpu.user + cpu.system) / 1e6, peakRss };
}

export async function benchLogcheck(): Promise<void> {
  const count = Number(process.env.BENCH_LOGCHECK_LINES ?? 1_000_000);
  const run = prepareRealRun('', 'syslog');
  try {
    await writeLog(run.logPath, count);
    const rssBefore = process.memoryUsage().rss;

    // portsentinel: read the file as a source (streaming batches), classify, render. The time is
    // the pipeline's own (the input file is generated before); CPU time is printed too, since on a
    // shared machine wall time also counts other processes' turns.
    const t0 = performance.now();
    const rules = loadRuleDirs(RULES, { level: 'server', supportCrackingIgnore: false });
    const tLoaded = performance.now();
    const first = await pipeline(rules, run.logPath);
    const { n, result, secs } = first;
    const ours = first.body;
    console.log(`logcheck bench: ${count.toLocaleString('en')} lines, Debian rules at level server`);
    console.log(
      `  portsentinel: ${secs.toFixed(2)} s (${Math.round(n / secs).toLocaleString('en')} lines/s; ` +
        `CPU ${first.cpuSecs.toFixed(2)} s), ` +
        `rules loaded+compiled in ${((tLoaded - t0) / 1000).toFixed(2)} s, ` +
        `${result.linesReported.toLocaleString('en')} lines reported, ` +
        `RSS ${mb(rssBefore)} -> peak ${mb(first.peakRss)} (maxRSS ${mb(process.resourceUsage().maxRSS * 1024)})`,
    );
    // The same pass again in the same process (JIT warm): the steady rate, reported as such.
    const warm = await pipeline(rules, run.logPath);
    console.log(
      `  portsentinel, second pass (warm): ${warm.secs.toFixed(2)} s (${Math.round(warm.n / warm.secs).toLocaleString('en')} lines/s; ` +
        `CPU ${warm.cpuSecs.toFixed(2)} s), report ${warm.body === ours ? 'identical' : 'DIFFERENT'} to the first pass`,
    );
    const group = basename(run.logPath);

    // Classification alone (lines already in memory), the engine's own ceiling.
    const sample = [...generateLogLines(Math.min(count, 200_000), { seed: 43 })];
    const c2 = new Classifier(rules.dirs, {});
    const t2 = performance.now();
    for (const l of sample) c2.push(l, group);
    c2.finish();
    const t3 = performance.now();
    console.log(
      `  portsentinel classify only: ${Math.round(sample.length / ((t3 - t2) / 1000)).toLocaleString('en')} lines/s on ${sample.length.toLocaleString('en')} lines in memory`,
    );

    const missing = realLogcheckMissing();
    if (process.env.BENCH_LOGCHECK_REAL === '0' || missing) {
      console.log(`  logcheck 1.4.2: skipped (${missing ?? 'BENCH_LOGCHECK_REAL=0'})`);
      return;
    }
    const t4 = performance.now();
    const real = await runRealLogcheckAsync(run, { ruleDir: RULES, level: 'server' });
    const t5 = performance.now();
    const realSecs = (t5 - t4) / 1000;
    console.log(
      `  logcheck 1.4.2: ${realSecs.toFixed(1)} s (${Math.round(count / realSecs).toLocaleString('en')} lines/s), exit ${real.status}`,
    );
    console.log(`  speed-up: ${(realSecs / secs).toFixed(0)}x`);
    const same = real.stdout === ours;
    console.log(
      `  reports identical: ${same ? 'yes' : 'NO'} (${real.stdout.length} vs ${ours.length} bytes)`,
    );
    if (!same) {
      const a = real.stdout.split('\n');
      const b = ours.split('\n');
      const i = a.findIndex((l, k) => l !== b[k]);
      console.log(
        `  first difference at report line ${i + 1}:\n    logcheck: ${a[i]}\n    ours:     ${b[i]}`,
      );
    }
  } finally {
    run.cleanup();
  }
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  await benchLogcheck();
}
