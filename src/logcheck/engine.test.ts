import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyLines, type RuleDirMatcher, type RuleDirs, stripTrailingSpace } from './engine.js';

/** A rule dir from { file: [regex, ...] } (JavaScript regexes; the engine does not care). */
function dir(files: Record<string, string[]>, broken: string[] = []): RuleDirMatcher {
  const compiled = Object.entries(files).map(([name, pats]) => {
    const res = pats.map((p) => new RegExp(p));
    return {
      name,
      matchAny: (l: string) => res.some((r) => r.test(l)),
      ...(broken.includes(name) && { grepRejectsFile: true }),
    };
  });
  return {
    files: compiled,
    any: { matchAny: (l) => compiled.some((f) => !f.grepRejectsFile && f.matchAny(l)) },
    grepRejectsSome: broken.length > 0,
  };
}

function sections(r: ReturnType<typeof classifyLines>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of r.sections) if (s.lines.length > 0) out[`${s.category}:${s.file ?? ''}`] = s.lines;
  return out;
}

const rules: RuleDirs = {
  cracking: dir({ kernel: ['ATTACK'] }),
  violations: dir({ sudo: ['sudo: '], logcheck: ['FAILED'] }),
  violationsIgnore: dir({ 'logcheck-sudo': ['apt update'] }),
  ignore: dir({ cron: ['CRON'] }),
};

describe('engine', () => {
  test('sections, order and the excused violation that vanishes by default', () => {
    const r = classifyLines(
      [
        'b sudo: x COMMAND=apt update',
        'a sudo: x COMMAND=/bin/sh',
        'c CRON ok',
        'd other',
        'e ATTACK FAILED',
      ],
      rules,
    );
    assert.deepEqual(sections(r), {
      'attack:kernel': ['e ATTACK FAILED'],
      'security:sudo': ['a sudo: x COMMAND=/bin/sh'],
      'system:': ['d other'],
    });
    assert.equal(r.linesReported, 3);
  });

  test('keepExcusedViolations reports the excused violation under System Events', () => {
    const r = classifyLines(['b sudo: x COMMAND=apt update'], rules, { keepExcusedViolations: true });
    assert.deepEqual(sections(r), { 'system:': ['b sudo: x COMMAND=apt update'] });
  });

  test('SORTUNIQ keeps lines differing in trailing space unless trimTrailingSpace', () => {
    const lines = ['x y z', 'x y z ', 'x y z'];
    assert.deepEqual(sections(classifyLines(lines, rules, { sortUniq: true }))['system:'], [
      'x y z',
      'x y z',
    ]);
    assert.deepEqual(
      sections(classifyLines(lines, rules, { sortUniq: true, trimTrailingSpace: true }))['system:'],
      ['x y z'],
    );
    assert.deepEqual(sections(classifyLines(lines, rules))['system:'], ['x y z', 'x y z', 'x y z']);
  });

  test('sort -k 1,3 -s: key is the first three fields, ties keep input order', () => {
    const r = classifyLines(['Jun 4 10:00 b', 'Jun 4 09:00 z', 'Jun 4 10:00 a'], rules);
    assert.deepEqual(sections(r)['system:'], ['Jun 4 09:00 z', 'Jun 4 10:00 b', 'Jun 4 10:00 a']);
  });

  test('a filter file grep rejects removes every line; as rules it reports nothing', () => {
    const broken: RuleDirs = { ...rules, ignore: dir({ cron: ['CRON'], bad: ['x'] }, ['bad']) };
    assert.deepEqual(sections(classifyLines(['d other', 'a sudo: y'], broken)), {
      'security:sudo': ['a sudo: y'],
    });
    const brokenRaise: RuleDirs = { ...rules, violations: dir({ sudo: ['sudo: '] }, ['sudo']) };
    assert.deepEqual(sections(classifyLines(['a sudo: y'], brokenRaise)), {});
  });

  test('stripTrailingSpace follows sed [[:space:]] in C.UTF-8', () => {
    assert.equal(stripTrailingSpace('a \t\u3000\u000b'), 'a');
    assert.equal(stripTrailingSpace('a\u00a0'), 'a\u00a0');
  });
});
