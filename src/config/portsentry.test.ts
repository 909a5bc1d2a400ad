import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { splitCommandLine } from './argv.js';
import { formatProblems } from './format.js';
import { mapKillRoute } from './kill-route.js';
import { loadConfig } from './load.js';
import { looksLikePortsentryConf, parsePortsentryConf } from './portsentry.js';
import { configToToml } from './to-toml.js';
import { parseTomlConfig } from './toml.js';
import type { Config } from './types.js';

const fixture = fileURLToPath(new URL('../../../test/fixtures/portsentry.conf', import.meta.url));
const fixtureDir = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

// Minimal valid base: PortSentry needs the three files; an ignore file must exist, so leave it out.
const conf = (lines: string) =>
  parsePortsentryConf(`TCP_PORTS="1,11"\nUDP_PORTS="1,7"\n${lines}\n`, '/etc/portsentry/portsentry.conf');

describe('PortSentry 1.2 portsentry.conf import', () => {
  test('a real-looking portsentry.conf imports with PortSentry’s meaning', () => {
    const result = loadConfig(fixture);
    assert.deepEqual(result.problems, [], formatProblems(result.problems));
    const c = result.config as Config;
    assert.equal(c.origin.format, 'portsentry');
    assert.deepEqual(c.detect.tcpPorts.slice(0, 5), [1, 11, 15, 79, 111]);
    assert.equal(c.detect.tcpPorts.length, 26);
    assert.equal(c.detect.udpPorts.length, 21);
    assert.equal(c.detect.advancedTcpLimit, 1024);
    assert.deepEqual(c.detect.advancedUdpExclude, [67, 137, 138, 520]);
    // $INSTALLDIR and ${INSTALLDIR} expanded; relative to the config file's directory.
    assert.deepEqual(c.respond.ignoreFiles, [`${fixtureDir}portsentry.ignore`]);
    assert.equal(c.store.historyFile, `${fixtureDir}portsentry.history`);
    assert.equal(c.store.blockedFile, `${fixtureDir}portsentry.blocked`);
    assert.equal(c.detect.resolveHost, true); // RESOLVE_HOST = "1" (spaces around =)
    // BLOCK_TCP="1": hosts.deny first, then KILL_ROUTE (iptables -> built-in backend), then the command.
    assert.equal(c.respond.tcp, 'block');
    assert.deepEqual(c.respond.backends, ['hosts-deny', 'iptables']);
    assert.equal(c.respond.hostsDeny.line, 'ALL: $TARGET$ : DENY');
    assert.deepEqual(c.respond.command, ['/usr/local/sbin/page-admin', '$TARGET$', '$PORT$', '$MODE$']);
    assert.equal(c.respond.commandFirst, false);
    // BLOCK_UDP="2": command only; UDP does not block.
    assert.equal(c.respond.udp, 'command');
    assert.equal(c.detect.blockUnverifiedUdp, false);
    // SCAN_TRIGGER="2": two probes tolerated, the third reacts.
    assert.equal(c.detect.threshold, 3);
    assert.equal(c.respond.banDuration, 0, 'permanent, as in PortSentry');
    assert.equal(c.log.ident, 'portsentry');
    assert.ok(result.notes.some((n) => n.includes('KILL_ROUTE -> backend "iptables"')));
  });

  test('the import prints as TOML that reads back to the same config', () => {
    const result = loadConfig(fixture);
    const text = configToToml(result.config as Config, { header: result.notes });
    const back = parseTomlConfig(text, 'imported.toml');
    assert.deepEqual(back.problems, []);
    const { origin: _, ...got } = back.config as Config;
    const { origin: __, ...want } = result.config as Config;
    assert.deepEqual(got, want);
  });

  test('SCAN_TRIGGER=n tolerates n probes and reacts to the next (0 and 1 differ, unlike PortSentry)', () => {
    for (const [trigger, threshold] of [
      ['0', 1],
      ['1', 2],
      ['2', 3],
      ['10', 11],
    ] as const) {
      assert.equal(
        conf(`SCAN_TRIGGER="${trigger}"`).config?.detect.threshold,
        threshold,
        `SCAN_TRIGGER=${trigger}`,
      );
    }
    assert.equal(conf('').config?.detect.threshold, 1, 'absent = 0 = react to the first probe');
    assert.equal(conf('SCAN_TRIGGER="-1"').problems[0]?.code, 'wrong-type');
  });

  test('BLOCK_TCP/BLOCK_UDP 0/1/2', () => {
    const route = 'KILL_ROUTE="/sbin/route add -host $TARGET$ reject"\nKILL_RUN_CMD="/bin/true $TARGET$"';
    const levels = (b: string) => {
      const c = conf(`BLOCK_TCP="${b}"\nBLOCK_UDP="${b}"\n${route}`).config as Config;
      return [c.respond.tcp, c.respond.udp, c.detect.blockUnverifiedUdp];
    };
    assert.deepEqual(levels('0'), ['alert', 'alert', false]);
    assert.deepEqual(levels('1'), ['block', 'block', true]);
    assert.deepEqual(levels('2'), ['command', 'command', false]);
    assert.equal(conf('BLOCK_TCP="3"').problems[0]?.code, 'bad-enum');
  });

  test('BLOCK_TCP="1" with nothing to block with is not recorded as blocking (PortSentry’s bug)', () => {
    const result = conf('BLOCK_TCP="1"');
    assert.equal(result.config?.respond.tcp, 'alert');
    const p = result.problems.find((x) => x.path === 'BLOCK_TCP');
    assert.equal(p?.code, 'contradiction');
    assert.equal(p?.severity, 'warning');
    assert.equal(p?.line, 3);
  });

  test('KILL_RUN_CMD_FIRST', () => {
    assert.equal(conf('KILL_RUN_CMD="/bin/true"\nKILL_RUN_CMD_FIRST="1"').config?.respond.commandFirst, true);
    // PortSentry reads it only with a command; without one it is harmless.
    assert.equal(conf('KILL_RUN_CMD_FIRST="1"').config?.respond.commandFirst, false);
  });

  test('problems carry the PortSentry key and line', () => {
    const result = conf(
      'TCP_PORT="1"\nADVANCED_PORTS_TCP="70000"\nIGNORE_FILE="/nonexistent/ps.ignore"\nKILL_ROUTE="/bin/echo $TARGET$ | /sbin/ipf -f -"',
    );
    assert.equal(result.config, undefined);
    const got = result.problems.filter((p) => p.severity !== 'warning').map((p) => [p.path, p.code, p.line]);
    assert.deepEqual(got, [
      ['TCP_PORT', 'unknown-key', 3],
      ['ADVANCED_PORTS_TCP', 'bad-port', 4],
      ['IGNORE_FILE', 'missing-file', 5],
      ['KILL_ROUTE', 'shell-syntax', 6],
    ]);
    assert.match(formatProblems(result.problems), /did you mean "TCP_PORTS"/);
  });

  test('port lists: PortSentry 2 ranges, bad ports and ranges', () => {
    assert.deepEqual(
      parsePortsentryConf('TCP_PORTS="1,5-7,512-515"', 'f').config?.detect.tcpPorts,
      [1, 5, 6, 7, 512, 513, 514, 515],
    );
    const codes = parsePortsentryConf('TCP_PORTS="0,10-5,x"', 'f').problems.map((p) => [p.path, p.code]);
    assert.deepEqual(codes.slice(0, 3), [
      ['TCP_PORTS', 'bad-port'],
      ['TCP_PORTS', 'bad-range'],
      ['TCP_PORTS', 'wrong-type'],
    ]);
  });

  test('variables: earlier keys only; placeholders untouched; first setting wins', () => {
    const braced = ['$', '{BASE}'].join(''); // portsentry.conf's ${NAME} form
    const r = conf(
      'BASE="/opt/ps"\nHISTORY_FILE="' +
        braced +
        '/h"\nBLOCKED_FILE="$BASE/b"\nKILL_RUN_CMD="/bin/x $TARGET$$PORT$ $MODE$"\nHISTORY_FILE="/other"',
    );
    assert.equal(r.config?.store.historyFile, '/opt/ps/h');
    assert.equal(r.config?.store.blockedFile, '/opt/ps/b');
    assert.deepEqual(r.config?.respond.command, ['/bin/x', '$TARGET$$PORT$', '$MODE$']);
    assert.equal(r.problems.find((p) => p.code === 'duplicate-key')?.line, 7);
    assert.equal(
      conf('HISTORY_FILE="$LATER/h"\nLATER="/x"').problems.find((p) => p.severity !== 'warning')?.code,
      'unknown-variable',
    );
  });

  test('detects the format by content', () => {
    assert.equal(looksLikePortsentryConf('# c\nTCP_PORTS="1"\nRESOLVE_HOST = "0"\n'), true);
    assert.equal(looksLikePortsentryConf('[detect]\nthreshold = 2\n'), false);
    assert.equal(looksLikePortsentryConf('threshold = 2\n'), false);
    assert.equal(looksLikePortsentryConf(''), false);
  });
});

