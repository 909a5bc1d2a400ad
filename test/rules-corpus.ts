// Shared by the rules tests and bench/rules.ts: sample lines derived from rules (strings each rule should
// match), near misses, and realistic syslog lines. Deterministic (seeded).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../src/core/prng.js';
import { type EreNode, parseEre } from '../src/logcheck/rules/ere.js';
import { UNICODE_CLASSES } from '../src/logcheck/rules/unicode-classes.js';
import { encodeUtf8Escaped } from '../src/logcheck/sources/utf8-escape.js';

/** The seeded generator every corpus uses (one implementation for the whole project). */
export const rng = mulberry32;

const EXOTIC = [0xe9, 0x663, 0x2003, 0xa0, 0x1f600, 0x3000, 0x4e2d, 0xff, 0x7f, 0x9, 0xd, 0x5f, 0x2d];

function pickFromSet(n: EreNode & { t: 'set' }, r: () => number): number {
  const flat = [...n.ranges];
  for (const c of n.classes) flat.push(...(UNICODE_CLASSES[c] ?? []));
  const member = (cp: number): boolean => {
    let inside = false;
    for (let k = 0; k + 1 < flat.length; k += 2)
      if (cp >= (flat[k] as number) && cp <= (flat[k + 1] as number)) inside = true;
    return inside !== n.neg;
  };
  for (let tries = 0; tries < 30; tries++) {
    let cp: number;
    if (!n.neg && flat.length > 0 && r() < 0.85) {
      const k = 2 * Math.floor((r() * flat.length) / 2);
      const lo = flat[k] as number;
      const hi = flat[k + 1] as number;
      // prefer the ASCII end of big ranges, sometimes anywhere
      cp =
        r() < 0.7 ? lo + Math.floor(r() * Math.min(hi - lo + 1, 128)) : lo + Math.floor(r() * (hi - lo + 1));
    } else cp = r() < 0.8 ? 0x20 + Math.floor(r() * 95) : (EXOTIC[Math.floor(r() * EXOTIC.length)] as number);
    if (cp === 10 || (cp >= 0xd800 && cp <= 0xdfff)) continue;
    if (member(cp)) return cp;
  }
  return 0x61;
}

/** A string the pattern should match (assertions are ignored, so not always). */
export function sampleFor(ast: EreNode, r: () => number): string {
  const caps = new Map<number, string>();
  const gen = (n: EreNode): string => {
    switch (n.t) {
      case 'empty':
      case 'assert':
        return '';
      case 'char':
        return String.fromCodePoint(n.cp);
      case 'any':
        return r() < 0.9
          ? String.fromCharCode(0x20 + Math.floor(r() * 95))
          : String.fromCodePoint(EXOTIC[Math.floor(r() * EXOTIC.length)] as number);
      case 'set':
        return String.fromCodePoint(pickFromSet(n, r));
      case 'group': {
        const s = gen(n.body);
        caps.set(n.index, s);
        return s;
      }
      case 'cat':
        return n.items.map(gen).join('');
      case 'alt':
        return gen(n.items[Math.floor(r() * n.items.length)] as EreNode);
      case 'rep': {
        const extra =
          n.max === -1 ? Math.floor(r() * 4) : Math.floor(r() * (Math.min(n.max, n.min + 3) - n.min + 1));
        let out = '';
        for (let k = 0; k < Math.min(n.min + extra, 200); k++) out += gen(n.body);
        return out;
      }
      case 'backref':
        return caps.get(n.n) ?? '';
    }
  };
  return gen(ast);
}

/** Near misses: a character changed, dropped or added, a non-ASCII letter slipped in, a cut. */
export function mutations(s: string, r: () => number, count: number): string[] {
  const chars = [...s];
  const out: string[] = [];
  for (let k = 0; k < count && chars.length > 0; k++) {
    const c = [...chars];
    const at = Math.floor(r() * c.length);
    const kind = Math.floor(r() * 5);
    const exotic = String.fromCodePoint(EXOTIC[Math.floor(r() * EXOTIC.length)] as number);
    if (kind === 0) c[at] = exotic;
    else if (kind === 1) c.splice(at, 1);
    else if (kind === 2) c.splice(at, 0, String.fromCharCode(0x20 + Math.floor(r() * 95)));
    else if (kind === 3) c.splice(Math.max(1, at));
    else c[at] = String.fromCharCode(0x20 + Math.floor(r() * 95));
    out.push(c.join(''));
  }
  return out;
}

