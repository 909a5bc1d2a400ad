// A deterministic generator of realistic syslog/auth.log lines of a busy Debian server (sshd,
// sudo, cron, kernel, postfix, systemd, rsyslogd, and portsentinel's own lines), for the
// differential tests and the benchmark. Written from the formats these programs log, not copied
// from any sample. A few lines carry what real logs carry: trailing spaces, odd kernel noise,
// programs no rule knows.

import { mulberry32 } from '../core/prng.js';

export interface GenerateOptions {
  /** PRNG seed: the same seed gives the same lines. */
  seed?: number;
  /** Host name in every line. */
  host?: string;
  /** First timestamp (epoch ms); lines move forward a little each. */
  start?: number;
  /** `rfc3164` ("Jun  4 15:16:01"), `iso` (rsyslog's high-precision format), or `mixed`. */
  timestamps?: 'rfc3164' | 'iso' | 'mixed';
  /** Include portsentinel's own lines (default true). */
  sentinel?: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const USERS = ['alice', 'bob', 'deploy', 'backup', 'www-data'];
const BAD_USERS = ['admin', 'test', 'oracle', 'ubuntu', 'pi', 'guest', 'user', 'ftpuser', 'support', 'git'];
const HEX = '0123456789ABCDEF';

type Rng = () => number;
type Template = { weight: number; make: (r: Rng, ctx: Ctx) => string };
interface Ctx {
  pid: () => number;
  ip: () => string;
  goodIp: () => string;
  user: () => string;
  uptime: () => string;
  qid: () => string;
  session: () => number;
}

function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

const TEMPLATES: Template[] = [
  // cron
  {
    weight: 60,
    make: (_r, c) =>
      `CRON[${c.pid()}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
  },
  { weight: 60, make: (_r, c) => `CRON[${c.pid()}]: pam_unix(cron:session): session closed for user root` },
  {
    weight: 40,
    make: (r, c) =>
      `CRON[${c.pid()}]: (root) CMD (${pick(r, ['command -v debian-sa1 > /dev/null && debian-sa1 1 1', '   cd / && run-parts --report /etc/cron.hourly', '[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi'])})`,
  },
  // sshd
  {
    weight: 30,
    make: (r, c) =>
      `sshd[${c.pid()}]: Accepted publickey for ${c.user()} from ${c.goodIp()} port ${1024 + Math.floor(r() * 64000)} ssh2: ED25519 SHA256:${Buffer.from(String(r())).toString('base64').slice(0, 22)}`,
  },
  {
    weight: 30,
    make: (_r, c) =>
      `sshd[${c.pid()}]: pam_unix(sshd:session): session opened for user ${c.user()}(uid=1000) by (uid=0)`,
  },
  {
    weight: 30,
    make: (_r, c) => `sshd[${c.pid()}]: pam_unix(sshd:session): session closed for user ${c.user()}`,
  },
  {
    weight: 80,
    make: (r, c) =>
      `sshd[${c.pid()}]: Invalid user ${pick(r, BAD_USERS)} from ${c.ip()} port ${1024 + Math.floor(r() * 64000)}`,
  },
  {
    weight: 80,
    make: (r, c) =>
      `sshd[${c.pid()}]: Failed password for invalid user ${pick(r, BAD_USERS)} from ${c.ip()} port ${1024 + Math.floor(r() * 64000)} ssh2`,
  },
  {
    weight: 40,
    make: (r, c) =>
      `sshd[${c.pid()}]: Failed password for root from ${c.ip()} port ${1024 + Math.floor(r() * 64000)} ssh2`,
  },
  {
    weight: 60,
    make: (r, c) =>
      `sshd[${c.pid()}]: Connection closed by invalid user ${pick(r, BAD_USERS)} ${c.ip()} port ${1024 + Math.floor(r() * 64000)} [preauth]`,
  },
  {
    weight: 60,
    make: (r, c) =>
      `sshd[${c.pid()}]: Received disconnect from ${c.ip()} port ${1024 + Math.floor(r() * 64000)}:11: Bye Bye [preauth]`,
  },
  {
    weight: 40,
    make: (r, c) =>
      `sshd[${c.pid()}]: Disconnected from authenticating user root ${c.ip()} port ${1024 + Math.floor(r() * 64000)} [preauth]`,
  },
  {
    weight: 25,
    make: (_r, c) =>
      `sshd[${c.pid()}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${c.ip()}  user=root`,
  },
  {
    weight: 10,
    make: (_r, c) => `sshd[${c.pid()}]: error: kex_exchange_identification: Connection closed by remote host`,
  },
  { weight: 5, make: (_r, c) => `sshd[${c.pid()}]: Server listening on 0.0.0.0 port 22.` },
  {
    weight: 8,
    make: (r, c) =>
      `sshd[${c.pid()}]: error: maximum authentication attempts exceeded for root from ${c.ip()} port ${1024 + Math.floor(r() * 64000)} ssh2 [preauth]`,
  },
  // sudo
  {
    weight: 12,
    make: (r, c) =>
      `sudo: ${c.user()} : TTY=pts/${Math.floor(r() * 4)} ; PWD=/home/${c.user()} ; USER=root ; COMMAND=${pick(r, ['/usr/bin/apt update', '/usr/bin/systemctl restart nginx', '/usr/bin/journalctl -u ssh', '/bin/bash'])}`,
  },
  {
    weight: 12,
    make: (_r, c) =>
      `sudo: pam_unix(sudo:session): session opened for user root(uid=0) by ${c.user()}(uid=1000)`,
  },
  { weight: 12, make: () => `sudo: pam_unix(sudo:session): session closed for user root` },
  {
    weight: 2,
    make: (r, c) =>
      `sudo: ${c.user()} : 3 incorrect password attempts ; TTY=pts/${Math.floor(r() * 4)} ; PWD=/home/${c.user()} ; USER=root ; COMMAND=/bin/su`,
  },
  {
    weight: 1,
    make: (_r, c) =>
      `sudo:    ${c.user()} : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh`,
  },
  { weight: 2, make: (_r, c) => `su[${c.pid()}]: (to root) ${c.user()} on pts/1` },
  { weight: 1, make: (_r, c) => `su[${c.pid()}]: FAILED SU (to root) ${c.user()} on pts/1` },
  // systemd
  {
    weight: 30,
    make: (_r, c) => {
      const s = c.session();
      return `systemd[1]: Started session-${s}.scope - Session ${s} of User ${c.user()}.`;
    },
  },
  {
    weight: 30,
    make: (_r, c) => `systemd-logind[${c.pid()}]: New session ${c.session()} of user ${c.user()}.`,
  },
  {
    weight: 30,
    make: (_r, c) =>
      `systemd-logind[${c.pid()}]: Session ${c.session()} logged out. Waiting for processes to exit.`,
  },
  { weight: 30, make: (_r, c) => `systemd-logind[${c.pid()}]: Removed session ${c.session()}.` },
  { weight: 10, make: (_r, c) => `systemd[1]: session-${c.session()}.scope: Deactivated successfully.` },
  {
    weight: 10,
    make: (r) => {
      const u = pick(r, ['logrotate', 'man-db', 'apt-daily', 'phpsessionclean', 'sysstat-collect']);
      return pick(r, [
        `systemd[1]: Starting ${u}.service - Daily ${u} activities...`,
        `systemd[1]: ${u}.service: Deactivated successfully.`,
        `systemd[1]: Finished ${u}.service - Daily ${u} activities.`,
      ]);
    },
  },
  { weight: 3, make: () => `systemd[1]: Reloading finished in 312 ms.` },
  {
    weight: 2,
    make: (r) =>
      `systemd-timesyncd[${400 + Math.floor(r() * 99)}]: Initial synchronization to time server 192.0.2.123:123 (ntp.example.org).`,
  },
  // kernel
  {
    weight: 30,
    make: (r, c) =>
      `kernel: ${c.uptime()} [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=${c.ip()} DST=192.0.2.10 LEN=40 TOS=0x00 PREC=0x00 TTL=${40 + Math.floor(r() * 200)} ID=${Math.floor(r() * 65535)} PROTO=TCP SPT=${1024 + Math.floor(r() * 64000)} DPT=${pick(r, [23, 445, 3389, 8080, 5900, 1433])} WINDOW=1024 RES=0x00 SYN URGP=0 `,
  },
  { weight: 2, make: (_r, c) => `kernel: ${c.uptime()} EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro` },
  {
    weight: 1,
    make: (_r, c) =>
      `kernel: ${c.uptime()} Out of memory: Killed process ${c.pid()} (java) total-vm:8388608kB, anon-rss:4194304kB`,
  },
  {
    weight: 1,
    make: (_r, c) =>
      `kernel: ${c.uptime()} TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.`,
  },
  { weight: 1, make: (_r, c) => `kernel: ${c.uptime()} device eth0 entered promiscuous mode` },
  {
    weight: 1,
    make: (_r, c) =>
      `kernel: ${c.uptime()} audit: type=1400 audit(1717000000.123:77): apparmor="DENIED" operation="open" profile="/usr/sbin/named" name="/etc/shadow" pid=${c.pid()} comm="named" requested_mask="r" denied_mask="r" fsuid=107 ouid=0`,
  },
  // postfix
  { weight: 40, make: (_r, c) => `postfix/smtpd[${c.pid()}]: connect from unknown[${c.ip()}]` },
  {
    weight: 40,
    make: (_r, c) =>
      `postfix/smtpd[${c.pid()}]: disconnect from unknown[${c.ip()}] ehlo=1 auth=0/1 quit=1 commands=2/3`,
  },
  {
    weight: 15,
    make: (r, c) =>
      `postfix/smtpd[${c.pid()}]: NOQUEUE: reject: RCPT from unknown[${c.ip()}]: 554 5.7.1 <${pick(r, BAD_USERS)}@example.net>: Relay access denied; from=<spam@example.com> to=<${pick(r, BAD_USERS)}@example.net> proto=ESMTP helo=<example.com>`,
  },
  {
    weight: 20,
    make: (_r, c) => `postfix/smtpd[${c.pid()}]: ${c.qid()}: client=mail.example.org[${c.goodIp()}]`,
  },
  {
    weight: 20,
    make: (r, c) =>
      `postfix/cleanup[${c.pid()}]: ${c.qid()}: message-id=<${Math.floor(r() * 1e9)}.${c.pid()}@example.org>`,
  },
  {
    weight: 20,
    make: (r, c) =>
      `postfix/qmgr[${c.pid()}]: ${c.qid()}: from=<${c.user()}@example.org>, size=${Math.floor(r() * 90000)}, nrcpt=1 (queue active)`,
  },
  {
    weight: 20,
    make: (r, c) =>
      `postfix/smtp[${c.pid()}]: ${c.qid()}: to=<${pick(r, USERS)}@example.net>, relay=mx.example.net[198.51.100.2]:25, delay=0.${Math.floor(r() * 9)}, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${c.qid()})`,
  },
  { weight: 20, make: (_r, c) => `postfix/qmgr[${c.pid()}]: ${c.qid()}: removed` },
  {
    weight: 3,
    make: (_r, c) =>
      `postfix/anvil[${c.pid()}]: statistics: max connection rate 1/60s for (smtp:${c.ip()}) at Jun  4 03:12:09`,
  },
  {
    weight: 3,
    make: (_r, c) =>
      `postfix/smtpd[${c.pid()}]: warning: hostname example-host.invalid does not resolve to address ${c.ip()}`,
  },
  // rsyslogd and friends
  {
    weight: 1,
    make: (r) =>
      `rsyslogd: [origin software="rsyslogd" swVersion="8.2302.0" x-pid="${400 + Math.floor(r() * 99)}" x-info="https://www.rsyslog.com"] rsyslogd was HUPed`,
  },
  {
    weight: 2,
    make: (_r, c) => `dhclient[${c.pid()}]: DHCPACK of 192.0.2.10 from 192.0.2.1 (xid=0x4f2a1b3c)`,
  },
  { weight: 2, make: (_r, c) => `myapp[${c.pid()}]: worker 3 finished batch in 1234 ms ` },
  {
    weight: 1,
    make: (_r, c) =>
      `nginx[${c.pid()}]: 2024/06/04 03:12:09 [error] 123#123: *456 upstream timed out (110: Connection timed out)`,
  },
  {
    weight: 1,
    make: (_r, c) => `smartd[${c.pid()}]: Device: /dev/sda [SAT], FAILED SMART self-check. BACK UP DATA NOW!`,
  },
];

const SENTINEL_TEMPLATES: Template[] = [
  {
    weight: 4,
    make: (r, c) =>
      `portsentinel[${c.pid()}]: scan from ${c.ip()}: ${2 + Math.floor(r() * 40)} probes to ${1 + Math.floor(r() * 30)} ports (syn) in ${1 + Math.floor(r() * 9)}s`,
  },
  {
    weight: 2,
    make: (_r, c) =>
      `portsentinel[${c.pid()}]: blocked ${c.ip()} (offence 1, until 2024-06-04T04:12:09Z) by nftables`,
  },
  { weight: 1, make: (_r, c) => `portsentinel[${c.pid()}]: released ${c.ip()}: ban expired` },
];

function timestamp(ms: number, style: 'rfc3164' | 'iso'): string {
  const d = new Date(ms);
  if (style === 'iso') {
    const p2 = (n: number): string => String(n).padStart(2, '0');
    const us = String(d.getUTCMilliseconds() * 1000 + (ms % 1) * 1000).padStart(6, '0');
    return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${us.slice(0, 6)}+00:00`;
  }
  const day = String(d.getUTCDate()).padStart(2, ' ');
  const t = d.toISOString().slice(11, 19);
  return `${MONTHS[d.getUTCMonth()]} ${day} ${t}`;
}

/** `count` lines, one by one (no array of the whole log is built). */
export function* generateLogLines(count: number, options: GenerateOptions = {}): Generator<string> {
  const r = mulberry32(options.seed ?? 1);
  const host = options.host ?? 'web01';
  let now = options.start ?? Date.UTC(2024, 5, 4, 3, 0, 0);
  const style = options.timestamps ?? 'mixed';
  const templates = options.sentinel === false ? TEMPLATES : [...TEMPLATES, ...SENTINEL_TEMPLATES];
  const total = templates.reduce((s, t) => s + t.weight, 0);
  let pidBase = 1000;
  let sessionBase = 100;
  const ctx: Ctx = {
    pid: () => pidBase + Math.floor(r() * 50),
    ip: () => `203.0.113.${1 + Math.floor(r() * 254)}`,
    goodIp: () => `198.51.100.${1 + Math.floor(r() * 20)}`,
    user: () => pick(r, USERS),
    uptime: () => `[${(now / 1000 - 1717460000).toFixed(6).padStart(12, ' ')}]`,
    qid: () => {
      let s = '';
      for (let i = 0; i < 10; i++) s += HEX[Math.floor(r() * 16)];
      return s;
    },
    session: () => sessionBase + Math.floor(r() * 5),
  };
  // rsyslog switches format per file, not per line: a run of lines keeps one style.
  let currentStyle: 'rfc3164' | 'iso' = style === 'iso' ? 'iso' : 'rfc3164';
  for (let i = 0; i < count; i++) {
    now += Math.floor(r() * 400);
    if (i % 1000 === 0) {
      pidBase += 37;
      sessionBase += 3;
      if (style === 'mixed') currentStyle = r() < 0.5 ? 'iso' : 'rfc3164';
    }
    let x = r() * total;
    let t = templates[0]!;
    for (const cand of templates) {
      x -= cand.weight;
      if (x < 0) {
        t = cand;
        break;
      }
    }
    yield `${timestamp(now, currentStyle)} ${host} ${t.make(r, ctx)}`;
  }
}
