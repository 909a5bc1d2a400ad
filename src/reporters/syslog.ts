// Syslog output that never slows detection down. send() only queues: the detector never awaits
// it, and past a bound lines are dropped and counted.
//
// Transport. Syslog daemons (rsyslog, journald's /dev/log) listen on a unix DATAGRAM socket, and
// Node's core has no unix datagram sockets (dgram is udp4/udp6 only; net is stream only). Rather
// than add a native dependency, one long-lived `logger` (util-linux, present on every Debian) is
// spawned with the socket path and `--prio-prefix`: each line written to its stdin becomes one
// datagram, with the priority taken from the `<PRI>` prefix we write. One process for the
// daemon's lifetime, no spawn per message, no shell (argv only). If logger dies or reports a
// socket error (the socket was recreated by a syslog restart), it is respawned with a backoff;
// lines sent meanwhile are dropped and counted. A `udp://HOST:PORT` target is also accepted, for
// which we format the datagram ourselves (same RFC 3164 / RFC 5424 layout).

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { hostname as osHostname } from 'node:os';
import { ipFamily } from '../core/address.js';

export type Severity = 'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';
const SEVERITIES: Severity[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

const FACILITIES: Record<string, number> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

export function priority(facility: string, severity: Severity): number {
  return (FACILITIES[facility] ?? FACILITIES.daemon ?? 3) * 8 + SEVERITIES.indexOf(severity);
}

export function isFacility(name: string): boolean {
  return name in FACILITIES;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `<PRI>Mmm dd hh:mm:ss HOST IDENT[PID]: MSG` (RFC 3164, local time). */
export function formatRfc3164(
  pri: number,
  time: Date,
  host: string,
  ident: string,
  pid: number,
  msg: string,
): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  const stamp = `${MONTHS[time.getMonth()]} ${String(time.getDate()).padStart(2, ' ')} ${p2(time.getHours())}:${p2(time.getMinutes())}:${p2(time.getSeconds())}`;
  return `<${pri}>${stamp} ${host} ${ident}[${pid}]: ${msg}`;
}

/** `<PRI>1 TIMESTAMP HOST IDENT PID - - MSG` (RFC 5424, UTC). */
export function formatRfc5424(
  pri: number,
  time: Date,
  host: string,
  ident: string,
  pid: number,
  msg: string,
): string {
  return `<${pri}>1 ${time.toISOString()} ${host || '-'} ${ident} ${pid} - - ${msg}`;
}

export interface SyslogOptions {
  /** Unix datagram socket path (default /dev/log) or `udp://HOST:PORT`. */
  target: string;
  format: 'rfc3164' | 'rfc5424';
  facility: string;
  ident: string;
  /** Logged as the PID (PortSentry's `portsentry[PID]:` shape); default this process. */
  pid?: number;
  /** Bytes waiting for the transport before lines are dropped. Default 256 KiB. */
  maxBufferedBytes?: number;
  /** The logger program (tests may point elsewhere). Default `logger`. */
  loggerPath?: string;
  /** Diagnostics about the transport itself (never the log lines). */
  onError?: (message: string) => void;
}

export interface SyslogStats {
  sent: number;
  dropped: number;
  restarts: number;
}

export interface SyslogReporter {
  /** Queues one line; returns at once. Newlines and other control characters become '?'. */
  send(severity: Severity, message: string): void;
  stats(): SyslogStats;
  close(): Promise<void>;
}

const MAX_LINE = 2048;

function oneLine(message: string): string {
  const flat = message.replace(/[\u0000-\u001f\u007f]/g, '?');
  return flat.length > MAX_LINE ? flat.slice(0, MAX_LINE) : flat;
}

export function createSyslogReporter(options: SyslogOptions): SyslogReporter {
  return options.target.startsWith('udp://') ? new UdpSyslog(options) : new LoggerSyslog(options);
}

/** The same transport error is reported again only after this long. */
const ERROR_REPEAT_MS = 10 * 60_000;

class LoggerSyslog implements SyslogReporter {
  private child: ChildProcessWithoutNullStreams | undefined;
  private counters: SyslogStats = { sent: 0, dropped: 0, restarts: 0 };
  private backoff = 500;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastError = '';
  private lastErrorAt = 0;

  constructor(private readonly options: SyslogOptions) {
    this.start();
  }

  send(severity: Severity, message: string): void {
    const child = this.child;
    const limit = this.options.maxBufferedBytes ?? 256 * 1024;
    if (!child || this.closed || child.stdin.writableLength > limit) {
      this.counters.dropped++;
      return;
    }
    child.stdin.write(`<${priority(this.options.facility, severity)}>${oneLine(message)}\n`);
    this.counters.sent++;
  }

  stats(): SyslogStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    // Ending stdin lets logger send what it has and exit; kill it if it does not within a second.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.end();
    });
  }

  private start(): void {
    const o = this.options;
    const argv = [
      '--socket',
      o.target,
      '--socket-errors=on',
      '--prio-prefix',
      `--id=${o.pid ?? process.pid}`,
      '--tag',
      o.ident,
      '--priority',
      `${isFacility(o.facility) ? o.facility : 'daemon'}.notice`,
      o.format === 'rfc5424' ? '--rfc5424' : '--rfc3164',
      '--size',
      String(MAX_LINE + 256),
    ];
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(o.loggerPath ?? 'logger', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      this.report(`cannot start logger: ${(err as Error).message}`);
      this.scheduleRestart();
      return;
    }
    this.child = child;
    child.stdin.on('error', () => {});
    child.stdout.resume();
    child.on('error', (err) => {
      this.report(`logger failed: ${err.message}`);
      this.replace(child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.report(chunk.toString().trim().slice(0, 200));
      // A socket error means logger is talking to a dead socket: start a fresh one.
      this.replace(child);
    });
    child.on('exit', () => this.replace(child));
    // Healthy for a while: reset the backoff.
    const healthy = setTimeout(() => {
      if (this.child === child) this.backoff = 500;
    }, 10_000);
    healthy.unref();
  }

  /**
   * Transport problems go to onError once, not at every retry: a missing /dev/log (a container
   * without a syslog daemon) would otherwise print a line every backoff period forever.
   */
  private report(message: string): void {
    if (message === '' || message === 'logger:') return;
    const now = Date.now();
    if (message === this.lastError && now - this.lastErrorAt < ERROR_REPEAT_MS) return;
    this.lastError = message;
    this.lastErrorAt = now;
    this.options.onError?.(`syslog: ${message}`);
  }

  private replace(child: ChildProcessWithoutNullStreams): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (child.exitCode === null) child.kill('SIGTERM');
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.closed) return;
    this.restartTimer = setTimeout(() => {
      this.counters.restarts++;
      this.start();
    }, this.backoff);
    this.restartTimer.unref();
    this.backoff = Math.min(this.backoff * 2, 30_000);
  }
}

