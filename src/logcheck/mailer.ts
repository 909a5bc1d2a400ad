// Delivers a rendered report: SMTP (nodemailer: host, port, implicit TLS or STARTTLS, auth), the
// local sendmail (spawned with an argument vector by nodemailer, message on stdin), or stdout
// (`-o`). MAILASATTACH as logcheck: 0 inline, 1 attached as `logcheck_report`, 2 gzip-attached
// as `logcheck_report.gz`. Headers come from configuration and the host name only, never from a
// log line, and are flattened to one printable line anyway.
//
// `deliverReport` resolves only when the server (or sendmail) accepted the message; the caller
// commits cursors after that, so a refused or failed send leaves them for the next run.

import { gzipSync } from 'node:zlib';
import type { SendMailOptions } from 'nodemailer';
import nodemailer from 'nodemailer';
import type { MailConfig } from '../config/types.js';
import { errorMessage, SentinelError } from '../core/errors.js';
import { safeHeader } from './safe-text.js';

export interface OutgoingReport {
  subject: string;
  body: string;
}

export interface DeliveryResult {
  transport: MailConfig['transport'];
  accepted: string[];
  rejected: string[];
  response: string;
}

export interface DeliverOptions {
  /** Host name for the default From address. */
  host: string;
  /** Where `stdout` transport writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
  /** SMTP: give up after this long (default 60 s). */
  timeoutMs?: number;
  /** SMTP: TLS options passed to nodemailer (tests: a self-signed server). */
  tls?: { rejectUnauthorized?: boolean };
}

/** The message as nodemailer takes it (exported for tests). */
export function buildMessage(report: OutgoingReport, mail: MailConfig, host: string): SendMailOptions {
  const from = mail.from !== '' ? mail.from : `logcheck@${host}`;
  const base: SendMailOptions = {
    from: safeHeader(from),
    to: mail.to.map((t) => safeHeader(t)),
    subject: safeHeader(report.subject, 998),
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Mailer': 'portsentinel logcheck' },
    textEncoding: 'quoted-printable',
  };
  if (mail.attach === 'attach') {
    return {
      ...base,
      text: 'Report attached',
      attachments: [
        { filename: 'logcheck_report', content: report.body, contentType: 'text/plain; charset=utf-8' },
      ],
    };
  }
  if (mail.attach === 'gzip') {
    return {
      ...base,
      text: 'Report attached',
      attachments: [
        {
          filename: 'logcheck_report.gz',
          content: gzipSync(Buffer.from(report.body, 'utf8')),
          contentType: 'application/x-gzip',
        },
      ],
    };
  }
  return { ...base, text: report.body };
}

function addresses(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((a) => (typeof a === 'string' ? a : String((a as { address?: unknown }).address ?? a)));
}

/** Sends (or prints) the report; throws E_MAIL unless it was accepted. */
export async function deliverReport(
  report: OutgoingReport,
  mail: MailConfig,
  options: DeliverOptions,
): Promise<DeliveryResult> {
  if (mail.transport === 'stdout') {
    const out = options.stdout ?? process.stdout;
    await new Promise<void>((resolve, reject) => {
      out.write(report.body, (err) => (err ? reject(err) : resolve()));
    });
    return { transport: 'stdout', accepted: ['stdout'], rejected: [], response: 'printed' };
  }
  if (mail.to.length === 0) throw new SentinelError('E_MAIL', 'no recipient (mail.to / SENDMAILTO is empty)');
  const timeout = options.timeoutMs ?? 60_000;
  const transporter =
    mail.transport === 'smtp'
      ? nodemailer.createTransport({
          host: mail.smtp.host,
          port: mail.smtp.port,
          secure: mail.smtp.secure,
          requireTLS: mail.smtp.starttls,
          ...(mail.smtp.user !== '' && { auth: { user: mail.smtp.user, pass: mail.smtp.password } }),
          ...(options.tls && { tls: options.tls }),
          connectionTimeout: timeout,
          greetingTimeout: timeout,
          socketTimeout: timeout,
        })
      : nodemailer.createTransport({ sendmail: true, path: mail.sendmailPath, newline: 'unix' });
  try {
    const info = (await transporter.sendMail(buildMessage(report, mail, options.host))) as {
      accepted?: unknown;
      rejected?: unknown;
      response?: unknown;
    };
    const accepted = addresses(info.accepted);
    const rejected = addresses(info.rejected);
    if (mail.transport === 'smtp' && accepted.length === 0) {
      throw new SentinelError(
        'E_MAIL',
        `the mail server accepted no recipient (rejected: ${rejected.join(', ')})`,
      );
    }
    return {
      transport: mail.transport,
      accepted: mail.transport === 'sendmail' ? mail.to : accepted,
      rejected,
      response: String(info.response ?? ''),
    };
  } catch (err) {
    if (err instanceof SentinelError) throw err;
    throw new SentinelError(
      'E_MAIL',
      `sending the report by ${mail.transport} failed: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    transporter.close();
  }
}
