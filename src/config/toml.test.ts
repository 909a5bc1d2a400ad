import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { defaultConfig } from './defaults.js';
import { formatProblems } from './format.js';
import { SCHEMA, sectionProps, snakeToCamel } from './schema.js';
import { configToToml } from './to-toml.js';
import { parseTomlConfig } from './toml.js';
import type { Config } from './types.js';

const errors = (text: string) =>
  parseTomlConfig(text, 'test.toml').problems.filter((p) => p.severity !== 'warning');

describe('parseTomlConfig: each kind of bad config gives its code, key path and line', () => {
  const cases: { name: string; toml: string; code: string; path: string; line?: number }[] = [
    {
      name: 'unknown key',
      toml: '[detect]\ntreshold = 2',
      code: 'unknown-key',
      path: 'detect.treshold',
      line: 2,
    },
    { name: 'unknown table', toml: '\n[detection]\nx = 1', code: 'unknown-key', path: 'detection', line: 2 },
    {
      name: 'key in the wrong table',
      toml: '[detect]\nban_duration = "1h"',
      code: 'unknown-key',
      path: 'detect.ban_duration',
      line: 2,
    },
    {
      name: 'string for integer',
      toml: '[detect]\nthreshold = "3"',
      code: 'wrong-type',
      path: 'detect.threshold',
      line: 2,
    },
    {
      name: 'float for integer',
      toml: '[detect]\nthreshold = 2.5',
      code: 'wrong-type',
      path: 'detect.threshold',
      line: 2,
    },
    {
      name: 'number for bool',
      toml: '[respond]\ndry_run = 1',
      code: 'wrong-type',
      path: 'respond.dry_run',
      line: 2,
    },
    {
      name: 'table for a value',
      toml: '[store]\npath = { a = 1 }',
      code: 'wrong-type',
      path: 'store.path',
      line: 2,
    },
    {
      name: 'port 0',
      toml: '[detect]\ntcp_ports = [1, 0]',
      code: 'bad-port',
      path: 'detect.tcp_ports[1]',
      line: 2,
    },
    {
      name: 'port above 65535',
      toml: '[detect]\nudp_ports = [65536]',
      code: 'bad-port',
      path: 'detect.udp_ports[0]',
      line: 2,
    },
    {
      name: 'port in a range',
      toml: '[detect]\ntcp_ports = ["1-70000"]',
      code: 'bad-port',
      path: 'detect.tcp_ports[0]',
      line: 2,
    },
    {
      name: 'backwards range',
      toml: '[detect]\ntcp_ports = ["20-10"]',
      code: 'bad-range',
      path: 'detect.tcp_ports[0]',
      line: 2,
    },
    {
      name: 'advanced limit',
      toml: '[detect]\nadvanced_tcp_limit = 0',
      code: 'bad-port',
      path: 'detect.advanced_tcp_limit',
      line: 2,
    },
    {
      name: 'smtp port',
      toml: '[logcheck.mail.smtp]\nport = 99999',
      code: 'bad-port',
      path: 'logcheck.mail.smtp.port',
      line: 2,
    },
    {
      name: 'threshold 0',
      toml: '[detect]\nthreshold = 0',
      code: 'bad-range',
      path: 'detect.threshold',
      line: 2,
    },
    {
      name: 'ban growth below 1',
      toml: '[respond]\nban_growth = 0.5',
      code: 'bad-range',
      path: 'respond.ban_growth',
      line: 2,
    },
    {
      name: 'bad CIDR',
      toml: '[respond]\nignore = ["192.0.2.0/24", "192.0.2.0/33"]',
      code: 'bad-cidr',
      path: 'respond.ignore[1]',
      line: 2,
    },
    {
      name: 'not an address',
      toml: '[respond]\nignore = ["example.org"]',
      code: 'bad-cidr',
      path: 'respond.ignore[0]',
      line: 2,
    },
    {
      name: 'bad bind address',
      toml: '[detect]\nbind_addresses = ["::1", "1.2.3"]',
      code: 'bad-address',
      path: 'detect.bind_addresses[1]',
      line: 2,
    },
    {
      name: 'bad duration',
      toml: '[respond]\nban_duration = "1 hour"',
      code: 'bad-duration',
      path: 'respond.ban_duration',
      line: 2,
    },
    {
      name: 'negative duration',
      toml: '[respond]\nban_duration = -5',
      code: 'bad-duration',
      path: 'respond.ban_duration',
      line: 2,
    },
    {
      name: 'zero window',
      toml: '[detect]\nwindow = "0"',
      code: 'bad-duration',
      path: 'detect.window',
      line: 2,
    },
    { name: 'bad enum', toml: '[respond]\ntcp = "drop"', code: 'bad-enum', path: 'respond.tcp', line: 2 },
    {
      name: 'bad mode',
      toml: '[detect]\nmodes = ["tcp", "xtcp"]',
      code: 'bad-enum',
      path: 'detect.modes[1]',
      line: 2,
    },
    {
      name: 'bad backend',
      toml: '[respond]\nbackends = ["nft"]',
      code: 'bad-enum',
      path: 'respond.backends[0]',
      line: 2,
    },
    {
      name: 'bad facility',
      toml: '[log]\nfacility = "local9"',
      code: 'bad-enum',
      path: 'log.facility',
      line: 2,
    },
    { name: 'empty required', toml: '[store]\npath = ""', code: 'required', path: 'store.path', line: 2 },
    {
      name: 'shell in command',
      toml: '[respond]\ncommand = "mail -s x root < /tmp/y"',
      code: 'shell-syntax',
      path: 'respond.command',
      line: 2,
    },
    { name: 'no modes', toml: '[detect]\nmodes = []', code: 'contradiction', path: 'detect.modes', line: 2 },
    {
      name: 'tcp mode without ports',
      toml: '[detect]\nmodes = ["tcp"]\ntcp_ports = []',
      code: 'contradiction',
      path: 'detect.tcp_ports',
      line: 3,
    },
    {
      name: 'ban_max < ban_duration',
      toml: '[respond]\nban_duration = "2h"\nban_max = "1h"',
      code: 'contradiction',
      path: 'respond.ban_max',
      line: 3,
    },
    {
      name: 'command level without command',
      toml: '[respond]\nudp = "command"',
      code: 'contradiction',
      path: 'respond.udp',
      line: 2,
    },
    {
      name: 'command_first without command',
      toml: '[respond]\ncommand_first = true',
      code: 'contradiction',
      path: 'respond.command_first',
      line: 2,
    },
    {
      name: 'block without backends',
      toml: '[respond]\nbackends = []',
      code: 'contradiction',
      path: 'respond.tcp',
    },
    {
      name: 'command backend without argv',
      toml: '[respond]\nbackends = ["command"]',
      code: 'contradiction',
      path: 'respond.route_command',
    },
    {
      name: 'hosts.deny line without $TARGET$',
      toml: '[respond.hosts_deny]\nline = "ALL: 1.2.3.4"',
      code: 'missing-placeholder',
      path: 'respond.hosts_deny.line',
      line: 2,
    },
    {
      name: 'smtp without host',
      toml: '[logcheck.mail]\ntransport = "smtp"\n[logcheck.mail.smtp]\nhost = ""',
      code: 'contradiction',
      path: 'logcheck.mail.smtp.host',
      line: 4,
    },
    {
      name: 'missing ignore file',
      toml: '[respond]\nignore_files = ["/nonexistent/portsentinel/ignore"]',
      code: 'missing-file',
      path: 'respond.ignore_files[0]',
      line: 2,
    },
    { name: 'TOML syntax', toml: '[detect]\nthreshold = = 3', code: 'syntax', path: '', line: 2 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = parseTomlConfig(c.toml, 'test.toml');
      assert.equal(result.config, undefined, 'an invalid config is not returned');
      const found = result.problems.find((p) => p.code === c.code && p.path === c.path);
      assert.ok(found, `expected ${c.code} at ${c.path}, got:\n${formatProblems(result.problems)}`);
      assert.equal(found.file, 'test.toml');
      if (c.line !== undefined) assert.equal(found.line, c.line);
    });
  }
});

