/**
 * The shape of a CLI verb and the argument handling they share.
 *
 * Owns: parsing (util.parseArgs, strict), usage errors, the `-P <pid>`
 * target and the connection to it. Invariant: exit codes mean one thing
 * everywhere: 0 done, 1 failed (one `jsftrace: <message> (<CODE>)` line on
 * stderr), 2 the command line was wrong (the message and a pointer to
 * --help).
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { connectOrAttach } from '../attach/connect.js';
import type { ControlClient } from '../control/client.js';
import { note } from './term.js';

export interface Command {
  name: string;
  /** The verb's --help text. */
  help: string;
  run(argv: string[], global: Global): Promise<number>;
}

/** Options given before the verb (`jsftrace -P 123 stop`). */
export interface Global {
  pid?: number;
}

/** A wrong command line: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export const PID_OPTION = { pid: { type: 'string', short: 'P' } } as const;
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP_OPTION; allowPositionals: boolean; strict: true }>>;

/** parseArgs, strict, with its errors as UsageError. */
export function parse<O extends Options>(argv: string[], options: O, positionals = false): Parsed<O> {
  try {
    return parseArgs({ args: argv, options: { ...options, ...HELP_OPTION }, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * Splits `[options] [--] command...`: the options are everything before
 * the first argument that is not an option or an option's value, so that
 * `record -p function node app.js --port 1` needs no `--`.
 */
export function splitCommand(argv: string[], options: Options): { options: string[]; command: string[] } {
  const { tokens } = parseArgs({ args: argv, options: { ...options, ...HELP_OPTION }, allowPositionals: true, strict: false, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  if (first === undefined) return { options: argv, command: [] };
  return {
    options: argv.slice(0, first.index),
    command: argv.slice(first.kind === 'option-terminator' ? first.index + 1 : first.index),
  };
}

export function parsePid(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`-P ${JSON.stringify(text)}: a process id (a positive integer)`);
  return Number(text);
}

/** The pid a verb acts on: its own -P, else the one given before the verb; required. */
export function targetPid(own: string | undefined, global: Global): number {
  const pid = parsePid(own) ?? global.pid;
  if (pid === undefined) throw new UsageError('which process? give -P <pid> (jsftrace ps lists traced processes)');
  return pid;
}

/**
 * Runs `fn` connected to `pid`, closing the connection after. A Node.js
 * process without a control socket is attached to first (docs/attach.md),
 * unless `attach` is false.
 */
export async function withProcess<T>(pid: number, fn: (c: ControlClient) => Promise<T>, attach = true): Promise<T> {
  const { client: c, attached } = await connectOrAttach(pid, attach);
  if (attached !== null) {
    note(`jsftrace: attached to process ${pid} through its inspector (open for ${attached.windowMs.toFixed(0)} ms); 'jsftrace -P ${pid} reset' detaches`);
  }
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

export function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
}

/**
 * The options of a verb that takes no positionals: its values, or null once
 * its --help is printed (the verb then exits 0).
 */
export function verbArgs<O extends Options>(argv: string[], options: O, help: string): Parsed<O>['values'] | null {
  const { values, positionals } = parse(argv, options, true);
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(help);
    return null;
  }
  noPositionals(positionals);
  return values;
}

/**
 * The options and the command of a verb that runs a program (record,
 * profile), or null once its --help is printed (the verb then exits 0).
 */
export function programArgs<O extends Options>(
  argv: string[], options: O, help: string, verb: string,
): { values: Parsed<O>['values']; command: string[] } | null {
  const split = splitCommand(argv, options);
  const { values } = parse(split.options, options);
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(help);
    return null;
  }
  if (split.command.length === 0) throw new UsageError(`no command to ${verb} (jsftrace ${verb} [options] -- <command...>)`);
  return { values, command: split.command };
}