export const REAL_LINES = [
  'Mar  3 06:25:01 web1 CRON[12345]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)',
  'Mar  3 06:25:01 web1 CRON[12345]: pam_unix(cron:session): session closed for user root',
  'Mar 13 10:02:11 web1 sshd[2211]: Accepted publickey for deploy from 198.51.100.7 port 50122 ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  'Mar 13 10:02:14 web1 sshd[2213]: Failed password for invalid user admin from 203.0.113.9 port 41234 ssh2',
  'Mar 13 10:02:14 web1 sshd[2213]: Invalid user admin from 203.0.113.9 port 41234',
  'Mar 13 10:02:20 web1 sshd[2213]: Connection closed by invalid user admin 203.0.113.9 port 41234 [preauth]',
  'Mar 13 10:03:00 web1 sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update',
  'Mar 13 10:03:00 web1 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)',
  'Mar 13 10:04:00 web1 kernel: [12345.678901] [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22 SRC=203.0.113.5 DST=192.0.2.1 LEN=40 PROTO=TCP SPT=4444 DPT=23',
  'Mar 13 10:04:01 web1 kernel: [12346.000001] usb 1-1: new high-speed USB device number 2 using xhci_hcd',
  'Mar 13 10:05:00 mail postfix/smtpd[999]: connect from unknown[203.0.113.77]',
  'Mar 13 10:05:00 mail postfix/smtpd[999]: disconnect from unknown[203.0.113.77] ehlo=1 auth=0/1 quit=1 commands=2/3',
  'Mar 13 10:05:01 mail postfix/qmgr[400]: 4F2A31C0A: removed',
  'Mar 13 10:05:01 mail postfix/smtp[401]: 4F2A31C0A: to=<bob@example.org>, relay=mx.example.org[192.0.2.25]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
  'Mar 13 10:06:00 web1 systemd[1]: Started Session 42 of User alice.',
  'Mar 13 10:06:00 web1 systemd[1]: Starting Daily apt upgrade and clean activities...',
  'Mar 13 10:06:00 web1 systemd[1]: logrotate.service: Succeeded.',
  '2026-03-13T10:07:00.123456+00:00 web1 sshd[3000]: Disconnected from user deploy 198.51.100.7 port 50122',
  '2026-03-13T10:07:00.123456+00:00 web1 CRON[3001]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)',
  'Mar 13 10:08:00 web1 portsentinel[777]: attackalert: SYN scan from host 203.0.113.66 to TCP port 23, blocked',
  'Mar 13 10:08:00 web1 portsentry[778]: attackalert: Connect from host: 203.0.113.66/203.0.113.66 to TCP port: 23',
  'Mar 13 10:09:00 web1 dhcpd[55]: DHCPACK on 192.0.2.50 to 00:11:22:33:44:55 (laptop) via eth0',
  'Mar 13 10:09:00 wëb1 sshd[2213]: Failed password for root from 203.0.113.9 port 41234 ssh2',
  'Mar 13 10:09:00 web1 sshd[2213]: Failed password for invalid user jürgen from 203.0.113.9 port 41234 ssh2',
  'Mar 13 10:10:00 web1 ntpd[600]: kernel reports TIME_ERROR: 0x2041: Clock Unsynchronized',
  'Mar 13 10:10:00 web1 named[601]: client @0x7f 192.0.2.9#53000 (example.org): query (cache) denied',
  '',
  'garbage line with no syslog shape',
];

/** Bytes that are never valid UTF-8 on their own: continuation, Latin-1 letter, lead, never-valid. */
export const INVALID_BYTES = [0x80, 0xa0, 0xaa, 0xb2, 0xc3, 0xd7, 0xe9, 0xf5, 0xff];

/** `s` with one character replaced by (or one invalid byte inserted as) an escaped invalid byte. */
export function withInvalidByte(s: string, r: () => number): string {
  const chars = [...s];
  const b = INVALID_BYTES[Math.floor(r() * INVALID_BYTES.length)] as number;
  const at = Math.floor(r() * (chars.length + 1));
  const esc = String.fromCharCode(0xdc00 + b);
  if (r() < 0.5 && at < chars.length) chars[at] = esc;
  else chars.splice(at, 0, esc);
  return chars.join('');
}

/** Run GNU grep -E -f on a pattern file over lines; returns the set of matching line indexes. */
export function grepMatches(patterns: string[], lines: string[], locale = 'C.UTF-8'): Set<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ps-rules-'));
  try {
    writeFileSync(join(dir, 'rules'), `${patterns.join('\n')}\n`);
    // Escaped invalid bytes (lone U+DC80..U+DCFF, see utf8-escape.ts) go to grep as the raw bytes.
    writeFileSync(join(dir, 'corpus'), encodeUtf8Escaped(`${lines.join('\n')}\n`));
    const res = spawnSync('grep', ['-E', '--text', '-n', '-f', join(dir, 'rules'), join(dir, 'corpus')], {
      env: { LC_ALL: locale },
      maxBuffer: 1 << 28,
    });
    if (res.status === 2) throw new Error(`grep failed: ${res.stderr.toString()}`);
    const out = new Set<number>();
    for (const l of res.stdout.toString('utf8').split('\n')) {
      if (l === '') continue;
      out.add(Number(l.slice(0, l.indexOf(':'))) - 1);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseOrUndefined(p: string): EreNode | undefined {
  try {
    return parseEre(p).ast;
  } catch {
    return undefined;
  }
}