describe('parseTomlConfig', () => {
  test('the defaults and an empty file are valid, with no problems', () => {
    const result = parseTomlConfig('', 'empty.toml');
    assert.deepEqual(result.problems, []);
    const { origin: _, ...rest } = result.config as Config;
    const { origin: __, ...defaults } = defaultConfig();
    assert.deepEqual(rest, defaults);
    assert.deepEqual(result.config?.origin, { path: 'empty.toml', format: 'toml' });
  });

  test('reports every problem at once, in line order', () => {
    const problems = errors('[detect]\nthreshold = 0\ntcp_ports = [0]\n[respond]\ntcp = "nope"\nfoo = 1\n');
    assert.deepEqual(
      problems.map((p) => [p.line, p.code]),
      [
        [2, 'bad-range'],
        [3, 'bad-port'],
        [5, 'bad-enum'],
        [6, 'unknown-key'],
      ],
    );
  });

  test('did-you-mean for misspelt keys and values', () => {
    const text = formatProblems(
      parseTomlConfig('[respond]\nban_duraton = "1h"\ntcp = "blok"\n', 'f.toml').problems,
    );
    assert.match(text, /did you mean "ban_duration"/);
    assert.match(text, /did you mean "block"/);
  });

  test('a cross-key check is not blamed on a key that is already wrong', () => {
    // ban_duration is invalid, so its default must not make ban_max look contradictory.
    const problems = parseTomlConfig('[respond]\nban_duration = "x"\nban_max = "10m"\n', 'f.toml').problems;
    assert.deepEqual(
      problems.map((p) => p.code),
      ['bad-duration'],
    );
  });

  test('warnings do not invalidate the config', () => {
    const result = parseTomlConfig(
      '[detect]\nmodes = ["tcp", "stcp"]\n[respond]\nignore = ["192.0.2.7/24"]\n',
      'f.toml',
    );
    assert.ok(result.config);
    assert.deepEqual(
      result.problems.map((p) => [p.code, p.severity]),
      [
        ['redundant', 'warning'],
        ['bad-cidr', 'warning'],
      ],
    );
  });

  test('values: port ranges, a port-list string, durations as numbers, a command string split into argv', () => {
    const result = parseTomlConfig(
      [
        '[detect]',
        'tcp_ports = [1, "5-7", 7, 3]',
        'udp_ports = "9,1-2"',
        'window = 90',
        '[respond]',
        'ban_duration = "1h30m"',
        `command = "/usr/bin/logger -t 'port sentinel' \\"$TARGET$ $PORT$\\""`,
      ].join('\n'),
      'f.toml',
    );
    assert.deepEqual(result.problems, []);
    const c = result.config as Config;
    assert.deepEqual(c.detect.tcpPorts, [1, 3, 5, 6, 7]);
    assert.deepEqual(c.detect.udpPorts, [1, 2, 9]);
    assert.equal(c.detect.window, 90_000);
    assert.equal(c.respond.banDuration, 5_400_000);
    assert.deepEqual(c.respond.command, ['/usr/bin/logger', '-t', 'port sentinel', '$TARGET$ $PORT$']);
  });

  test('ban_duration "0" means permanent', () => {
    assert.equal(
      parseTomlConfig('[respond]\nban_duration = "0"\nban_max = "0"', 'f.toml').config?.respond.banDuration,
      0,
    );
  });
});

