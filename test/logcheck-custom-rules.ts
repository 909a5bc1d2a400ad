// A small rule tree that exercises every corner of logcheck's classification (used by the
// differential tests), and hand-written lines that hit those corners. Patterns are kept to the
// ERE subset that means the same in JavaScript, so these tests do not depend on the translator.

import type { CompileRules } from '../src/logcheck/rule-dirs.js';

export const CUSTOM_RULES: Record<string, string> = {
  'cracking.d/attack': '# alerts of the attack kind\n\nATTACK\nexploit attempt\n',
  'cracking.d/logcheck': 'BREAK-IN\nATTACK\n',
  // Named logchec*: its own section, and it does not take lines away from the logcheck section.
  'cracking.d/logcheck-extra': 'extra-alarm\nBREAK-IN\n',
  'cracking.d/smartd': 'smartd\\[[0-9]+\\]: .*FAILED SMART',
  'cracking.ignore.d/attack': 'ATTACK harmless\n',
  'violations.d/sudo': 'sudo: .*COMMAND=\nsudo: .*incorrect password\n',
  'violations.d/logcheck': 'FAILED\ndenied\nATTACK\nNOT in sudoers\n',
  'violations.d/kern': 'kernel: .*Out of memory\nkernel: .*promiscuous\n',
  'violations.d/empty': '# nothing but comments\n\n   \n',
  'violations.d/skipped.bak': '.*\n',
  'violations.ignore.d/logcheck-sudo': 'COMMAND=/usr/bin/apt update$\n',
  'violations.ignore.d/logcheck': 'denied by policy\n',
  'violations.ignore.d/local-site': 'FAILED test\n',
  'violations.ignore.d/kern': 'promiscuous\n',
  'ignore.d.paranoid/cron': 'CRON\\[[0-9]+\\]: pam_unix\\(cron:session\\)\n',
  'ignore.d.paranoid/sshd':
    'sshd\\[[0-9]+\\]: Accepted publickey\nsshd\\[[0-9]+\\]: pam_unix\\(sshd:session\\)\n',
  'ignore.d.server/cron': 'CRON\\[[0-9]+\\]: \\(root\\) CMD\n',
  'ignore.d.server/systemd': 'systemd(-logind)?\\[[0-9]+\\]: \n',
  'ignore.d.server/local': 'myapp\\[\n',
  'ignore.d.server/notes.bak': '.*\n',
  'ignore.d.server/.hidden': '.*\n',
  'ignore.d.server/sshd':
    'sshd\\[[0-9]+\\]: (Invalid user|Connection closed|Received disconnect|Disconnected from)\n',
  'ignore.d.workstation/postfix': 'postfix/\n',
  'ignore.d.workstation/sudo': 'sudo: pam_unix\n',
};

export const CORNER_LINES: string[] = [
  'Jun  4 03:00:00 web01 app[1]: ATTACK harmless probe',
  'Jun  4 03:00:00 web01 app[1]: ATTACK real one',
  'Jun  4 03:00:01 web01 sshd[9]: reverse mapping checking getaddrinfo failed - POSSIBLE BREAK-IN ATTEMPT!',
  'Jun  4 03:00:02 web01 app[2]: extra-alarm raised',
  'Jun  4 03:00:03 web01 app[3]: exploit attempt from 203.0.113.9',
  'Jun  4 03:00:04 web01 app[3]: request denied by policy',
  'Jun  4 03:00:04 web01 app[3]: request denied for 203.0.113.9',
  'Jun  4 03:00:05 web01 app[4]: FAILED test suite',
  'Jun  4 03:00:05 web01 app[4]: FAILED login',
  'Jun  4 03:00:06 web01 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update',
  'Jun  4 03:00:06 web01 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update   ',
  'Jun  4 03:00:07 web01 myapp[5]: local rule hides this',
  'Jun  4 03:00:08 web01 other[6]: nothing matches this line',
  'Jun  4 03:00:08 web01 other[6]: nothing matches this line',
  'Jun  4 03:00:08 web01 other[6]: nothing matches this line ',
  'Jun  4 03:00:08 web01 other[6]: nothing matches this line\t',
  'Jun  4 03:00:08 web01 other[6]: same key, second in input',
  'Jun  4 03:00:08 web01 other[6]: a same key, third in input',
  '   ',
  '',
  'lonely',
  'Jun  4 03:00:09 web01 kernel: [ 1.0] device eth0 entered promiscuous mode',
  'Jun  4 03:00:09 web01 kernel: [ 1.0] Out of memory: Killed process 7 (java)',
  'Jun  4 03:00:10 web01 smartd[7]: Device: /dev/sda, FAILED SMART self-check',
  'Jun  4 03:00:11 web01 app[8]: ünïcödé ✓ line with trailing ideographic space\u3000',
  'Jun  4 03:00:11 web01 app[8]: nbsp at the end stays\u00a0',
  'Jun  4 03:00:11 web01 app[8]: Zoë 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral',
  'Jun  4 03:00:11 web01 app[8]: ￿ high BMP',
];

/** Compiles the custom rules with JavaScript's RegExp (they are written to mean the same there). */
export const compileSimple: CompileRules = (rules) => {
  const res = rules.map((r) => new RegExp(r.pattern));
  return { matcher: { matchAny: (line) => res.some((re) => re.test(line)) }, problems: [] };
};
