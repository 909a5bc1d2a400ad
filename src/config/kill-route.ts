// PortSentry's KILL_ROUTE is a shell command. The common Linux ones do what a built-in backend does
// better (batched, removable on expiry, IPv6-aware), so they map onto that backend; anything else
// stays a command template, run with an argument vector and no shell.

import type { BackendName } from './types.js';

export interface KillRouteMapping {
  backend: BackendName;
  /** For `command`: the argument vector to run. */
  argv?: string[];
  /** One line for the import notes. */
  why: string;
}

const base = (p: string | undefined) => (p ?? '').split('/').pop() ?? '';

export function mapKillRoute(argv: readonly string[]): KillRouteMapping {
  const program = base(argv[0]);
  const args = argv.slice(1);
  const has = (...words: string[]) => words.some((w) => args.includes(w));
  const target = args.includes('$TARGET$');

  // route add [-host|-net] $TARGET$ reject | blackhole | gw DEADHOST ...: a dropped route.
  if (program === 'route' && args[0] === 'add' && target) {
    return { backend: 'route', why: 'a dropped route: built-in blackhole routes (IPv4 and IPv6)' };
  }
  // ip [-4|-6] route add blackhole|unreachable|prohibit $TARGET$
  if (program === 'ip') {
    const rest = args.filter((a) => a !== '-4' && a !== '-6');
    if (rest[0] === 'route' && rest[1] === 'add' && target && has('blackhole', 'unreachable', 'prohibit')) {
      return { backend: 'route', why: 'a blackhole route: built-in route backend' };
    }
  }
  // iptables -I|-A INPUT -s $TARGET$ -j DROP|REJECT (and the ipchains/ipfwadm ancestors).
  if ((program === 'iptables' || program === 'ip6tables') && has('-s') && target && has('DROP', 'REJECT')) {
    return {
      backend: 'iptables',
      why: 'an iptables drop rule: built-in iptables backend (with ipset when available)',
    };
  }
  if (program === 'ipchains' && has('-s') && target && has('DENY', 'REJECT')) {
    return {
      backend: 'iptables',
      why: 'an ipchains deny rule: ipchains is gone, built-in iptables backend instead',
    };
  }
  if (program === 'ipfwadm' && has('-S') && target && has('deny', 'reject')) {
    return {
      backend: 'iptables',
      why: 'an ipfwadm deny rule: ipfwadm is gone, built-in iptables backend instead',
    };
  }
  // nft add rule ... saddr $TARGET$ drop (PortSentry 2's example spells the program "nftables").
  if ((program === 'nft' || program === 'nftables') && has('saddr') && target && has('drop', 'reject')) {
    return {
      backend: 'nftables',
      why: 'an nftables drop rule: built-in nftables backend (its own table and sets)',
    };
  }
  return { backend: 'command', argv: [...argv], why: 'no built-in equivalent: run as a command (no shell)' };
}
