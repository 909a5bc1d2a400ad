import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Io } from './context.js';
import { main } from './main.js';

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(text: string) {
      io.stdout += `${text}\n`;
    },
    err(text: string) {
      io.stderr += `${text}\n`;
    },
  };
  return io;
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('cli usage errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['unknown flag', ['history', '--bogus'], /Unknown option '--bogus'/],
    ['missing argument', ['explain'], /expected IP/],
    ['bad address', ['block', '192.0.2.300'], /not an IP address/],
    ['bad duration', ['block', '192.0.2.7', '--for', 'soon'], /not a duration/],
    ['bad limit', ['history', '--limit', '-3'], /Unknown option|positive integer|argument/],
    ['unknown mode', ['run', '--mode', 'tcp,xyz'], /unknown mode "xyz"/],
    ['extra argument', ['status', 'now'], /expected no arguments/],
  ];
  for (const [name, argv, message] of cases) {
    test(`${name} → exit 64 with one clear message`, async () => {
      const r = await cli(argv);
      assert.equal(r.code, 64, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  test('--help for every command exits 0 and shows its usage', async () => {
    for (const name of [
      'run',
      'status',
      'history',
      'explain',
      'block',
      'unblock',
      'check-config',
      'import-portsentry',
      'demo',
    ]) {
      const r = await cli([name, '--help']);
      assert.equal(r.code, 0, name);
      assert.match(r.stdout, new RegExp(`usage: portsentinel ${name}`));
    }
    const top = await cli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /check-config/);
  });
});

describe('cli config commands', () => {
  test('check-config: problems listed with key path, exit 78; a good file exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-cli-'));
    try {
      const bad = join(dir, 'bad.toml');
      writeFileSync(
        bad,
        '[detect]\ntcp_ports = [70000]\nfrobnicate = 1\n[respond]\nignore = ["10.0.0.0/33"]\n',
      );
      const r = await cli(['check-config', '--config', bad]);
      assert.equal(r.code, 78);
      assert.match(r.stderr, /detect\.tcp_ports/);
      assert.match(r.stderr, /frobnicate/);
      assert.match(r.stderr, /10\.0\.0\.0\/33/);
      const json = await cli(['check-config', '--config', bad, '--json']);
      assert.equal(json.code, 78);
      assert.ok((JSON.parse(json.stdout) as { problems: unknown[] }).problems.length >= 3);
      const good = join(dir, 'good.toml');
      writeFileSync(good, '[detect]\ntcp_ports = [1, 31337]\n');
      assert.equal((await cli(['check-config', '--config', good])).code, 0);
      assert.equal((await cli(['check-config', '--config', join(dir, 'missing.toml')])).code, 78);
      // `run` with a bad config refuses to start with the same list and exit 78.
      const run = await cli(['run', '--config', bad]);
      assert.equal(run.code, 78);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('import-portsentry prints TOML that check-config accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-cli-'));
    try {
      const conf = join(dir, 'portsentry.conf');
      writeFileSync(
        conf,
        'TCP_PORTS="1,11,15,31337"\nUDP_PORTS="1,7,9"\nBLOCK_TCP="1"\nBLOCK_UDP="0"\nSCAN_TRIGGER="0"\nKILL_ROUTE="/sbin/route add -host $TARGET$ reject"\n',
      );
      const r = await cli(['import-portsentry', conf]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /31337/);
      const toml = join(dir, 'imported.toml');
      writeFileSync(toml, r.stdout);
      const check = await cli(['check-config', '--config', toml]);
      assert.equal(check.code, 0, check.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cli against the store without a daemon', () => {
  test('block / status / history / explain / unblock with --json (dry-run backend)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-cli-'));
    try {
      const config = join(dir, 'c.toml');
      writeFileSync(config, '[respond]\nbackends = ["dry-run"]\n');
      const common = [
        '--config',
        config,
        '--state',
        join(dir, 'state.db'),
        '--socket',
        join(dir, 'none.sock'),
      ];
      const noState = await cli(['history', ...common]);
      assert.equal(noState.code, 1);
      assert.match(noState.stderr, /no state database/);
      const b = await cli(['block', '192.0.2.7', '--for', '1h', '--json', ...common]);
      assert.equal(b.code, 0, b.stderr);
      const blocked = JSON.parse(b.stdout) as {
        via: string;
        ban: { address: string; state: string; until: number };
      };
      assert.equal(blocked.via, 'offline');
      assert.equal(blocked.ban.address, '192.0.2.7');
      assert.equal(blocked.ban.state, 'active');
      assert.ok(blocked.ban.until > Date.now() + 3_500_000);
      const s = JSON.parse((await cli(['status', '--json', ...common])).stdout) as {
        daemon: null;
        activeBans: number;
      };
      assert.equal(s.daemon, null);
      assert.equal(s.activeBans, 1);
      const h = JSON.parse(
        (await cli(['history', '--json', '--address', '192.0.2.7', ...common])).stdout,
      ) as unknown[];
      assert.ok(h.length >= 1);
      const x = JSON.parse((await cli(['explain', '192.0.2.7', '--json', ...common])).stdout) as {
        bans: unknown[];
      };
      assert.equal(x.bans.length, 1);
      const u = JSON.parse((await cli(['unblock', '192.0.2.7', '--json', ...common])).stdout) as {
        released: boolean;
      };
      assert.equal(u.released, true);
      const s2 = JSON.parse((await cli(['status', '--json', ...common])).stdout) as { activeBans: number };
      assert.equal(s2.activeBans, 0);
      const human = await cli(['explain', '192.0.2.7', ...common]);
      assert.match(human.stdout, /released/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
