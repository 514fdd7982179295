/**
 * What Node's `assert.ok` quotes of its caller's source, found as Node
 * finds it, in the text it would have found in the plain run.
 *
 * Owns: the two ways Node has had of finding the failed call's text, kept
 * to the letter, and the test that a call is one `assert.ok` makes its
 * message of. Invariant: given what Node would have read and where, the
 * result is Node's own message; undefined where Node's lookup gives none
 * (it then names the value: `0 == true`); null where Node's lookup would
 * throw out of the call instead (left as it is).
 *
 * Loaded at the first failed `assert.ok` of an instrumented module whose
 * message needs mending (assert-message.ts), with the parser.
 */

import { EOL } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { parseExpressionAt, tokenizer, type Node } from 'acorn';

/** The start of the message `assert.ok` makes of its caller's text. */
export const GENERATED = 'The expression evaluated to a falsy value:\n\n  ';

/** Control characters Node writes as escapes in the quoted text (not tab, line feed, carriage return). */
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;

function escaped(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code === 8 ? '\\b' : code === 12 ? '\\f' : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

type Found = string | undefined | null;

interface AcornNode extends Node {
  [key: string]: unknown;
}

/** The innermost node of `type` around `pos` (its start at or before, its end at or after), walking every child. */
function innermostAround(node: AcornNode, pos: number, type: string): AcornNode | null {
  if (node.start > pos || node.end < pos) return null;
  for (const key of Object.keys(node)) {
    const v = node[key];
    const children = Array.isArray(v) ? v : [v];
    for (const c of children) {
      if (c === null || typeof c !== 'object' || typeof (c as { type?: unknown }).type !== 'string') continue;
      const inner = innermostAround(c as AcornNode, pos, type);
      if (inner !== null) return inner;
    }
  }
  return node.type === type ? node : null;
}

/**
 * The call expression around `offset` as Node 20 looks for it: an
 * expression parsed from each token's start up to `offset`, the first
 * that holds a call around it. Throws where Node's search throws.
 */
function callAround(code: string, offset: number): AcornNode {
  for (const token of tokenizer(code, { ecmaVersion: 'latest' })) {
    if (token.start > offset) break;
    let call: AcornNode | null;
    try {
      const expr = parseExpressionAt(code, token.start, { ecmaVersion: 'latest' }) as AcornNode;
      call = innermostAround(expr, offset, 'CallExpression');
    } catch {
      continue;
    }
    if (call !== null && call.end >= offset) return call;
  }
  throw new Error('no call');
}

/** Node 20's `parseCode`: the call's text, and its column for the indentation of its later lines. */
function parseCode(code: string, offset: number): [number, string] {
  const call = callAround(code, offset);
  return [call.start, escaped(code.slice(call.start, call.end))];
}

const LINE_FEED = 10;
const PER_READ = 16384;
const READS = 32;

/**
 * Node before 22.21 and 24.9 (`getCode`, `findColumn`): the file as it is
 * on disk now, read in pieces from the start of the frame's line (counted
 * by line feeds, within the first 512 KiB), parsed from the line's start
 * until a call around the column is found, reading more while that fails
 * and the column is not 2,500 characters behind.
 */
export function fromFile(file: Buffer, line: number, column: number): Found {
  const decoder = new StringDecoder('utf8');
  let position = 0;
  const read = (n: number): Buffer => {
    const piece = file.subarray(position, position + n);
    position += piece.length;
    return piece;
  };
  const findColumn = (code: string): [number, string] => {
    for (;;) {
      if (code.length > column + 100) {
        try {
          return parseCode(code, column);
        } catch {
          if (code.length - column > 2500) throw new Error('not found');
        }
      }
      const want = column - code.length + 2500;
      const piece = read(want);
      code += decoder.write(piece);
      if (piece.length < want) return parseCode(code, column);
    }
  };
  const getCode = (): [number, string] | undefined => {
    if (line === 0) return findColumn('');
    let lines = 0;
    for (let reads = 0; reads < READS; reads++) {
      const piece = read(PER_READ);
      for (let i = 0; i < piece.length; i++) {
        if (piece[i] === LINE_FEED && ++lines === line) {
          if (piece.length < PER_READ) return parseCode(piece.toString('utf8', i + 1), column);
          return findColumn(decoder.write(piece.subarray(i + 1)));
        }
      }
    }
    return undefined;
  };
  let found: [number, string] | undefined;
  try {
    found = getCode();
  } catch {
    return undefined;
  }
  if (found === undefined) return undefined;
  let [at, message] = found;
  if (message.includes('\n')) {
    if (EOL === '\r\n') message = message.replace(/\r\n/g, '\n');
    const lines = message.split('\n');
    message = lines.shift()!;
    for (const l of lines) {
      let pos = 0;
      while (pos < at && (l[pos] === ' ' || l[pos] === '\t')) pos++;
      message += `\n  ${l.slice(pos)}`;
    }
  }
  return `${GENERATED}${message}\n`;
}

const MEMBER_ACCESS = ['.', '?.', '[', ']'];
const MEMBER_NAME = ['name', 'string', 'num'];

/**
 * Node from 22.21 and 24.9 (`getFirstExpression`): the tokens of V8's
 * source line; a member chain just before the column, and from the column
 * to the parenthesis that closes the first one opened, or to a semicolon
 * (where Node's slice ends at a token object, which makes the text empty).
 * A line the tokenizer cannot read makes Node throw: null.
 */
export function fromLine(code: string, startColumn: number): Found {
  let last: { type: { label: string }; start: number } | undefined;
  let memberStart: number | null = null;
  let end: number | undefined;
  let depth = 0;
  try {
    for (const token of tokenizer(code, { ecmaVersion: 'latest' })) {
      const label = token.type.label;
      if (token.start < startColumn) {
        if (label === ';') {
          memberStart = null;
          continue;
        }
        if (MEMBER_ACCESS.includes(label) && last?.type.label === 'name') memberStart ??= last.start;
        else if (!MEMBER_ACCESS.includes(label) && !MEMBER_NAME.includes(label)) memberStart = null;
        last = token;
        continue;
      }
      if (label === '(') {
        depth++;
        continue;
      }
      if (label === ')') {
        depth--;
        if (depth === 0) {
          end = token.start + 1;
          break;
        }
        continue;
      }
      if (label === ';') {
        end = 0;
        break;
      }
    }
  } catch {
    return null;
  }
  const source = code.slice(memberStart ?? startColumn, end);
  return source === '' ? undefined : `${GENERATED}${escaped(source)}\n`;
}

/** The names `assert.ok` goes by: the module itself, `ok`, `strict` (and `t.assert.ok`, `assert.strict.ok`). */
const OK_NAMES = new Set(['assert', 'ok', 'strict']);
/** Tokens that, alone, make an argument that cannot be null or undefined: its message. */
const NOT_NULLISH = new Set(['string', 'num', 'true', 'false', 'regexp', '`']);

/**
 * Whether the call whose callee is at `offset` of `text` (V8's place for
 * a call: the callee's name, the property's for a method) may be one that
 * `assert.ok` makes its message of: its callee named `assert`, `ok` or
 * `strict`, and a second argument, if any, that may be null or undefined
 * (not a literal). A program's own function that throws an AssertionError
 * of its own, `assert.equal(x, true)` (the same operator and expected
 * value, with a message made of its values), a bound function of either,
 * and a message the program wrote, are left as Node made them.
 */
export function okCallAt(text: string, offset: number): boolean {
  const args: string[][] = [];
  let callee = '';
  let depth = 0;
  try {
    for (const token of tokenizer(text.slice(offset), { ecmaVersion: 'latest' })) {
      const label = token.type.label;
      if (depth === 0) {
        if (label === '(') {
          depth = 1;
          args.push([]);
        } else if (label === 'name') {
          callee = String((token as unknown as { value: unknown }).value);
        } else if (!MEMBER_ACCESS.includes(label) && !MEMBER_NAME.includes(label)) {
          return false;
        }
        continue;
      }
      if (label === '(' || label === '[' || label === '{' || label === '${') depth++;
      else if (label === ')' || label === ']' || label === '}') depth--;
      if (depth === 0) break;
      if (depth === 1 && label === ',') args.push([]);
      else args[args.length - 1]!.push(label);
    }
  } catch {
    return false;
  }
  if (depth !== 0 || !OK_NAMES.has(callee)) return false;
  // A trailing comma makes no argument.
  if (args.length > 1 && args[args.length - 1]!.length === 0) args.pop();
  if (args.length < 2) return true;
  const second = args[1]!;
  return !(NOT_NULLISH.has(second[0]!) && (second.length === 1 || second[0] === '`'));
}
