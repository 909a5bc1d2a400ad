// Real-traffic check shared by the kernel backends' tests: a TCP listener in the target, a
// connect from the attacker and from the benign namespace, before and after a ban.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { Lab } from './lab.js';

export const SERVICE_PORT = 8089;

/** Starts a dual-stack TCP service inside the target namespace; resolves when it listens. */
export async function startService(lab: Lab): Promise<ChildProcess> {
  const script = `const s=require('net').createServer(c=>{c.on('error',()=>{});c.end('hi\\n');});s.listen({port:${SERVICE_PORT},host:'::',ipv6Only:false},()=>console.log('up'));`;
  const child = spawn('ip', ['netns', 'exec', lab.target, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('service did not start')), 5000);
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
  return child;
}

export function stopService(child: ChildProcess | undefined): void {
  if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
}

/** True when a TCP connect from namespace `ns` to address:port succeeds within 1 s. */
export function canConnect(ns: string, address: string, port = SERVICE_PORT): boolean {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nc', '-z', '-w', '1', address, String(port)], {
    timeout: 5000,
  });
  return r.status === 0;
}
