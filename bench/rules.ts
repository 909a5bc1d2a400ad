// Micro-benchmark of the rule matcher: Debian's full server-level ignore set (what System Events filtering
// runs every line through) on generated lines. Prints figures, asserts nothing.
import { existsSync } from 'node:fs';
import { loadRuleDir, type Rule } from '../src/logcheck/rules/load.js';
import { compileRules } from '../src/logcheck/rules/matcher.js';
import { parseOrUndefined, REAL_LINES, rng, sampleFor } from '../test/rules-corpus.js';

function syslogLines(count: number, seed: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  const ip = () => `203.0.113.${Math.floor(r() * 254) + 1}`;
  const pid = () => String(Math.floor(r() * 60000) + 100);
  const hms = () =>
    `${String(Math.floor(r() * 24)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}`;
  const templates = [
    () =>
      `Mar 13 ${hms()} web1 sshd[${pid()}]: Failed password for invalid user admin from ${ip()} port ${pid()} ssh2`,
    () =>
      `Mar 13 ${hms()} web1 sshd[${pid()}]: Accepted publickey for deploy from ${ip()} port ${pid()} ssh2: ED25519 SHA256:abc`,
    () => `Mar 13 ${hms()} web1 sshd[${pid()}]: Disconnected from user deploy ${ip()} port ${pid()}`,
    () =>
      `Mar 13 ${hms()} web1 CRON[${pid()}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
    () => `Mar 13 ${hms()} web1 CRON[${pid()}]: pam_unix(cron:session): session closed for user root`,
    () =>
      `Mar 13 ${hms()} web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`,
    () =>
      `Mar 13 ${hms()} web1 kernel: [${pid()}.123456] [UFW BLOCK] IN=eth0 OUT= SRC=${ip()} DST=192.0.2.1 PROTO=TCP DPT=23`,
    () => `Mar 13 ${hms()} mail postfix/smtpd[${pid()}]: connect from unknown[${ip()}]`,
    () =>
      `Mar 13 ${hms()} mail postfix/smtpd[${pid()}]: disconnect from unknown[${ip()}] ehlo=1 quit=1 commands=2`,
    () => `Mar 13 ${hms()} web1 systemd[1]: Started Session ${pid()} of User alice.`,
    () =>
      `Mar 13 ${hms()} web1 portsentinel[${pid()}]: attackalert: SYN scan from host ${ip()} to TCP port 23, blocked`,
  ];
  for (let k = 0; k < count; k++) out.push((templates[Math.floor(r() * templates.length)] as () => string)());
  return out;
}

function measure(name: string, lines: string[], fn: (l: string) => boolean): void {
  for (let k = 0; k < Math.min(lines.length, 20_000); k++) fn(lines[k] as string); // warm up
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (const l of lines) if (fn(l)) hits++;
  const ns = Number(process.hrtime.bigint() - t0);
  const perSec = Math.round((lines.length / ns) * 1e9);
  console.log(
    `  ${name.padEnd(44)} ${String(perSec).padStart(10)} lines/s  (${hits}/${lines.length} matched)`,
  );
}

export async function benchRules(): Promise<void> {
  if (!existsSync('/etc/logcheck/ignore.d.server')) {
    console.log('rules bench: /etc/logcheck not installed, skipped');
    return;
  }
  const t0 = performance.now();
  const { sets, problems } = loadRuleDir('/etc/logcheck', { level: 'server', supportCrackingIgnore: false });
  const rules: Rule[] = sets.ignore.flatMap((f) => f.rules);
  const t1 = performance.now();
  const matcher = compileRules(rules);
  const t2 = performance.now();
  console.log(
    `rules: ${rules.length} server-level ignore rules (${problems.length} problems), load ${(t1 - t0).toFixed(0)} ms, compile ${(t2 - t1).toFixed(0)} ms; indexed ${matcher.stats.indexed} under ${matcher.stats.tags} tags, unindexed ${matcher.stats.unindexed}`,
  );
  const r = rng(7);
  const derived: string[] = [];
  for (const rule of rules) {
    const ast = parseOrUndefined(rule.pattern);
    if (ast) for (let k = 0; k < 3; k++) derived.push(sampleFor(ast, r).replace(/[^\x00-\x7f]/gu, 'x'));
  }
  const n = 300_000;
  const busy = syslogLines(n, 1);
  const many = Array.from({ length: n }, (_, k) => derived[k % derived.length] as string);
  const none = busy.map((l) => l.replace(/: /, ': zzqx unmatched '));
  const real = Array.from({ length: n }, (_, k) => REAL_LINES[k % REAL_LINES.length] as string);
  measure('busy server syslog (generated)', busy, matcher.matchAny);
  measure('lines derived from every rule (ASCII)', many, matcher.matchAny);
  measure('lines matching nothing (same programs)', none, matcher.matchAny);
  measure('hand-written real-looking lines (some UTF-8)', real, matcher.matchAny);
}

if (process.argv[1]?.endsWith('rules.js')) await benchRules();
