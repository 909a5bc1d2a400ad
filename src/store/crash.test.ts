// kill -9 at a random moment while a child process writes bans in a loop; after every kill the
// store must reopen consistent: integrity_check ok, every ban acknowledged by the child present,
// every ban row whole, and each ban's decision written with it or not at all.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'portsentinel-crash-'));
after(() => rmSync(root, { recursive: true, force: true }));

const EVIDENCE_PORTS = 200;

// The child: ban insert + block decision in one transaction, then the apply outcome, sometimes
// a release; it prints each ban id only after its commit (stdout on a pipe is synchronous on Linux).
const childSource = (storeUrl: string, path: string, round: number) => `
import { Store } from ${JSON.stringify(storeUrl)};
const s = Store.open(${JSON.stringify(path)});
const ports = Array.from({ length: ${EVIDENCE_PORTS} }, (_, i) => i + 1);
const evidence = { ports, protocols: ['tcp'], techniques: ['connect'], probes: ports.length, firstAt: 1, lastAt: 2 };
for (let i = 1; ; i++) {
  const address = '10.${round}.' + ((i >> 8) & 255) + '.' + (i & 255);
  const at = Date.now();
  const ban = s.transaction(() => {
    const b = s.insertBan({ address, family: 4, createdAt: at, until: at + 60000, origin: 'detector',
      reason: 'scan', offence: 1, evidence, port: 22, protocol: 'tcp', mode: 'tcp' });
    s.recordDecision({ kind: 'block', at, source: address, reason: 'scan', until: at + 60000, offence: 1,
      evidence, trigger: { at, source: address, port: 22, protocol: 'tcp', technique: 'connect', mode: 'tcp', sensor: 'test' } });
    return b;
  });
  s.recordApply(ban.id, 'nftables', 'ok');
  if (i % 5 === 0) s.releaseBan(address, at, 'expired', 'expired');
  s.bumpCounter('loops');
  process.stdout.write(ban.id + '\\n');
}
`;

function runAndKill(path: string, round: number): Promise<number[]> {
  const storeUrl = new URL('./store.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', childSource(storeUrl, path, round)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acknowledged: number[] = [];
  let buffered = '';
  let stderr = '';
  // Kill after a random number of bans plus a random delay, so the signal lands anywhere in the loop.
  const killAfter = 20 + Math.floor(Math.random() * 400);
  let killScheduled = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child made no progress; stderr: ${stderr}`));
    }, 20_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) acknowledged.push(Number(line));
      if (!killScheduled && acknowledged.length >= killAfter) {
        killScheduled = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      // Lines written before the kill may still sit in the pipe; they were committed too.
      for (const line of buffered.split('\n')) if (line !== '') acknowledged.push(Number(line));
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (${signal}); stderr: ${stderr}`));
      else resolve(acknowledged);
    });
  });
}

test('kill -9 while writing bans: reopening gives a consistent store', async (t) => {
  const path = join(root, 'state.db');
  const acknowledged: number[] = [];
  for (let round = 1; round <= 4; round++) {
    const got = await runAndKill(path, round);
    t.diagnostic(`round ${round}: killed after ${got.length} acknowledged bans`);
    acknowledged.push(...got);

    const store = Store.open(path);
    try {
      assert.equal(store.integrityCheck(), 'ok', `integrity after kill ${round}`);
      for (const id of acknowledged)
        assert.ok(store.ban(id), `acknowledged ban ${id} survived kill ${round}`);
    } finally {
      store.close();
    }
  }

  // Inspect the raw rows: nothing half-written.
  const db = new Database(path, { readonly: true });
  try {
    const bans = db.prepare('SELECT * FROM bans').all() as Array<Record<string, unknown>>;
    assert.ok(bans.length >= acknowledged.length);
    for (const row of bans) {
      assert.match(String(row.address), /^10\.\d+\.\d+\.\d+$/);
      assert.equal(row.family, 4);
      assert.ok(['active', 'expired'].includes(String(row.state)));
      const evidence = JSON.parse(String(row.evidence)) as { ports: number[] };
      assert.equal(evidence.ports.length, EVIDENCE_PORTS, `ban ${row.id} evidence whole`);
      const backends = JSON.parse(String(row.backends)) as Record<string, string>;
      assert.ok(Object.keys(backends).length === 0 || backends.nftables === 'ok');
      if (row.state === 'expired') assert.equal(typeof row.released_at, 'number');
    }
    // The decision was written in the same transaction as its ban: one each, never one alone.
    const orphans = db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM bans b WHERE NOT EXISTS
                  (SELECT 1 FROM decisions d WHERE d.address = b.address AND d.kind = 'block')) AS bansAlone,
                (SELECT COUNT(*) FROM decisions d WHERE NOT EXISTS
                  (SELECT 1 FROM bans b WHERE b.address = d.address)) AS decisionsAlone`,
      )
      .get() as { bansAlone: number; decisionsAlone: number };
    assert.deepEqual(orphans, { bansAlone: 0, decisionsAlone: 0 });
    const dupes = db
      .prepare(
        "SELECT COUNT(*) AS n FROM (SELECT address FROM bans WHERE state = 'active' GROUP BY address HAVING COUNT(*) > 1)",
      )
      .get() as { n: number };
    assert.equal(dupes.n, 0, 'never two active bans for one address');
  } finally {
    db.close();
  }
});
