// Reads an existing logcheck.conf as plain KEY=value lines. logcheck sources this file as bash;
// portsentinel NEVER executes it: `$(...)`, backticks and `$VAR` are taken literally (with a
// notice), so a hostile or broken file cannot run anything. Quoting is undone the way the shell
// would for the simple forms real files use: KEY=value, KEY="value", KEY='value', `export KEY=`,
// trailing `# comments`.

import type { ConfigProblem, LogcheckConfig, MailAttach, ReportLevel } from './types.js';

/** The settings portsentinel takes from a logcheck.conf (absent = not set in the file). */
export interface LogcheckConfValues {
  reportLevel?: ReportLevel;
  sendMailTo?: string[];
  attach?: MailAttach;
  fqdn?: boolean;
  sortUniq?: boolean;
  supportCrackingIgnore?: boolean;
  addTag?: boolean;
  intro?: boolean;
  attackSubject?: string;
  securitySubject?: string;
  eventsSubject?: string;
}

export interface LogcheckConfResult {
  values: LogcheckConfValues;
  /** Errors (a value logcheck could not use) and warnings (ignored variables, literal `$`). */
  problems: ConfigProblem[];
}

/** Variables logcheck knows that portsentinel does not need (its own temp/lock/debug plumbing). */
const IGNORED_KNOWN = new Set([
  'TMP',
  'LOCKDIR',
  'LOCKFILE',
  'MIMEENCODING',
  'LOGCHECKDEBUG',
  'SYSLOGSUMMARY',
  'SYSLOG_SUMMARY',
  'LOGTAIL',
  'LOGTAIL_OPTS',
  'NOCLEANUP',
  'MAILOUT',
  'REBOOT',
  'CONFFILE',
  'RULEDIR',
  'STATEDIR',
  'LOGFILES_LIST',
  'LOGFILES_LIST_D',
  'LOGFILE_FALLBACK',
  'DATE',
]);

interface Assignment {
  key: string;
  value: string;
  line: number;
  /** The value contained an unquoted or double-quoted `$` or a backtick (left literal). */
  expansion: boolean;
}

type Unquoted = { value: string; expansion: boolean } | { error: string };

/** Index of the `)` closing the `(` at `open`, or -1. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Undoes shell quoting of one word (the right-hand side of an assignment). */
function unquote(raw: string): Unquoted {
  let out = '';
  let expansion = false;
  let i = 0;
  const n = raw.length;
  while (i < n) {
    const ch = raw[i]!;
    if (ch === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = raw[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n && '"\\$`'.includes(raw[i + 1]!)) {
          out += raw[i + 1];
          i += 2;
          continue;
        }
        if (c === '$' || c === '`') expansion = true;
        out += c;
        i++;
      }
      if (!closed) return { error: 'unterminated double quote' };
      continue;
    }
    if (ch === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end === -1) return { error: 'unterminated single quote' };
      out += raw.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (ch === '\\' && i + 1 < n) {
      out += raw[i + 1];
      i += 2;
      continue;
    }
    // A command substitution is one word for the shell; here it is kept as literal text.
    if (ch === '`' || (ch === '$' && raw[i + 1] === '(')) {
      const end = ch === '`' ? raw.indexOf('`', i + 1) : closingParen(raw, i + 1);
      if (end === -1) return { error: 'unterminated command substitution' };
      out += raw.slice(i, end + 1);
      expansion = true;
      i = end + 1;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === ';') {
      // End of the word; only a comment may follow.
      const rest = raw.slice(i).replace(/^[\s;]+/, '');
      if (rest !== '' && !rest.startsWith('#')) return { error: `unexpected text after the value: ${rest}` };
      break;
    }
    if (ch === '$' || ch === '`') expansion = true;
    out += ch;
    i++;
  }
  return { value: out, expansion };
}

/** Splits the file into assignments; anything else is a problem (and ignored). */
function assignments(text: string, file: string, problems: ConfigProblem[]): Assignment[] {
  const out: Assignment[] = [];
  text.split('\n').forEach((rawLine, idx) => {
    const line = idx + 1;
    const t = rawLine.replace(/\r$/, '').trim();
    if (t === '' || t.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t);
    if (!m) {
      problems.push({
        path: file,
        file,
        line,
        code: 'not-an-assignment',
        severity: 'warning',
        message: 'not a KEY=value line; ignored (logcheck.conf is read, never executed)',
      });
      return;
    }
    const u = unquote(m[2]!);
    if ('error' in u) {
      problems.push({ path: m[1]!, file, line, code: 'bad-value', message: u.error });
      return;
    }
    out.push({ key: m[1]!, value: u.value, line, expansion: u.expansion });
  });
  return out;
}

