import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DetectionSummary } from '../store/store.js';
import { formatLogcheckDate, renderReport, sectionHeading } from './report.js';
import { safeLine } from './safe-text.js';

const result = {
  sections: [
    { category: 'attack' as const, file: 'kernel', lines: [] },
    { category: 'security' as const, file: undefined, lines: ['a FAILED'] },
    { category: 'system' as const, file: undefined, lines: ['b other'] },
  ],
  linesRead: 2,
  linesChecked: 2,
  linesReported: 2,
};

describe('report', () => {
  test('headings alternate =- for the title length (in characters)', () => {
    assert.equal(sectionHeading('System Events'), 'System Events\n=-=-=-=-=-=-=\n');
    assert.equal(sectionHeading('Zoë'), 'Zoë\n=-=\n');
  });

  test('body layout, subject with the most severe category, Reboot and ADDTAG', () => {
    const r = renderReport({
      result,
      header: 'HEADER\n',
      footer: 'FOOTER\n',
      errors: ['E: File could not be read: /var/log/x'],
      host: 'web01',
      date: new Date(2024, 5, 4, 3, 7),
      reboot: true,
      addTag: true,
    });
    assert.ok(r);
    assert.equal(
      r.body,
      'HEADER\n\nE: File could not be read: /var/log/x\n\n' +
        'Security Events\n=-=-=-=-=-=-=-=\na FAILED\n\nSystem Events\n=-=-=-=-=-=-=\nb other\n\nFOOTER\n',
    );
    assert.match(r.subject, /^\[logcheck\] Reboot: web01 2024-06-04 03:07 [+-]\d{4} Security Events$/);
    assert.equal(formatLogcheckDate(new Date(2024, 0, 2, 3, 4)).slice(0, 16), '2024-01-02 03:04');
  });

  test('nothing to report: no report; INTRO off drops header and footer', () => {
    const empty = { ...result, sections: result.sections.map((s) => ({ ...s, lines: [] })) };
    assert.equal(renderReport({ result: empty, host: 'h', date: new Date() }), undefined);
    const r = renderReport({ result, header: 'H', footer: 'F', intro: false, host: 'h', date: new Date() });
    assert.ok(r && !r.body.includes('H\n') && !r.body.endsWith('F'));
  });

  test('the sentinel section appears only with detections and counts as a security event', () => {
    const none: DetectionSummary = {
      from: 0,
      to: 1,
      probes: 0,
      sources: 0,
      bans: [],
      bansTotal: 0,
      bansEnded: 0,
      byPort: [],
      bySource: [],
    };
    const sysOnly = { ...result, sections: [result.sections[2]!] };
    assert.doesNotMatch(
      renderReport({ result: sysOnly, host: 'h', date: new Date(), sentinel: none })!.body,
      /Sentinel/,
    );
    const some = {
      ...none,
      probes: 12,
      sources: 1,
      bySource: [{ address: '203.0.113.9', probes: 12, ports: 9 }],
    };
    const r = renderReport({ result: sysOnly, host: 'h', date: new Date(), sentinel: some })!;
    assert.match(r.body, /Sentinel Detections and Bans\n=-=/);
    assert.match(r.body, /203\.0\.113\.9: 12 probes to 9 ports/);
    assert.equal(r.severity, 'security');
  });

  test('safeLine escapes controls and bidi, keeps tabs and plain text', () => {
    assert.equal(safeLine('a\tb'), 'a\tb');
    assert.equal(safeLine('\u001b[2J\u202e\r'), '\\x1b[2J\\u202e\\x0d');
    assert.match(safeLine('x'.repeat(20_000)), /\[\.\.\. 3616 more characters cut by portsentinel\]$/);
  });
});
