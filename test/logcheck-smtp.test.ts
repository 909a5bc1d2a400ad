// A real SMTP exchange on loopback (smtp-server process side in this test): a refused report
// leaves the cursors where they were, the resend carries every line (old and new), later runs
// carry only new lines, and nothing from a log line reaches a mail header.

import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { SMTPServer } from 'smtp-server';
import { defaultConfig } from '../src/config/defaults.js';
import type { LogcheckConfig, MailAttach } from '../src/config/types.js';
import { runLogcheck } from '../src/logcheck/run.js';
import { Store } from '../src/store/store.js';
import { CUSTOM_RULES, compileSimple } from './logcheck-custom-rules.js';
import { writeRuleTree } from './logcheck-real.js';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

describe('logcheck report over SMTP', () => {
  let dir: string;
  let server: SMTPServer;
  let port = 0;
  let refuse = false;
  const received: Received[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ps-lc-smtp-'));
    writeRuleTree(join(dir, 'rules'), CUSTOM_RULES);
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (refuse) {
            const e = new Error('mailbox unavailable, try later') as Error & { responseCode: number };
            e.responseCode = 451;
            callback(e);
            return;
          }
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function config(attach: MailAttach = 'inline'): LogcheckConfig {
    const base = defaultConfig().logcheck;
    return {
      ...base,
      rulesDir: join(dir, 'rules'),
      sentinelSummary: false,
      mail: {
        ...base.mail,
        transport: 'smtp',
        to: ['admin@example.org'],
        from: 'logcheck@example.org',
        attach,
        smtp: { host: '127.0.0.1', port, secure: false, starttls: false, user: '', password: '' },
      },
    };
  }

  test('refused send keeps cursors; the resend has all lines; later runs only new ones', async () => {
    const log = join(dir, 'syslog');
    const store = Store.open(join(dir, 'state', 'state.db'));
    const at = Date.UTC(2024, 5, 4, 3, 0, 0);
    const run = (cfg = config()) =>
      runLogcheck({ config: cfg, store, logfile: log, host: 'web01', compile: simple, now: () => at });
    const simple = compileSimple;
    try {
      writeFileSync(log, 'Jun  4 03:00:00 web01 app[1]: first unknown line\n');
      refuse = true;
      await assert.rejects(run(), (e: Error & { code?: string }) => e.code === 'E_MAIL');
      assert.equal(store.getCursor(log), undefined, 'no cursor after a refused send');
      assert.equal(received.length, 0);
      assert.equal(store.reportRuns(1)[0]?.delivered, false);

      appendFileSync(log, 'Jun  4 03:00:05 web01 app[1]: second unknown line\n');
      refuse = false;
      const ok = await run();
      assert.equal(ok.committed, true);
      assert.equal(received.length, 1);
      const first = received[0]!;
      assert.deepEqual(first.to, ['admin@example.org']);
      assert.match(first.raw, /first unknown line/);
      assert.match(first.raw, /second unknown line/);
      assert.match(first.raw, /^Subject: web01 2024-06-04 \d\d:\d\d [+-]\d{4} System Events\r?$/m);
      assert.match(first.raw, /^Auto-Submitted: auto-generated\r?$/m);
      assert.ok(store.getCursor(log), 'cursor committed after acceptance');

      const quiet = await run();
      assert.equal(quiet.report, undefined, 'nothing new, nothing sent');
      assert.equal(received.length, 1);

      appendFileSync(log, 'Jun  4 03:00:09 web01 app[1]: third unknown line\n');
      await run();
      assert.equal(received.length, 2);
      assert.doesNotMatch(received[1]!.raw, /first unknown line|second unknown line/);
      assert.match(received[1]!.raw, /third unknown line/);
    } finally {
      store.close();
    }
  });

  test('hostile log content stays in the body, escaped; headers come from config only', async () => {
    const log = join(dir, 'hostile.log');
    const evil = [
      'Jun  4 03:00:00 web01 app[1]: Subject: pwned\rBcc: victim@example.net',
      'Jun  4 03:00:01 web01 app[1]: \u001b[31mred\u001b[0m \u202eevil bidi \u0007bell',
      `Jun  4 03:00:02 web01 app[1]: long ${'A'.repeat(200_000)}`,
    ];
    writeFileSync(log, Buffer.concat([Buffer.from(`${evil.join('\n')}\n`), Buffer.from([0xff, 0xfe, 0x0a])]));
    const before = received.length;
    const r = await runLogcheck({
      config: config(),
      store: undefined,
      logfile: log,
      host: 'web01',
      compile: compileSimple,
    });
    assert.ok(r.report);
    assert.equal(received.length, before + 1);
    const raw = received[received.length - 1]!.raw;
    const [head] = raw.split(/\r?\n\r?\n/);
    assert.doesNotMatch(head!, /pwned|victim/);
    assert.deepEqual(received[received.length - 1]!.to, ['admin@example.org']);
    const body = r.report.body;
    assert.doesNotMatch(body, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    assert.match(body, /\\x1b\[31mred/);
    assert.match(body, /\\x0dBcc: victim/);
    assert.match(body, /\\u202eevil bidi/);
    assert.match(body, /more characters cut by portsentinel/);
    assert.ok(body.length < 100_000, 'a megabyte-class line is cut in the report');
  });

  for (const attach of ['attach', 'gzip'] as const) {
    test(`MAILASATTACH ${attach}`, async () => {
      const log = join(dir, `attach-${attach}.log`);
      writeFileSync(log, 'Jun  4 03:00:00 web01 app[1]: attached line\n');
      const before = received.length;
      await runLogcheck({
        config: config(attach),
        store: undefined,
        logfile: log,
        host: 'web01',
        compile: compileSimple,
      });
      assert.equal(received.length, before + 1);
      const raw = received[received.length - 1]!.raw;
      assert.match(raw, /Report attached/);
      const name = attach === 'attach' ? 'logcheck_report' : 'logcheck_report\\.gz';
      assert.match(raw, new RegExp(`filename=${name}\\r?$`, 'm'));
      const b64 =
        new RegExp(`filename=${name}\\r?\\n\\r?\\n([A-Za-z0-9+/=\\r\\n]+?)\\r?\\n--`).exec(raw)?.[1] ?? '';
      let bytes = Buffer.from(b64.replace(/\r?\n/g, ''), 'base64');
      if (attach === 'gzip') {
        assert.match(raw, /application\/x-gzip/);
        bytes = gunzipSync(bytes);
      }
      assert.match(bytes.toString('utf8'), /^System Events\n=-=-=-=-=-=-=\n.*attached line\n\n$/);
    });
  }
});
