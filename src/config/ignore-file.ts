// The legacy ignore-file format (portsentry.ignore): one address or CIDR per line, IPv4 or IPv6,
// `#` starts a comment, blank lines skipped. PortSentry read only the leading address and ignored
// the rest of the line; we do the same but say so, and we never substring-match addresses.

import { formatCidr, parseCidr } from '../core/address.js';
import type { ConfigProblem } from './types.js';

export interface IgnoreFile {
  /** Canonical CIDRs (`192.0.2.0/24`, `2001:db8::1/128`). */
  entries: string[];
  problems: ConfigProblem[];
}

export function readIgnoreFile(text: string, file: string): IgnoreFile {
  const entries: string[] = [];
  const problems: ConfigProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const content = (lines[i] as string).replace(/#.*/, '').trim();
    if (content === '') continue;
    const [token = '', ...rest] = content.split(/\s+/);
    const strict = parseCidr(token);
    const loose = strict ?? parseCidr(token, true);
    if (!loose) {
      problems.push({
        path: token,
        code: 'bad-cidr',
        message: `"${token}" is not an address or CIDR`,
        line,
        file,
      });
      continue;
    }
    const canonical = formatCidr(loose);
    if (!strict) {
      problems.push({
        path: token,
        code: 'bad-cidr',
        message: `host bits set in ${token}; read as ${canonical}`,
        line,
        file,
        severity: 'warning',
      });
    }
    if (rest.length > 0) {
      problems.push({
        path: token,
        code: 'trailing-text',
        message: `text after the address is ignored: "${rest.join(' ')}"`,
        line,
        file,
        severity: 'warning',
      });
    }
    if (!entries.includes(canonical)) entries.push(canonical);
  }
  return { entries, problems };
}
