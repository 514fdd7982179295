/**
 * What the CLI puts on the terminal besides its output: the one-line
 * failure message, colour, the progress line, sizes.
 *
 * Owns: every decision about decoration. Invariant: decoration never
 * reaches a pipe or a file: colour only when the stream is a TTY and
 * NO_COLOR is unset (https://no-color.org: any non-empty value), the
 * progress line only when stderr is a TTY, and it is erased before any
 * other output on stderr.
 */

import { JsftraceError } from '../shared/errors.js';

type Stream = NodeJS.WriteStream;

function coloured(stream: Stream): boolean {
  const no = process.env['NO_COLOR'];
  return stream.isTTY === true && (no === undefined || no === '');
}

function paint(stream: Stream, code: string, text: string): string {
  return coloured(stream) ? `\x1b[${code}m${text}\x1b[0m` : text;
}

export const bold = (text: string, stream: Stream = process.stdout): string => paint(stream, '1', text);
export const dim = (text: string, stream: Stream = process.stdout): string => paint(stream, '2', text);
export const red = (text: string, stream: Stream = process.stderr): string => paint(stream, '31', text);

let progressShown = false;

/** Shows `text` as the progress line (stderr, TTY only), replacing the last one. */
export function progress(text: string): void {
  if (process.stderr.isTTY !== true) return;
  process.stderr.write(`\r\x1b[2K${text}`);
  progressShown = true;
}

/** Erases the progress line, if one is shown. */
export function progressDone(): void {
  if (!progressShown) return;
  process.stderr.write('\r\x1b[2K');
  progressShown = false;
}

/** A line on stderr (after erasing the progress line). */
export function note(line: string): void {
  progressDone();
  process.stderr.write(`${line}\n`);
}

/** The one failure line: `jsftrace: <message> (<CODE>)`. */
export function failure(e: unknown): void {
  let text: string;
  if (e instanceof JsftraceError) text = `${e.message} (${e.code})`;
  else if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string') text = `${e.message.replace(/^[A-Z]+: /, '')} (${(e as NodeJS.ErrnoException).code})`;
  else text = e instanceof Error ? e.message : String(e);
  note(`${red('jsftrace:')} ${text}`);
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Writes to stdout and waits for it to be taken (so a following exit loses
 * nothing, and a slow reader slows the writer down); EPIPE (`| head`) is not
 * a failure.
 */
export function out(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === '') {
      resolve();
      return;
    }
    process.stdout.write(text, () => resolve());
  });
}
