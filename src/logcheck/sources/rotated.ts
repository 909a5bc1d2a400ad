// Finding and reading the generations a log file was rotated to, plain or gzip-compressed.
//
// Names considered, for a log `/var/log/syslog`:
//   syslog.0  syslog.1  syslog.2.gz ...      (logrotate's default numbering, savelog's .0)
//   syslog-20261129  syslog-20261129.gz      (logrotate `dateext`; the suffix must start with a digit)
// They are ordered newest first: numbered by ascending number, dated by descending suffix.

import { createReadStream } from 'node:fs';
import { type FileHandle, open, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface RotatedCandidate {
  path: string;
  gzip: boolean;
}

const NUMBERED = /^\.(\d+)(\.gz)?$/;
const DATED = /^-(\d[^/]*?)(\.gz)?$/;
const OTHER_COMPRESSION = /\.(xz|bz2|zst|lz4|lzma|Z)$/;

/** The rotated generations of `path` that exist now, newest first. */
export async function listRotated(path: string): Promise<RotatedCandidate[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const numbered: { n: number; c: RotatedCandidate }[] = [];
  const dated: { key: string; c: RotatedCandidate }[] = [];
  for (const name of names) {
    if (!name.startsWith(base) || name === base || OTHER_COMPRESSION.test(name)) continue;
    const rest = name.slice(base.length);
    const num = NUMBERED.exec(rest);
    if (num) {
      numbered.push({ n: Number(num[1]), c: { path: join(dir, name), gzip: num[2] !== undefined } });
      continue;
    }
    const date = DATED.exec(rest);
    if (date) dated.push({ key: date[1]!, c: { path: join(dir, name), gzip: date[2] !== undefined } });
  }
  numbered.sort((a, b) => a.n - b.n);
  dated.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  return [...numbered.map((x) => x.c), ...dated.map((x) => x.c)];
}

/** Up to `length` bytes from the start of a plain file. */
export async function headOfHandle(fh: FileHandle, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Up to `length` bytes from the start of a candidate's (decompressed) content; undefined if unreadable. */
export async function headOf(c: RotatedCandidate, length: number): Promise<Buffer | undefined> {
  if (!c.gzip) {
    let fh: FileHandle | undefined;
    try {
      fh = await open(c.path, 'r');
      return await headOfHandle(fh, length);
    } catch {
      return undefined;
    } finally {
      await fh?.close();
    }
  }
  const parts: Buffer[] = [];
  let got = 0;
  if (length === 0) return Buffer.alloc(0);
  try {
    for await (const chunk of gunzipStream(c.path)) {
      parts.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= length) break; // leaving the loop destroys the streams
    }
  } catch {
    // A truncated gzip may still have given us enough bytes to compare.
    if (got < length) return undefined;
  }
  return Buffer.concat(parts).subarray(0, length);
}

/**
 * Decompressed content of a .gz file as a stream (errors surface while iterating). Built with
 * `pipeline`, so destroying the result (a `break` out of `for await`, an error) also destroys the
 * file stream and closes its descriptor; `raw.pipe()` left it open (one fd leaked per early exit).
 */
export function gunzipStream(path: string): NodeJS.ReadableStream {
  const raw = createReadStream(path);
  const gunzip = createGunzip();
  // The callback only keeps pipeline from throwing; the error reaches the reader via `gunzip`.
  pipeline(raw, gunzip, () => {});
  return gunzip;
}
