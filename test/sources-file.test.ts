// The file source across every rotation logtail2 gets wrong: each case writes numbered lines,
// reads, rotates, appends, reads again, and asserts the exact sequence (no loss, no duplicate).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type FileCursor, parseFileCursor, readFileSource } from '../src/logcheck/sources/file.js';
import { headOf } from '../src/logcheck/sources/rotated.js';
import { drainRun, type SourceOutcome } from '../src/logcheck/sources/types.js';

const root = mkdtempSync(join(tmpdir(), 'ps-sources-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
/** A new empty directory per case, so rotated names of one case never meet another's. */
function freshDir(): string {
  const d = join(root, `case${dirCount++}`);
  mkdirSync(d);
  return d;
}

const line = (n: number): string => `Nov 29 10:00:00 host app[1]: seq ${String(n).padStart(6, '0')}`;
const lines = (from: number, to: number): string[] => {
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(line(n));
  return out;
};
const text = (from: number, to: number): string =>
  lines(from, to)
    .map((l) => l + '\n')
    .join('');

interface Read {
  lines: string[];
  outcome: SourceOutcome<FileCursor>;
}
async function read(path: string, cursor: FileCursor | undefined, opts = {}): Promise<Read> {
  const got: string[] = [];
  // Round-trip the cursor through its JSON, as the store would.
  const stored = cursor === undefined ? undefined : parseFileCursor(JSON.stringify(cursor));
  const outcome = await drainRun(readFileSource(path, stored, opts), (b) => {
    got.push(...b);
  });
  return { lines: got, outcome };
}

describe('file source: growth and partial lines', () => {
  test('reads everything the first time, then only what was appended', async () => {
    const p = join(freshDir(), 'syslog');
    writeFileSync(p, text(1, 100));
    const r1 = await read(p, undefined);
    assert.deepEqual(r1.lines, lines(1, 100));
    assert.equal(r1.outcome.problems.length, 0);
    appendFileSync(p, text(101, 150));
    const r2 = await read(p, r1.outcome.cursor);
    assert.deepEqual(r2.lines, lines(101, 150));
    const r3 = await read(p, r2.outcome.cursor);
    assert.deepEqual(r3.lines, []);
    assert.deepEqual(r3.outcome.cursor, r2.outcome.cursor);
  });

  test('a half-written last line is held back until complete (no bogus fragments)', async () => {
    const p = join(freshDir(), 'syslog');
    writeFileSync(p, text(1, 10) + line(11).slice(0, 20));
    const r1 = await read(p, undefined);
    assert.deepEqual(r1.lines, lines(1, 10));
    appendFileSync(p, line(11).slice(20, 30)); // still incomplete
    const r2 = await read(p, r1.outcome.cursor);
    assert.deepEqual(r2.lines, []);
    appendFileSync(p, line(11).slice(30) + '\n' + text(12, 12));
    const r3 = await read(p, r2.outcome.cursor);
    assert.deepEqual(r3.lines, lines(11, 12));
  });

  test('tiny chunks: lines split across every possible read boundary come out whole', async () => {
    const p = join(freshDir(), 'syslog');
    writeFileSync(p, text(1, 300) + 'héllo wörld ✓\n' + text(301, 302));
    for (const chunkBytes of [1, 2, 3, 7, 64]) {
      const r = await read(p, undefined, { chunkBytes });
      assert.deepEqual(
        r.lines,
        [...lines(1, 300), 'héllo wörld ✓', ...lines(301, 302)],
        `chunk ${chunkBytes}`,
      );
    }
  });

  test('megabyte lines are cut at maxLineBytes and counted; invalid UTF-8 lines are kept', async () => {
    const p = join(freshDir(), 'syslog');
    const big = 'x'.repeat(1024 * 1024);
    writeFileSync(
      p,
      Buffer.concat([
        Buffer.from(text(1, 1) + big + '\n'),
        Buffer.from([0x62, 0xff, 0x61, 0x0a]),
        Buffer.from(text(2, 2)),
      ]),
    );
    for (const chunkBytes of [4096, 2 * 1024 * 1024]) {
      const r = await read(p, undefined, { maxLineBytes: 1000, chunkBytes });
      // The invalid byte is escaped as U+DC00+byte (utf8-escape.ts), not replaced by U+FFFD.
      assert.deepEqual(r.lines, [line(1), 'x'.repeat(1000), 'b\udcffa', line(2)]);
      assert.equal(r.outcome.stats.truncatedLines, 1);
      assert.equal(r.outcome.stats.replacedLines, 1);
      assert.ok(r.outcome.problems.some((x) => x.code === 'truncated-lines'));
    }
  });
});

describe('file source: rotation loses nothing and repeats nothing', () => {
  // Each rotation: lines 1..50 read; 51..60 appended after the read; rotation; 61..70 in the new file.
  async function primed(dir: string): Promise<{ p: string; cursor: FileCursor }> {
    const p = join(dir, 'syslog');
    writeFileSync(p, text(1, 50));
    const r = await read(p, undefined);
    assert.deepEqual(r.lines, lines(1, 50));
    appendFileSync(p, text(51, 60));
    return { p, cursor: r.outcome.cursor! };
  }

  test('rename to .1 (logrotate create)', async () => {
    const { p, cursor } = await primed(freshDir());
    renameSync(p, p + '.1');
    writeFileSync(p, text(61, 70));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 70));
    assert.deepEqual(r.outcome.stats.rotatedFilesRead, [p + '.1']);
    appendFileSync(p, text(71, 72));
    assert.deepEqual((await read(p, r.outcome.cursor)).lines, lines(71, 72));
  });

  test('rename to a dated name (dateext: syslog-20261129), older generations ignored', async () => {
    const dir = freshDir();
    const { p, cursor } = await primed(dir);
    writeFileSync(join(dir, 'syslog-20261101'), 'an older generation\n');
    writeFileSync(join(dir, 'syslog-20261115.gz'), gzipSync('another older generation\n'));
    renameSync(p, p + '-20261129');
    writeFileSync(p, text(61, 70));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 70));
  });

  test('rotated straight to .1.gz: the compressed rest is read', async () => {
    const { p, cursor } = await primed(freshDir());
    writeFileSync(p + '.1.gz', gzipSync(text(1, 60)));
    unlinkSync(p);
    writeFileSync(p, text(61, 70));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 70));
    assert.deepEqual(r.outcome.stats.rotatedFilesRead, [p + '.1.gz']);
  });

  test('rotated file ending in an unterminated line: it is complete now and is reported once', async () => {
    const { p, cursor } = await primed(freshDir());
    appendFileSync(p, line(61)); // no newline, and the writer is gone
    renameSync(p, p + '.1');
    writeFileSync(p, text(62, 70));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 70));
  });

  test('held-back half line, then rotation: the line is read whole from the rotated file', async () => {
    const p = join(freshDir(), 'syslog');
    writeFileSync(p, text(1, 5) + line(6).slice(0, 10));
    const r1 = await read(p, undefined);
    assert.deepEqual(r1.lines, lines(1, 5));
    appendFileSync(p, line(6).slice(10) + '\n');
    renameSync(p, p + '.1');
    writeFileSync(p, text(7, 8));
    assert.deepEqual((await read(p, r1.outcome.cursor)).lines, lines(6, 8));
  });

  test('copytruncate, new content SHORTER than the old offset', async () => {
    const { p, cursor } = await primed(freshDir());
    copyFileSync(p, p + '.1');
    truncateSync(p, 0);
    appendFileSync(p, text(61, 65));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 65));
  });

  test('copytruncate, new content LONGER than the old offset (size check alone would skip lines)', async () => {
    const { p, cursor } = await primed(freshDir());
    copyFileSync(p, p + '.1');
    truncateSync(p, 0);
    appendFileSync(p, text(61, 200));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 200));
  });

  test('copytruncate with the copy compressed at once (.1.gz)', async () => {
    const { p, cursor } = await primed(freshDir());
    writeFileSync(p + '.1.gz', gzipSync(text(1, 60)));
    truncateSync(p, 0);
    appendFileSync(p, text(61, 300));
    assert.deepEqual((await read(p, cursor)).lines, lines(51, 300));
  });

  test('two rotations between runs: rest of .2.gz, all of .1, then the new file', async () => {
    const { p, cursor } = await primed(freshDir());
    renameSync(p, p + '.1');
    writeFileSync(p, text(61, 70));
    // second rotation: .1 -> .2.gz, current -> .1
    writeFileSync(p + '.2.gz', gzipSync(text(1, 60)));
    unlinkSync(p + '.1');
    renameSync(p, p + '.1');
    writeFileSync(p, text(71, 80));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 80));
    assert.deepEqual(r.outcome.stats.rotatedFilesRead, [p + '.2.gz', p + '.1']);
  });

  test('rotated but the new file not created yet, then created: nothing lost, nothing twice', async () => {
    const { p, cursor } = await primed(freshDir());
    renameSync(p, p + '.1');
    const r1 = await read(p, cursor);
    assert.deepEqual(r1.lines, lines(51, 60));
    assert.equal(r1.outcome.problems.length, 0);
    writeFileSync(p, text(61, 70));
    const r2 = await read(p, r1.outcome.cursor);
    assert.deepEqual(r2.lines, lines(61, 70));
  });

  test('real rotation tool: Debian savelog twice between reads (.0, then .1.gz)', async (t) => {
    if (spawnSync('savelog', ['-h']).error !== undefined) return t.skip('savelog is not installed');
    const { p, cursor } = await primed(freshDir());
    const rotate = (): void => {
      const r = spawnSync('savelog', ['-q', '-t', '-c', '7', p]);
      assert.equal(r.status, 0, String(r.stderr));
    };
    rotate(); // syslog -> syslog.0, new empty syslog
    appendFileSync(p, text(61, 70));
    rotate(); // syslog.0 -> syslog.1.gz, syslog -> syslog.0
    appendFileSync(p, text(71, 80));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(51, 80));
    assert.deepEqual(r.outcome.stats.rotatedFilesRead, [p + '.1.gz', p + '.0']);
    assert.deepEqual((await read(p, r.outcome.cursor)).lines, []);
  });

  test('the old content is nowhere (rotate 0): an error for the report, new file read from 0', async () => {
    const { p, cursor } = await primed(freshDir());
    unlinkSync(p);
    writeFileSync(p, text(61, 70));
    const r = await read(p, cursor);
    assert.deepEqual(r.lines, lines(61, 70));
    assert.deepEqual(
      r.outcome.problems.map((x) => x.code),
      ['rotated-not-found'],
    );
  });
});