describe('KILL_ROUTE mapping', () => {
  const cases: [string, string][] = [
    ['/sbin/route add -host $TARGET$ reject', 'route'],
    ['/sbin/route add -host $TARGET$ gw 333.444.555.666', 'route'],
    ['ip route add blackhole $TARGET$', 'route'],
    ['/sbin/ip -6 route add blackhole $TARGET$', 'route'],
    ['/usr/local/bin/iptables -I INPUT -s $TARGET$ -j DROP', 'iptables'],
    ['/sbin/ipchains -I input -s $TARGET$ -j DENY -l', 'iptables'],
    ['/sbin/ipfwadm -I -i deny -S $TARGET$ -o', 'iptables'],
    ['nft add rule ip filter input ip saddr $TARGET$ drop', 'nftables'],
    ['/sbin/ipfw add 1 deny all from $TARGET$:255.255.255.255 to any', 'command'],
    ['/usr/sbin/ipset add blocklist $TARGET$', 'command'],
  ];
  for (const [line, backend] of cases) {
    test(`${line} -> ${backend}`, () => {
      const { argv } = splitCommandLine(line);
      const m = mapKillRoute(argv);
      assert.equal(m.backend, backend);
      if (backend === 'command') assert.deepEqual(m.argv, argv);
    });
  }

  test('a custom KILL_ROUTE becomes the command backend’s argv', () => {
    const c = conf('BLOCK_TCP="1"\nKILL_ROUTE="/usr/sbin/ipset add blocklist $TARGET$"').config as Config;
    assert.deepEqual(c.respond.backends, ['command']);
    assert.deepEqual(c.respond.routeCommand, ['/usr/sbin/ipset', 'add', 'blocklist', '$TARGET$']);
    assert.equal(c.respond.tcp, 'block');
  });
});
