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

// The lab itself lives in src/daemon/lab.ts (the `demo` command builds the same one).
export { createLab, type Lab, type LabOptions } from '../src/daemon/lab.js';
