// Network-namespace labs for end-to-end tests. Everything here happens inside namespaces the
// test creates itself, on documentation addresses; the host's own firewall, routes and files
// are never touched. Namespaces are removed in `close()`, which tests call from `after()` /
// `finally`, so a failing test still cleans up.

import { execFileSync, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const IN_CI = process.env.CI === 'true';

/** Why an end-to-end test cannot run here, or undefined when it can. In CI a missing prerequisite is a failure, never a skip. */
export function missingPrerequisite(tools: string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const tool of ['ip', ...tools]) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (r.status !== 0) return `needs ${tool} on PATH`;
  }
  return undefined;
}

/**
 * Call at the top of an end-to-end test: skips with a printed reason on a laptop, throws in CI.
 * Returns true when the test may run.
 */
export function requireLab(t: TestContext, tools: string[] = []): boolean {
  const why = missingPrerequisite(tools);
  if (!why) return true;
  if (IN_CI) throw new Error(`end-to-end prerequisite missing in CI: ${why}`);
  console.log(`# skipping ${t.name}: ${why}`);
  t.skip(why);
  return false;
}

export function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0] as string, argv.slice(1), {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs argv inside namespace `ns`; returns stdout, throws on non-zero exit. */
export function nsExec(ns: string, argv: string[], input?: string): string {
  return sh(['ip', 'netns', 'exec', ns, ...argv], input);
}

export interface Lab {
  /** The target (defender) namespace. */
  target: string;
  /** The attacker namespace. */
  attacker: string;
  /** A benign client namespace (only when asked for). */
  benign?: string;
  targetV4: string;
  attackerV4: string;
  benignV4?: string;
  targetV6: string;
  attackerV6: string;
  benignV6?: string;
  /** The target's default gateway (the attacker side of the link). */
  gatewayV4: string;
  gatewayV6: string;
  /** Prefix for argv to run a command inside the target: ['ip','netns','exec',target]. */
  inTarget: string[];
  inAttacker: string[];
  inBenign: string[];
  close(): void;
}

let counter = 0;

/**
 * Creates attacker ⇄ target (⇄ benign) namespaces joined by a bridge-less setup: the attacker
 * namespace routes for the others, so it is also the target's default gateway (useful to test
 * that the gateway is never blocked). Addresses: 198.51.100.0/24 and 2001:db8:51::/64.
 * `tag` must be short (namespace names are limited), e.g. 'resp' or 'e2e'.
 */
export function createLab(tag: string, options: { benign?: boolean } = {}): Lab {
  const id = `${process.pid % 10000}${counter++}`;
  const target = `ps-${tag}-t${id}`;
  const attacker = `ps-${tag}-a${id}`;
  const benign = options.benign ? `ps-${tag}-b${id}` : undefined;
  const created: string[] = [];
  const close = () => {
    for (const ns of created.reverse()) spawnSync('ip', ['netns', 'del', ns]);
  };
  try {
    for (const ns of [target, attacker, benign]) {
      if (!ns) continue;
      sh(['ip', 'netns', 'add', ns]);
      created.push(ns);
      nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']);
      nsExec(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
      nsExec(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0']);
    }
    // attacker <-> target link
    const vt = `vt${id}`;
    const va = `va${id}`;
    sh(['ip', 'link', 'add', vt, 'netns', target, 'type', 'veth', 'peer', 'name', va, 'netns', attacker]);
    nsExec(target, ['ip', 'addr', 'add', '198.51.100.2/24', 'dev', vt]);
    nsExec(attacker, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', va]);
    nsExec(target, ['ip', '-6', 'addr', 'add', '2001:db8:51::2/64', 'dev', vt, 'nodad']);
    nsExec(attacker, ['ip', '-6', 'addr', 'add', '2001:db8:51::1/64', 'dev', va, 'nodad']);
    nsExec(target, ['ip', 'link', 'set', vt, 'up']);
    nsExec(attacker, ['ip', 'link', 'set', va, 'up']);
    nsExec(target, ['ip', 'route', 'add', 'default', 'via', '198.51.100.1']);
    nsExec(target, ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:51::1']);
    const lab: Lab = {
      target,
      attacker,
      targetV4: '198.51.100.2',
      attackerV4: '198.51.100.1',
      targetV6: '2001:db8:51::2',
      attackerV6: '2001:db8:51::1',
      gatewayV4: '198.51.100.1',
      gatewayV6: '2001:db8:51::1',
      inTarget: ['ip', 'netns', 'exec', target],
      inAttacker: ['ip', 'netns', 'exec', attacker],
      inBenign: benign ? ['ip', 'netns', 'exec', benign] : [],
      close,
    };
    if (benign) {
      // benign <-> target on a second link: 203.0.113.0/24, 2001:db8:113::/64
      const wt = `wt${id}`;
      const wb = `wb${id}`;
      sh(['ip', 'link', 'add', wt, 'netns', target, 'type', 'veth', 'peer', 'name', wb, 'netns', benign]);
      nsExec(target, ['ip', 'addr', 'add', '203.0.113.2/24', 'dev', wt]);
      nsExec(benign, ['ip', 'addr', 'add', '203.0.113.3/24', 'dev', wb]);
      nsExec(target, ['ip', '-6', 'addr', 'add', '2001:db8:113::2/64', 'dev', wt, 'nodad']);
      nsExec(benign, ['ip', '-6', 'addr', 'add', '2001:db8:113::3/64', 'dev', wb, 'nodad']);
      nsExec(target, ['ip', 'link', 'set', wt, 'up']);
      nsExec(benign, ['ip', 'link', 'set', wb, 'up']);
      // The benign client reaches every target address through the target itself.
      nsExec(benign, ['ip', 'route', 'add', 'default', 'via', '203.0.113.2']);
      nsExec(benign, ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:113::2']);
      lab.benign = benign;
      lab.benignV4 = '203.0.113.3';
      lab.benignV6 = '2001:db8:113::3';
    }
    return lab;
  } catch (err) {
    close();
    throw err;
  }
}
