// One line per problem, `FILE:LINE: path: message [code]`, the shape compilers use, so editors and
// grep can jump to it. check-config and daemon start-up print the same lines.

import type { ConfigProblem } from './types.js';

export function formatProblem(p: ConfigProblem): string {
  const where =
    p.file === undefined || p.file === ''
      ? ''
      : p.line === undefined
        ? `${p.file}: `
        : `${p.file}:${p.line}: `;
  const path = p.path === '' ? '' : `${p.path}: `;
  const severity = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}${path}${severity}${p.message} [${p.code}]`;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map(formatProblem).join('\n');
}
