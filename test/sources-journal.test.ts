// The journal source against REAL journal files written by systemd-journal-remote from export
// format, read back through journalctl: (1) our syslog lines are exactly journalctl's short
// output, the lines logcheck feeds its rules; (2) the cursor resumes exactly after the last entry,
// also when entries share a second; (3) failures are problems, not crashes.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { defaultConfig } from '../src/config/defaults.js';
import { runLogcheck } from '../src/logcheck/run.js';
import {
  type JournalCursor,
  journalctlArgs,
  parseJournalCursor,
  readJournalSource,
} from '../src/logcheck/sources/journal.js';
import { drainRun, type SourceOutcome } from '../src/logcheck/sources/types.js';
import { Store } from '../src/store/store.js';

const REMOTE = '/lib/systemd/systemd-journal-remote';
const haveTools = existsSync(REMOTE) && spawnSync('journalctl', ['--version']).status === 0;
const root = mkdtempSync(join(tmpdir(), 'ps-sources-journal-'));
after(() => rmSync(root, { recursive: true, force: true }));

type Field = [string, string | Buffer];
const BOOT = '0123456789abcdef0123456789abcdef';
const T0 = 1764410000_000000; // µs, 2025-11-29

/** One entry in journal export format (binary-safe form for values that need it). */
function exportEntry(us: number, fields: Field[]): Buffer {
  const parts: Buffer[] = [
    Buffer.from(`__REALTIME_TIMESTAMP=${us}\n__MONOTONIC_TIMESTAMP=${us}\n_BOOT_ID=${BOOT}\n`),
  ];
  for (const [name, value] of fields) {
    const v = typeof value === 'string' ? Buffer.from(value) : value;
    if (v.some((b) => b < 0x20 || b >= 0x7f)) {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(v.length));
      parts.push(Buffer.from(`${name}\n`), len, v, Buffer.from('\n'));
    } else {
      parts.push(Buffer.from(`${name}=`), v, Buffer.from('\n'));
    }
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** Appends entries to a journal file with systemd-journal-remote (creates it the first time). */
function writeJournal(file: string, entries: Buffer[]): void {
  const r = spawnSync(REMOTE, [`--output=${file}`, '-'], { input: Buffer.concat(entries) });
  assert.equal(r.status, 0, `journal-remote failed: ${r.stderr}`);
}

const seq = (n: number, us: number): Buffer =>
  exportEntry(us, [
    ['_HOSTNAME', 'web1'],
    ['SYSLOG_IDENTIFIER', 'app'],
    ['_PID', '42'],
    ['MESSAGE', `seq ${n}`],
  ]);

async function read(
  file: string,
  cursor: JournalCursor | undefined,
  extra: Partial<Parameters<typeof readJournalSource>[1]> = {},
): Promise<{ lines: string[]; outcome: SourceOutcome<JournalCursor> }> {
  const lines: string[] = [];
  const stored = cursor === undefined ? undefined : parseJournalCursor(JSON.stringify(cursor));
  const outcome = await drainRun(
    readJournalSource(stored, { extraArgs: ['--file', file], firstRunSince: null, utc: true, ...extra }),
    (b) => {
      lines.push(...b);
    },
  );
  return { lines, outcome };
}

describe('journal source (real journal files)', {
  skip: haveTools ? false : `needs ${REMOTE} and journalctl`,
}, () => {
  test('lines are exactly what `journalctl -o short` prints (what logcheck matches its rules against)', async () => {
    const file = join(root, 'format.journal');
    const b = (s: string) => Buffer.from(s, 'latin1');
    const messages: (string | Buffer)[] = [
      'Accepted publickey for root from 192.0.2.7 port 50022 ssh2',
      'line one\nline two\n\nline four',
      'trailing newline\n',
      '\nleading newline',
      'tabs\there\t\tend',
      'utf8 é ✓ 😀',
      b('invalid \xff\xfe utf8'),
      b('ctl \x01 char'),
      b('cr \r inside'),
      b('del \x7f'),
      Buffer.from('c1 \u0085 nel', 'utf8'),
      b('ansi \x1b[1;31mred\x1b[0m text'),
      b('osc \x1b]0;title\x07 gone'),
      b('lone esc \x1b( kept'),
      b('bad csi \x1b[31x'),
      `long ${'x'.repeat(5000)}`,
      b(`long blob ${'y'.repeat(2000)}\xff`),
      'trailing spaces   ',
      b(`blob 1500 ${'z'.repeat(1490)}\x01`),
      b(`blob 150k ${'z'.repeat(150000)}\x01`),
    ];
    const entries = messages.map((m, i) =>
      exportEntry(T0 + i * 1_000_000, [
        ['_HOSTNAME', 'web1'],
        ['SYSLOG_IDENTIFIER', `t${i}`],
        ['_PID', String(100 + i)],
        ['MESSAGE', m],
      ]),
    );
    entries.push(
      exportEntry(T0 + 100_000_000, [
        ['_HOSTNAME', 'web1'],
        ['_COMM', 'comm-only'],
        ['SYSLOG_PID', '7'],
        ['MESSAGE', 'comm and syslog pid'],
      ]),
      exportEntry(T0 + 101_000_000, [['MESSAGE', 'no host, no ident']]),
      exportEntry(T0 + 102_000_000, [
        ['_HOSTNAME', 'web1'],
        ['SYSLOG_IDENTIFIER', b('id\x1bx')],
        ['_PID', '1'],
        ['MESSAGE', 'bad ident'],
      ]),
      exportEntry(T0 + 103_000_000, [
        ['_HOSTNAME', 'h'.repeat(400)],
        ['SYSLOG_IDENTIFIER', 'longhost'],
        ['MESSAGE', 'host too long'],
      ]),
      exportEntry(T0 + 104_000_000, [
        ['_HOSTNAME', 'web1'],
        ['SYSLOG_IDENTIFIER', 'nomsg'],
      ]),
      exportEntry(T0 + 105_000_000, [
        ['_HOSTNAME', 'web1'],
        ['SYSLOG_IDENTIFIER', 'both'],
        ['_PID', '5'],
        ['SYSLOG_PID', '6'],
        ['MESSAGE', 'pid wins'],
      ]),
      exportEntry(T0 + 106_000_000, [
        ['_HOSTNAME', 'web1'],
        ['SYSLOG_IDENTIFIER', 'src'],
        ['_SOURCE_REALTIME_TIMESTAMP', String(T0 - 86400_000000)],
        ['MESSAGE', 'source time'],
      ]),
      exportEntry(T0 + 108_000_000, [
        ['_HOSTNAME', 'web1'],
        ['SYSLOG_IDENTIFIER', 'twice'],
        ['MESSAGE', 'first value'],
        ['MESSAGE', 'second value'],
      ]),
      exportEntry(T0 + 107_000_000, [
        ['_HOSTNAME', 'wëb'],
        ['SYSLOG_IDENTIFIER', 'ünï'],
        ['MESSAGE', 'multi\nbyte indent'],
      ]),
    );
    writeJournal(file, entries);
    const expected = spawnSync('journalctl', ['--file', file, '--quiet', '--no-pager', '--utc'], {
      encoding: 'buffer',
    });
    assert.equal(expected.status, 0);
    const want = expected.stdout.toString('utf8').split('\n');
    want.pop();
    const got = await read(file, undefined);
    assert.deepEqual(got.lines, want);
    assert.ok(
      got.lines.some((l) => l.includes('blob data')),
      'the corpus exercises blob data',
    );

    // Local time too: the same zone for both (TZ of this process, passed on to journalctl).
    const local = spawnSync('journalctl', ['--file', file, '--quiet', '--no-pager'], { encoding: 'utf8' });
    const gotLocal = await read(file, undefined, { utc: false });
    assert.deepEqual(gotLocal.lines, local.stdout.split('\n').slice(0, -1));

    // `binary: 'decode'` keeps the text of non-printable messages instead of a placeholder.
    const decoded = await read(file, undefined, { binary: 'decode' });
    // Invalid bytes are escaped one by one (U+DC00+byte), as the file source does: see utf8-escape.ts.
    assert.ok(decoded.lines.some((l) => l.endsWith('t6[106]: invalid \udcff\udcfe utf8')));
    assert.ok(!decoded.lines.some((l) => l.includes('blob data')));
  });

  test('the cursor resumes exactly: only new entries, also within the same second', async () => {
    const file = join(root, 'resume.journal');
    // 1..20, the last five in the same second as the next batch's first five.
    const first: Buffer[] = [];
    for (let n = 1; n <= 20; n++) first.push(seq(n, T0 + (n <= 15 ? n * 1_000_000 : 16_000_000 + n)));
    writeJournal(file, first);
    const r1 = await read(file, undefined);
    assert.deepEqual(
      r1.lines.map((l) => l.split(': ')[1]),
      first.map((_, i) => `seq ${i + 1}`),
    );
    assert.match(r1.outcome.cursor?.cursor ?? '', /^s=/);

    const more: Buffer[] = [];
    for (let n = 21; n <= 30; n++) more.push(seq(n, T0 + 16_000_000 + n)); // same second as 16..20
    writeJournal(file, more);
    const r2 = await read(file, r1.outcome.cursor);
    assert.deepEqual(
      r2.lines.map((l) => l.split(': ')[1]),
      Array.from({ length: 10 }, (_, i) => `seq ${21 + i}`),
    );
    assert.equal(r2.outcome.problems.length, 0);

    const r3 = await read(file, r2.outcome.cursor);
    assert.deepEqual(r3.lines, []);
    assert.deepEqual(r3.outcome.cursor, r2.outcome.cursor);
  });

  test('entries without MESSAGE print nothing but still move the cursor', async () => {
    const file = join(root, 'nomsg.journal');
    writeJournal(file, [
      seq(1, T0),
      exportEntry(T0 + 1, [
        ['_HOSTNAME', 'web1'],
        ['FOO', 'bar'],
      ]),
    ]);
    const r1 = await read(file, undefined);
    assert.equal(r1.lines.length, 1);
    writeJournal(file, [seq(2, T0 + 2)]);
    const r2 = await read(file, r1.outcome.cursor);
    assert.deepEqual(
      r2.lines.map((l) => l.split(': ')[1]),
      ['seq 2'],
    );
  });

  test('first run: a notice, `--since` applied; an empty first run remembers its start time', async () => {
    const file = join(root, 'first.journal');
    writeJournal(file, [seq(1, T0)]);
    const now = Date.UTC(2030, 0, 1);
    const r = await read(file, undefined, { firstRunSince: '-5h', now });
    assert.deepEqual(r.lines, []); // the entry is years older than 5 hours
    assert.equal(r.outcome.problems[0]?.code, 'first-journal-run');
    assert.deepEqual(r.outcome.cursor, { kind: 'journal', since: `@${now / 1000}` });
    assert.ok(journalctlArgs(r.outcome.cursor).includes(`--since=@${now / 1000}`));
    // The absolute start, for the run to keep even if its report is not delivered.
    assert.equal(
      r.outcome.startPosition,
      JSON.stringify({ kind: 'journal', since: `@${now / 1000 - 5 * 3600}` }),
    );
    const again = await read(file, r.outcome.cursor);
    assert.equal(again.outcome.startPosition, undefined, 'only a first run offers a start position');
  });

  test('a first run whose mail fails stores its absolute start: the retry hours later loses nothing', async () => {
    const file = join(root, 'retry.journal');
    const entryMs = T0 / 1000;
    writeJournal(file, [seq(1, T0)]);
    const dir = mkdtempSync(join(root, 'retry-'));
    const store = Store.open(join(dir, 'state.db'));
    try {
      const cfg = { ...defaultConfig().logcheck, logfiles: ['journal'] };
      const base = { config: cfg, store, host: 'web1', bundledRules: true, journalArgs: ['--file', file] };
      let now = entryMs + 3600_000; // the entry is 1 h old: inside the first run's 5 h
      await assert.rejects(
        runLogcheck({
          ...base,
          now: () => now,
          deliver: async () => {
            throw new Error('smtp down');
          },
        }),
        (err: unknown) => (err as { code?: string }).code === 'E_MAIL',
      );
      assert.deepEqual(parseJournalCursor(store.getCursor('journal')?.position), {
        kind: 'journal',
        since: `@${Math.floor(now / 1000) - 5 * 3600}`,
      });
      now += 10 * 3600_000; // the retry: 11 h after the entry, which "-5h" from now would skip
      const sent: string[] = [];
      await runLogcheck({
        ...base,
        now: () => now,
        deliver: async (r) => {
          sent.push(r.body);
          return { transport: 'stdout', accepted: ['x'], rejected: [], response: '' } as never;
        },
      });
      assert.equal(sent.length, 1);
      assert.match(sent[0] ?? '', /app\[42\]: seq 1\n/);
      assert.match(parseJournalCursor(store.getCursor('journal')?.position)?.cursor ?? '', /^s=/);
    } finally {
      store.close();
    }
  });

  test('a bad cursor or a missing journal is an error in the outcome; the cursor is kept', async () => {
    const file = join(root, 'bad.journal');
    writeJournal(file, [seq(1, T0)]);
    const bad: JournalCursor = { kind: 'journal', cursor: 's=bogus' };
    const r = await read(file, bad);
    assert.deepEqual(r.lines, []);
    assert.equal(r.outcome.problems[0]?.code, 'journal-failed');
    assert.match(r.outcome.problems[0]?.message ?? '', /cursor/i);
    assert.deepEqual(r.outcome.cursor, bad);

    const missing = await read(join(root, 'nope.journal'), bad);
    assert.equal(missing.outcome.problems[0]?.code, 'journal-failed');

    const noProgram = await drainRun(
      readJournalSource(bad, { journalctl: join(root, 'no-such-journalctl') }),
      () => {},
    );
    assert.equal(noProgram.problems[0]?.code, 'journal-failed');
    assert.deepEqual(noProgram.cursor, bad);
  });
});

describe('journal cursor and arguments', () => {
  test('arguments are a vector; the cursor is one argument whatever it contains', () => {
    const args = journalctlArgs(
      { kind: 'journal', cursor: 's=1; rm -rf /' },
      { extraArgs: ['--file', '/x'] },
    );
    assert.deepEqual(args, [
      '--output=json',
      '--all',
      '--no-pager',
      '--quiet',
      '--output-fields=MESSAGE,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID,_SOURCE_REALTIME_TIMESTAMP',
      '--after-cursor=s=1; rm -rf /',
      '--file',
      '/x',
    ]);
    // A first run's default start is absolute: 5 h before the run's start.
    assert.ok(
      journalctlArgs(undefined, { now: 1_000_000_000_000 }).includes(`--since=@${1_000_000_000 - 5 * 3600}`),
    );
    assert.ok(
      journalctlArgs(undefined, { now: 1_000_000_000_000, firstRunSince: '-30min' }).includes(
        `--since=@${1_000_000_000 - 1800}`,
      ),
    );
    assert.ok(journalctlArgs(undefined, { firstRunSince: '2024-01-01' }).includes('--since=2024-01-01'));
    assert.ok(!journalctlArgs(undefined, { firstRunSince: null }).some((a) => a.startsWith('--since')));
  });

  test('parseJournalCursor accepts only journal cursors', () => {
    assert.deepEqual(parseJournalCursor('{"kind":"journal","cursor":"s=ab;i=1"}'), {
      kind: 'journal',
      cursor: 's=ab;i=1',
    });
    assert.deepEqual(parseJournalCursor('{"kind":"journal","since":"@12"}'), {
      kind: 'journal',
      since: '@12',
    });
    assert.equal(parseJournalCursor('{"kind":"journal","since":"-1d; x"}'), undefined);
    assert.equal(parseJournalCursor('{"kind":"file"}'), undefined);
    assert.equal(parseJournalCursor('nope'), undefined);
  });
});
