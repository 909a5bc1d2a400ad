// A network-namespace lab on documentation addresses, for `portsentinel demo` and the
// end-to-end tests: target ⇄ attacker, and optionally target ⇄ benign. Everything happens inside
// namespaces created here; the host's firewall, routes and files are never touched, and close()
// removes the namespaces (call it from `finally`).
//
// Addresses: attacker link 198.51.100.0/24 + 2001:db8:51::/64 (target .2/::2, attacker .1/::1),
// benign link 203.0.113.0/24 + 2001:db8:113::/64 (target .2/::2, benign .3/::3).
// The target's default gateway is the attacker (default) or the benign side (`gatewayVia:
// 'benign'`), so a test can check both that the gateway is never banned and that a scanner is.

import { execFileSync, spawnSync } from 'node:child_process';

export interface LabOptions {
  benign?: boolean;
  /** Which neighbour is the target's default gateway; 'benign' implies `benign: true`. */
  gatewayVia?: 'attacker' | 'benign';
}

export interface Lab {
  target: string;
  attacker: string;
  benign?: string;
  targetV4: string;
  attackerV4: string;
  benignV4?: string;
  targetV6: string;
  attackerV6: string;
  benignV6?: string;
  /** The veth ends of the attacker ⇄ target link (for capture, masscan, address adding). */
  targetIface: string;
  attackerIface: string;
  /** The target's default gateway. */
  gatewayV4: string;
  gatewayV6: string;
  inTarget: string[];
  inAttacker: string[];
  inBenign: string[];
  close(): void;
}

function sh(argv: string[]): string {
  return execFileSync(argv[0] as string, argv.slice(1), {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function inNs(ns: string, argv: string[]): string {
  return sh(['ip', 'netns', 'exec', ns, ...argv]);
}

let counter = 0;

/** `tag` must be short (interface names are limited to 15 characters), e.g. 'demo' or 'e2e'. */
export function createLab(tag: string, options: LabOptions = {}): Lab {
  const viaBenign = options.gatewayVia === 'benign';
  const withBenign = options.benign === true || viaBenign;
  const id = `${process.pid % 10000}${counter++}`;
  const target = `ps-${tag}-t${id}`;
  const attacker = `ps-${tag}-a${id}`;
  const benign = withBenign ? `ps-${tag}-b${id}` : undefined;
  const created: string[] = [];
  const close = () => {
    for (const ns of created.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  };
  try {
    for (const ns of [target, attacker, benign]) {
      if (!ns) continue;
      sh(['ip', 'netns', 'add', ns]);
      created.push(ns);
      inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
      inNs(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
      inNs(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0']);
    }
    const link = (
      a: string,
      b: string,
      aName: string,
      bName: string,
      v4: [string, string],
      v6: [string, string],
    ) => {
      sh(['ip', 'link', 'add', aName, 'netns', a, 'type', 'veth', 'peer', 'name', bName, 'netns', b]);
      inNs(a, ['ip', 'addr', 'add', `${v4[0]}/24`, 'dev', aName]);
      inNs(b, ['ip', 'addr', 'add', `${v4[1]}/24`, 'dev', bName]);
      inNs(a, ['ip', '-6', 'addr', 'add', `${v6[0]}/64`, 'dev', aName, 'nodad']);
      inNs(b, ['ip', '-6', 'addr', 'add', `${v6[1]}/64`, 'dev', bName, 'nodad']);
      inNs(a, ['ip', 'link', 'set', aName, 'up']);
      inNs(b, ['ip', 'link', 'set', bName, 'up']);
    };
    link(
      target,
      attacker,
      `vt${id}`,
      `va${id}`,
      ['198.51.100.2', '198.51.100.1'],
      ['2001:db8:51::2', '2001:db8:51::1'],
    );
    if (benign) {
      link(
        target,
        benign,
        `wt${id}`,
        `wb${id}`,
        ['203.0.113.2', '203.0.113.3'],
        ['2001:db8:113::2', '2001:db8:113::3'],
      );
      // The benign client reaches every target address (198.51.100.2 too) through the target.
      inNs(benign, ['ip', 'route', 'add', 'default', 'via', '203.0.113.2']);
      inNs(benign, ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:113::2']);
    }
    const gatewayV4 = viaBenign ? '203.0.113.3' : '198.51.100.1';
    const gatewayV6 = viaBenign ? '2001:db8:113::3' : '2001:db8:51::1';
    inNs(target, ['ip', 'route', 'add', 'default', 'via', gatewayV4]);
    inNs(target, ['ip', '-6', 'route', 'add', 'default', 'via', gatewayV6]);
    const lab: Lab = {
      target,
      attacker,
      targetV4: '198.51.100.2',
      attackerV4: '198.51.100.1',
      targetV6: '2001:db8:51::2',
      attackerV6: '2001:db8:51::1',
      targetIface: `vt${id}`,
      attackerIface: `va${id}`,
      gatewayV4,
      gatewayV6,
      inTarget: ['ip', 'netns', 'exec', target],
      inAttacker: ['ip', 'netns', 'exec', attacker],
      inBenign: benign ? ['ip', 'netns', 'exec', benign] : [],
      close,
    };
    if (benign) {
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

/** The MAC address of interface `iface` in namespace `ns`. */
export function linkMac(ns: string, iface: string): string {
  const [link] = JSON.parse(inNs(ns, ['ip', '-j', 'link', 'show', iface])) as { address?: string }[];
  if (!link?.address) throw new Error(`no MAC address for ${iface} in ${ns}`);
  return link.address;
}

/** Adds addresses (IPv4 /24, IPv6 /64) to the attacker's end of the link, in one `ip -batch`. */
export function addAttackerAddresses(lab: Lab, addresses: string[]): void {
  const iface = lab.attackerIface;
  const batch = addresses
    .map((a) =>
      a.includes(':') ? `-6 addr add ${a}/64 dev ${iface} nodad` : `addr add ${a}/24 dev ${iface}`,
    )
    .join('\n');
  execFileSync('ip', ['netns', 'exec', lab.attacker, 'ip', '-batch', '-'], { input: `${batch}\n` });
}
