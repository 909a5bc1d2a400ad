import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeConfig } from './describe.js';
import { formatProblem, formatProblems } from './format.js';
import { detectFormat, EXIT_CONFIG, loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'portsentinel-config-'));

describe('loadConfig', () => {
  test('no path: the defaults', () => {
    const r = loadConfig(undefined);
    assert.deepEqual(r.problems, []);
    assert.equal(r.config?.origin.format, 'defaults');
    assert.equal(r.config?.store.path, '/var/lib/portsentinel/state.db');
  });

  test('a missing file is an `unreadable` problem', () => {
    const r = loadConfig(join(dir, 'nope.toml'));
    assert.equal(r.config, undefined);
    assert.equal(r.problems[0]?.code, 'unreadable');
    assert.equal(EXIT_CONFIG, 78);
  });

  test('TOML and portsentry.conf are told apart by content', () => {
    const toml = join(dir, 'a.conf');
    writeFileSync(toml, '[respond]\ndry_run = true\n');
    assert.equal(loadConfig(toml).config?.origin.format, 'toml');
    const ps = join(dir, 'b.toml');
    writeFileSync(ps, 'TCP_PORTS="1,2"\nUDP_PORTS="3"\n');
    assert.equal(loadConfig(ps).config?.origin.format, 'portsentry');
    assert.equal(detectFormat(''), 'toml');
  });

  test('relative ignore files are read next to the config file', () => {
    writeFileSync(join(dir, 'my.ignore'), '192.0.2.0/24\nbogus\n');
    const file = join(dir, 'c.toml');
    writeFileSync(file, '[respond]\nignore_files = ["my.ignore"]\n');
    const r = loadConfig(file);
    assert.equal(r.config, undefined);
    assert.deepEqual(
      r.problems.map((p) => [p.file, p.line, p.code]),
      [[join(dir, 'my.ignore'), 2, 'bad-cidr']],
    );
  });

  test('an ignore file that cannot be read (a directory: fails even for root)', () => {
    const file = join(dir, 'd.toml');
    writeFileSync(file, `[respond]\nignore_files = ["${dir}"]\n`);
    assert.equal(loadConfig(file).problems[0]?.code, 'unreadable');
  });

  test('etc/portsentinel.toml, the documented example, is exactly the defaults', () => {
    const r = loadConfig(fileURLToPath(new URL('../../../etc/portsentinel.toml', import.meta.url)));
    assert.deepEqual(r.problems, []);
    const { origin: _, ...got } = r.config!;
    const { origin: __, ...want } = loadConfig(undefined).config!;
    assert.deepEqual(got, want);
  });
});

describe('formatProblems', () => {
  test('FILE:LINE: path: message [code], warnings marked', () => {
    assert.equal(
      formatProblem({
        file: 'a.toml',
        line: 3,
        path: 'detect.threshold',
        code: 'bad-range',
        message: 'must be at least 1',
      }),
      'a.toml:3: detect.threshold: must be at least 1 [bad-range]',
    );
    assert.equal(
      formatProblems([
        { file: 'a.toml', path: 'x', code: 'c', message: 'm', severity: 'warning' },
        { path: '', code: 'syntax', message: 'bad', file: 'b', line: 1 },
      ]),
      'a.toml: x: warning: m [c]\nb:1: bad [syntax]',
    );
  });
});

describe('describeConfig', () => {
  test('summarises the defaults', () => {
    const lines = describeConfig(loadConfig(undefined).config!);
    assert.ok(lines.includes('modes: trap'));
    assert.ok(lines.includes('trigger: the first probe from a source'));
    assert.ok(
      lines.some((l) => l.startsWith('udp response: provisional 30s ban, full ban once 3 ports corroborate')),
    );
    assert.ok(lines.includes('bans: 1h, x4 for each repeat within 30d, at most 30d'));
  });
});