describe('file source: problems, not crashes', () => {
  test('a missing file is an error in the outcome; the cursor is kept', async () => {
    const dir = freshDir();
    const p = join(dir, 'nope.log');
    const r = await read(p, undefined);
    assert.deepEqual(r.lines, []);
    assert.equal(r.outcome.problems[0]?.code, 'missing');
    assert.equal(r.outcome.problems[0]?.severity, 'error');
    assert.equal(r.outcome.cursor, undefined);
    // With a cursor of a file that vanished without a trace, the cursor stays as it was.
    const q = join(dir, 'gone.log');
    writeFileSync(q, text(1, 3));
    const r1 = await read(q, undefined);
    unlinkSync(q);
    const r2 = await read(q, r1.outcome.cursor);
    assert.deepEqual(r2.outcome.cursor, r1.outcome.cursor);
    assert.ok(r2.outcome.problems.some((x) => x.severity === 'error'));
  });

  test('a directory at the path is reported as unreadable', async () => {
    const r = await read(freshDir(), undefined);
    assert.equal(r.outcome.problems[0]?.code, 'unreadable');
  });

  test('a cursor of another file is not applied (notice, read from the start)', async () => {
    const dir = freshDir();
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    writeFileSync(a, text(1, 5));
    writeFileSync(b, text(1, 3));
    const ra = await read(a, undefined);
    const rb = await read(b, ra.outcome.cursor);
    assert.deepEqual(rb.lines, lines(1, 3));
    assert.equal(rb.outcome.problems[0]?.code, 'cursor-other-file');
  });

  test('garbage stored as a cursor is rejected by parseFileCursor', () => {
    assert.equal(parseFileCursor('not json'), undefined);
    assert.equal(parseFileCursor('{"kind":"journal","cursor":"s=1"}'), undefined);
    assert.equal(
      parseFileCursor(
        '{"kind":"file","path":"/x","dev":"1","ino":"2","offset":-1,"fpLength":0,"fingerprint":""}',
      ),
      undefined,
    );
  });

  test('outcome() before the end throws, so a partial cursor cannot be committed', async () => {
    const p = join(freshDir(), 'syslog');
    writeFileSync(p, text(1, 10));
    const run = readFileSource(p, undefined, { chunkBytes: 64 });
    for await (const _ of run) break;
    assert.throws(() => run.outcome());
  });
});

describe('file source: resources', () => {
  test('fingerprint checks of a .gz (early exit from the gunzip stream) leak no descriptor', async (t) => {
    if (!existsSync('/proc/self/fd')) return t.skip('needs /proc/self/fd');
    const gz = join(freshDir(), 'syslog.1.gz');
    writeFileSync(gz, gzipSync(text(1, 20_000))); // far more than the head read
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const c = { path: gz, gzip: true };
    await headOf(c, 1024); // warm up (lazy handles of the runtime)
    await new Promise((r) => setTimeout(r, 50));
    const before = fds();
    for (let k = 0; k < 200; k++) {
      const head = await headOf(c, 1024);
      assert.equal(head?.length, 1024);
    }
    // Closing a destroyed stream's descriptor is asynchronous: give it a moment.
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(fds() <= before + 2, `descriptors grew from ${before} to ${fds()}`);
  });
});
