import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitCommandLine } from './argv.js';
import { readIgnoreFile } from './ignore-file.js';
import { formatPortSpec, parsePortSpec } from './ports.js';

describe('parsePortSpec', () => {
  const cases: [string, number[], string[]][] = [
    ['1,7,9,11-15', [1, 7, 9, 11, 12, 13, 14, 15], []],
    ['80, 22 ,22', [22, 80], []],
    ['', [], []],
    ['1,,2,', [1, 2], []],
    ['65535', [65535], []],
    ['0', [], ['bad-port']],
    ['65536', [], ['bad-port']],
    ['9-3', [], ['bad-range']],
    ['1-x', [], ['wrong-type']],
    ['http', [], ['wrong-type']],
    ['-5', [], ['wrong-type']],
  ];
  for (const [spec, ports, codes] of cases) {
    test(JSON.stringify(spec), () => {
      const r = parsePortSpec(spec);
      assert.deepEqual(r.ports, ports);
      assert.deepEqual(
        r.errors.map((e) => e.code),
        codes,
      );
    });
  }
  test('formatPortSpec collapses runs', () => {
    assert.equal(formatPortSpec([1, 2, 3, 5, 6, 9]), '1-3,5,6,9');
  });
});

describe('readIgnoreFile', () => {
  test('addresses and CIDRs, IPv4 and IPv6, comments and blank lines, problems with line numbers', () => {
    const text =
      '# ignore\n127.0.0.1\n\n192.0.2.0/24   # lab\n2001:db8::/32\n10.0.0.1/8\nnot-an-ip\n192.0.2.300\n0.0.0.0 extra\n';
    const r = readIgnoreFile(text, '/etc/portsentry/portsentry.ignore');
    assert.deepEqual(r.entries, [
      '127.0.0.1/32',
      '192.0.2.0/24',
      '2001:db8::/32',
      '10.0.0.0/8',
      '0.0.0.0/32',
    ]);
    assert.deepEqual(
      r.problems.map((p) => [p.line, p.code, p.severity ?? 'error']),
      [
        [6, 'bad-cidr', 'warning'],
        [7, 'bad-cidr', 'error'],
        [8, 'bad-cidr', 'error'],
        [9, 'trailing-text', 'warning'],
      ],
    );
    assert.equal(r.problems[0]?.file, '/etc/portsentry/portsentry.ignore');
  });
});

describe('splitCommandLine', () => {
  const cases: [string, string[], string?][] = [
    ['/bin/x $TARGET$ $PORT$', ['/bin/x', '$TARGET$', '$PORT$']],
    [`a 'b c' "d \\"e\\"" f\\ g`, ['a', 'b c', 'd "e"', 'f g']],
    ['a "" b', ['a', '', 'b']],
    ['echo x | sh', ['echo', 'x', '|', 'sh'], '|'],
    ['a; b', ['a;', 'b'], ';'],
    ['a "$(id)"', ['a', '$(id)'], '$('],
    ["a '|' b", ['a', '|', 'b']],
  ];
  for (const [line, argv, shell] of cases) {
    test(line, () => {
      const r = splitCommandLine(line);
      assert.deepEqual(r.argv, argv);
      assert.equal(r.shellSyntax, shell);
    });
  }
  test('unterminated quote', () => {
    assert.equal(splitCommandLine('a "b').error, 'unterminated double quote');
  });
});
