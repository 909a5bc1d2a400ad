// The never-block set the detector consults: loopback, this host's own addresses, its default
// gateways and resolvers (discovered from the running system), plus the configured ignore list
// and legacy ignore files. Problems reading an ignore file are reported as notes, not fatal:
// check-config already validated the file when the config was loaded.

import { readFileSync } from 'node:fs';
import { readIgnoreFile } from '../config/ignore-file.js';
import type { Config } from '../config/types.js';
import type { CidrSet } from '../core/address.js';
import { errorMessage } from '../core/errors.js';
import { buildNeverBlock, discoverHostFacts } from '../host/facts.js';

export async function buildHostNeverBlock(config: Config): Promise<{ set: CidrSet; notes: string[] }> {
  const notes: string[] = [];
  const ignoreFileEntries: string[] = [];
  for (const file of config.respond.ignoreFiles) {
    try {
      const parsed = readIgnoreFile(readFileSync(file, 'utf8'), file);
      ignoreFileEntries.push(...parsed.entries);
      for (const p of parsed.problems) notes.push(`${file}:${p.line ?? '?'}: ${p.message}`);
    } catch (err) {
      notes.push(`ignore file ${file}: ${errorMessage(err)}`);
    }
  }
  const facts = await discoverHostFacts();
  const set = buildNeverBlock({
    ignore: config.respond.ignore,
    ignoreFileEntries,
    facts,
    onInvalid: (entry, label) => notes.push(`never-block ${label} entry skipped: ${entry}`),
  });
  return { set, notes };
}
