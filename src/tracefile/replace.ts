/**
 * A file that replaces its target whole, or not at all: what `record`,
 * `extract` and `report -o` write.
 *
 * Owns: the temporary file and its arrival. Invariants:
 * - the temporary file is created exclusively (O_CREAT | O_EXCL, and
 *   O_NOFOLLOW so a symlink planted there is never followed) with a name
 *   no one can predict (16 random bytes), in the target's own directory
 *   (so the rename cannot cross file systems), mode 0600: a trace holds
 *   argument and return values, and is its owner's only;
 * - it is written through its descriptor only, never reopened by name;
 * - the target is replaced by rename(2), which replaces the directory
 *   entry (a symlink or hard link at the target is replaced, never written
 *   through); on failure the temporary file is removed.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const FILE_MODE = 0o600;

export class ReplacingFile {
  readonly target: string;
  readonly temp: string;
  private fd: number;
  /** Bytes written so far. */
  bytes = 0;

  private constructor(target: string, temp: string, fd: number) {
    this.target = target;
    this.temp = temp;
    this.fd = fd;
  }

  static create(target: string): ReplacingFile {
    const temp = join(dirname(target), `.${basename(target)}.${randomBytes(16).toString('hex')}.tmp`);
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
    return new ReplacingFile(target, temp, fd);
  }

  /** Appends `data` whole (a short write is retried; an error is thrown with nothing counted). */
  write(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    this.bytes += data.length;
  }

  /** Cuts the file back to `bytes` (after a failed write left part of a chunk). */
  truncate(bytes: number): void {
    ftruncateSync(this.fd, bytes);
    this.bytes = bytes;
  }

  /** Puts the file in place of the target. */
  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    try {
      renameSync(this.temp, this.target);
    } catch (e) {
      this.abandon();
      throw e;
    }
  }

  /** Removes the temporary file; the target stays as it was. */
  abandon(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.temp);
    } catch {
      // already gone
    }
  }
}

/** `data` in place of `target`, through a ReplacingFile. */
export function replaceFile(target: string, data: Uint8Array | string): void {
  const f = ReplacingFile.create(target);
  try {
    f.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    f.commit();
  } catch (e) {
    f.abandon();
    throw e;
  }
}