class UdpSyslog implements SyslogReporter {
  private readonly socket: dgram.Socket;
  private readonly host: string;
  private readonly port: number;
  private inFlightBytes = 0;
  private counters: SyslogStats = { sent: 0, dropped: 0, restarts: 0 };
  private readonly hostname = osHostname().replace(/[^A-Za-z0-9.-]/g, '') || '-';

  constructor(private readonly options: SyslogOptions) {
    const m = /^udp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(options.target);
    this.host = m?.[1] ?? '127.0.0.1';
    this.port = Number(m?.[2] ?? 514);
    this.socket = dgram.createSocket(ipFamily(this.host) === 6 ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => options.onError?.(`syslog: ${err.message}`));
    this.socket.unref();
  }

  send(severity: Severity, message: string): void {
    const o = this.options;
    if (this.inFlightBytes > (o.maxBufferedBytes ?? 256 * 1024)) {
      this.counters.dropped++;
      return;
    }
    const format = o.format === 'rfc5424' ? formatRfc5424 : formatRfc3164;
    const line = format(
      priority(o.facility, severity),
      new Date(),
      this.hostname,
      o.ident,
      o.pid ?? process.pid,
      oneLine(message),
    );
    const bytes = Buffer.byteLength(line);
    this.inFlightBytes += bytes;
    this.socket.send(line, this.port, this.host, (err) => {
      this.inFlightBytes -= bytes;
      if (err) this.counters.dropped++;
      else this.counters.sent++;
    });
  }

  stats(): SyslogStats {
    return { ...this.counters };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