function flag(a: Assignment, file: string, problems: ConfigProblem[]): boolean | undefined {
  if (a.value === '0') return false;
  if (a.value === '1') return true;
  problems.push({
    path: a.key,
    file,
    line: a.line,
    code: 'bad-value',
    message: `${a.key} must be 0 or 1, not "${a.value}"`,
  });
  return undefined;
}

/** Parses logcheck.conf text. Later assignments win, as when the shell sources the file. */
export function parseLogcheckConf(text: string, file = 'logcheck.conf'): LogcheckConfResult {
  const problems: ConfigProblem[] = [];
  const values: LogcheckConfValues = {};
  for (const a of assignments(text, file, problems)) {
    if (a.expansion) {
      problems.push({
        path: a.key,
        file,
        line: a.line,
        code: 'literal-expansion',
        severity: 'warning',
        message: `${a.key}: "$", "$(...)" and backticks are taken literally (the file is never executed)`,
      });
    }
    const bad = (message: string): void => {
      problems.push({ path: a.key, file, line: a.line, code: 'bad-value', message });
    };
    switch (a.key) {
      case 'REPORTLEVEL':
        if (a.value === 'paranoid' || a.value === 'server' || a.value === 'workstation')
          values.reportLevel = a.value;
        else bad(`REPORTLEVEL must be paranoid, server or workstation, not "${a.value}"`);
        break;
      case 'SENDMAILTO': {
        const to = a.value.split(/[\s,]+/).filter((s) => s !== '');
        if (to.length === 0) bad('SENDMAILTO is empty');
        else values.sendMailTo = to;
        break;
      }
      case 'MAILASATTACH':
        if (a.value === '0') values.attach = 'inline';
        else if (a.value === '1') values.attach = 'attach';
        else if (a.value === '2') values.attach = 'gzip';
        else bad(`MAILASATTACH must be 0, 1 or 2, not "${a.value}"`);
        break;
      case 'FQDN': {
        const v = flag(a, file, problems);
        if (v !== undefined) values.fqdn = v;
        break;
      }
      case 'SORTUNIQ': {
        const v = flag(a, file, problems);
        if (v !== undefined) values.sortUniq = v;
        break;
      }
      case 'SUPPORT_CRACKING_IGNORE': {
        const v = flag(a, file, problems);
        if (v !== undefined) values.supportCrackingIgnore = v;
        break;
      }
      case 'ADDTAG':
        // logcheck tests `[ "$ADDTAG" = "yes" ]`: anything else means no.
        values.addTag = a.value === 'yes';
        break;
      case 'INTRO':
        // logcheck: empty or "yes" = 1, "no" = 0, else the value is used as a number.
        if (a.value === '' || a.value === 'yes' || a.value === '1') values.intro = true;
        else if (a.value === 'no' || a.value === '0') values.intro = false;
        else bad(`INTRO must be yes, no, 0 or 1, not "${a.value}"`);
        break;
      case 'ATTACKSUBJECT':
        values.attackSubject = a.value;
        break;
      case 'SECURITYSUBJECT':
        values.securitySubject = a.value;
        break;
      case 'EVENTSSUBJECT':
        values.eventsSubject = a.value;
        break;
      default:
        problems.push({
          path: a.key,
          file,
          line: a.line,
          code: 'ignored-variable',
          severity: 'warning',
          message: IGNORED_KNOWN.has(a.key)
            ? `${a.key} is a logcheck setting portsentinel does not need; ignored`
            : `${a.key} is not a logcheck setting portsentinel knows; ignored`,
        });
    }
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { values, problems };
}

/** Returns `base` with the values of a parsed logcheck.conf applied. */
export function applyLogcheckConf(base: LogcheckConfig, v: LogcheckConfValues): LogcheckConfig {
  return {
    ...base,
    ...(v.reportLevel !== undefined && { reportLevel: v.reportLevel }),
    ...(v.fqdn !== undefined && { fqdn: v.fqdn }),
    ...(v.sortUniq !== undefined && { sortUniq: v.sortUniq }),
    ...(v.supportCrackingIgnore !== undefined && { supportCrackingIgnore: v.supportCrackingIgnore }),
    ...(v.addTag !== undefined && { addTag: v.addTag }),
    ...(v.intro !== undefined && { intro: v.intro }),
    ...(v.attackSubject !== undefined && { attackSubject: v.attackSubject }),
    ...(v.securitySubject !== undefined && { securitySubject: v.securitySubject }),
    ...(v.eventsSubject !== undefined && { eventsSubject: v.eventsSubject }),
    mail: {
      ...base.mail,
      ...(v.sendMailTo !== undefined && { to: v.sendMailTo }),
      ...(v.attach !== undefined && { attach: v.attach }),
    },
  };
}
