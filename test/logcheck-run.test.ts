// runLogcheck wiring: the sentinel section covers what the store recorded since the last delivered
// report, portsentinel's own rule puts its syslog lines under Security Events, and a missing log
// is an error line in the report (logcheck would drop it when no section has a line).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { defaultConfig } from '../src/config/defaults.js';
import type { OutgoingReport } from '../src/logcheck/mailer.js';
import { runLogcheck } from '../src/logcheck/run.js';
import { Store } from '../src/store/store.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-lc-run-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { sent: OutgoingReport[]; deliver: (r: OutgoingReport) => Promise<never> } {
  const sent: OutgoingReport[] = [];
  return {
    sent,
    deliver: async (r) => {
      sent.push(r);
      return { transport: 'stdout', accepted: ['x'], rejected: [], response: '' } as never;
    },
  };
}

test('sentinel section from the store, own rule as Security Events, missing log as an error', async () => {
  const store = Store.open(join(dir, 'state.db'));
  try {
    const log = join(dir, 'syslog');
    writeFileSync(
      log,
      'Jun  4 03:00:00 web01 portsentinel[77]: blocked 203.0.113.66 (offence 1) by nftables\n' +
        'Jun  4 03:00:01 web01 portsentry[78]: attackalert: SYN/Normal scan from host: 203.0.113.67\n',
    );
    const cfg = { ...defaultConfig().logcheck, logfiles: [log, join(dir, 'missing.log')] };
    let now = Date.UTC(2024, 5, 4, 3, 0, 0);
    const c = capture();
    await runLogcheck({
      config: cfg,
      store,
      host: 'web01',
      bundledRules: true,
      deliver: c.deliver,
      now: () => now,
    });
    assert.equal(c.sent.length, 1);
    const body = c.sent[0]!.body;
    assert.match(body, /\nE: File could not be read: .*missing\.log\n/);
    assert.match(
      body,
      /Security Events for portsentinel\n=-=[-=]*\n.*portsentinel\[77\]: blocked 203\.0\.113\.66/,
    );
    assert.match(
      body,
      /System Events\n=-=[-=]*\n.*portsentry\[78\]: attackalert/,
      'portsentry lines as logcheck has them',
    );
    assert.doesNotMatch(body, /Sentinel Detections/);

    store.recordProbe({
      at: now + 1000,
      source: '203.0.113.9',
      port: 23,
      protocol: 'tcp',
      technique: 'syn',
      mode: 'stcp',
      sensor: 'test',
    });
    now += 60_000;
    const c2 = capture();
    const onlyLog = { ...cfg, logfiles: [log] };
    await runLogcheck({ config: onlyLog, store, host: 'web01', deliver: c2.deliver, now: () => now });
    assert.equal(c2.sent.length, 1, 'detections alone are worth a report');
    assert.match(
      c2.sent[0]!.body,
      /Sentinel Detections and Bans\n[-=]+\n.*\nProbes: 1 from 1 source address\n/,
    );
    assert.match(c2.sent[0]!.body, /203\.0\.113\.9: 1 probes to 1 ports/);
    assert.doesNotMatch(
      c2.sent[0]!.body,
      /portsentinel\[77\]/,
      'the log lines were committed by the first run',
    );
    assert.match(c2.sent[0]!.subject, / Security Events$/);
  } finally {
    store.close();
  }
});