describe('configToToml', () => {
  test('SCHEMA covers every field of Config (and nothing else)', () => {
    const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
    const leaves = (obj: Record<string, unknown>, prefix: string[]): string[] =>
      Object.entries(obj).flatMap(([k, v]) =>
        typeof v === 'object' && v !== null && !Array.isArray(v)
          ? leaves(v as Record<string, unknown>, [...prefix, k])
          : [[...prefix, k].join('.')],
      );
    const { origin: _, ...rest } = config;
    const fromConfig = leaves(rest, []).sort();
    const fromSchema = SCHEMA.flatMap((s) =>
      s.fields.map((f) => [...sectionProps(s.key), snakeToCamel(f.key)].join('.')),
    ).sort();
    assert.deepEqual(fromSchema, fromConfig);
  });

  test('round trip: parseTomlConfig(configToToml(c)) equals c (defaults and a changed config)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const ignore = join(dir, 'ignore');
    writeFileSync(ignore, '192.0.2.0/24\n');
    const changed = defaultConfig();
    changed.detect.modes = ['tcp', 'sudp'];
    changed.detect.tcpPorts = [1, 2, 3, 10, 11, 65535];
    changed.detect.udpPorts = [];
    changed.detect.threshold = 4;
    changed.detect.window = 5_400_250;
    changed.detect.banner = 'Go "away"\\ \u00e9\u0007\u007f\n';
    changed.detect.bindAddresses = ['2001:db8::1'];
    changed.respond.backends = ['nftables', 'hosts-deny', 'command'];
    changed.respond.routeCommand = ['/sbin/ipset', 'add', 'bad', '$TARGET$'];
    changed.respond.banGrowth = 1.5;
    changed.respond.banDuration = 0;
    changed.respond.ignore = ['198.51.100.0/24', '2001:db8::/32'];
    changed.respond.ignoreFiles = [ignore];
    changed.respond.command = ['/bin/echo', 'a b', "it's"];
    changed.respond.commandFirst = true;
    changed.respond.hostsDeny.line = 'ALL: $TARGET$ : DENY';
    changed.log.syslogFormat = 'rfc5424';
    changed.logcheck.mail.transport = 'smtp';
    changed.logcheck.mail.smtp.password = 'p#ss = "x"';
    changed.logcheck.interval = 3_600_000;
    for (const config of [defaultConfig(), changed]) {
      for (const onlyChanged of [false, true]) {
        const text = configToToml(config, { header: ['generated', ''], onlyChanged });
        const back = parseTomlConfig(text, 'round.toml');
        assert.deepEqual(back.problems, [], text);
        const { origin: _, ...got } = back.config as Config;
        const { origin: __, ...want } = config;
        assert.deepEqual(got, want);
      }
    }
  });
});
