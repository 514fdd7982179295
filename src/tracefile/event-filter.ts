/**
 * trace-cmd's `-F` event filters for `report`: `event[,event...][: expr]`,
 * where expr compares an event's fields (`duration > 10000`,
 * `func ~ "src/*"`, `depth == 0 && !(func == "app.js:main")`), as the
 * kernel's event filters do (trace_events_filter.c: ==, !=, <, <=, >, >=,
 * `~` for a glob on a string, &&, ||, !, parentheses).
 *
 * Owns: parsing a filter and testing an item against it. Invariants: a
 * filter is parsed whole before anything is read, and a bad one is EINVAL
 * with the position of what was refused; a function field (ip, parent_ip,
 * func) compares by the function's name, so `func == "app.js:main"` and
 * `func ~ "*:handle*"` work as set_ftrace_filter's names do; testing runs
 * no program code and allocates nothing per item but the name lookups.
 */

import { fail } from '../shared/errors.js';
import type { EventFormat } from '../ring/index.js';
import type { Item } from '../tracers/output/common.js';
import { compileGlob } from '../core/glob.js';

/** How an item's fields are read: by offset (word 1 → a, word 2 → b, words 3-4 → c), strings → text. */
type Getter = (it: Item, name: (site: number) => string) => number | string;

/** Fields that hold a site id: they compare by name. */
const FUNCTION_FIELDS = new Set(['ip', 'parent_ip', 'func']);

function getters(e: EventFormat): Map<string, Getter> {
  const out = new Map<string, Getter>();
  for (const f of e.fields) {
    if (f.name === 'common_type') continue;
    if (f.name === 'common_flags') {
      out.set(f.name, (it) => it.flags);
      continue;
    }
    if (f.kind === 'string') {
      out.set(f.name, (it) => it.text ?? '');
      continue;
    }
    const raw: ((it: Item) => number) | null = f.offset === 4 ? (it) => it.a : f.offset === 8 ? (it) => it.b : f.offset === 12 ? (it) => it.c : null;
    if (raw === null) continue; // a field outputs do not decode
    out.set(f.name, FUNCTION_FIELDS.has(f.name) ? (it, name) => { const v = raw(it); return v < 0 ? '(root)' : name(v); } : raw);
  }
  return out;
}

type Node =
  | { k: 'and' | 'or'; l: Node; r: Node }
  | { k: 'not'; e: Node }
  | { k: 'cmp'; get: Getter; op: string; num: number | null; str: string; glob: ((s: string) => boolean) | null };

/** Per event type it takes, the expression its events must pass (null: every event of the type). */
export interface EventFilter {
  byType: Map<number, Node | null>;
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '~'];

class Parser {
  private i = 0;
  private readonly s: string;
  private readonly fields: Map<string, Getter>;
  private readonly where: string;

  constructor(s: string, fields: Map<string, Getter>, where: string) {
    this.s = s;
    this.fields = fields;
    this.where = where;
  }

  private bad(why: string): never {
    return fail('EINVAL', `-F ${JSON.stringify(this.where)}: ${why} at character ${this.i + 1}`);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private eat(t: string): boolean {
    this.ws();
    if (this.s.startsWith(t, this.i)) {
      this.i += t.length;
      return true;
    }
    return false;
  }

  parse(): Node {
    const n = this.or();
    this.ws();
    if (this.i < this.s.length) this.bad(`unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 8))}`);
    return n;
  }

  private or(): Node {
    let l = this.and();
    while (this.eat('||')) l = { k: 'or', l, r: this.and() };
    return l;
  }

  private and(): Node {
    let l = this.unary();
    while (this.eat('&&')) l = { k: 'and', l, r: this.unary() };
    return l;
  }

  private unary(): Node {
    if (this.eat('!') && !this.s.startsWith('=', this.i)) return { k: 'not', e: this.unary() };
    if (this.eat('(')) {
      const e = this.or();
      if (!this.eat(')')) this.bad('a ) is missing');
      return e;
    }
    return this.cmp();
  }

  private cmp(): Node {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (m === null) this.bad('a field name is expected');
    const field = m[0];
    const get = this.fields.get(field) ?? this.bad(`no field "${field}" (have: ${[...this.fields.keys()].join(', ')})`);
    this.i += field.length;
    this.ws();
    const op = OPS.find((o) => this.s.startsWith(o, this.i)) ?? this.bad('an operator (== != < <= > >= ~) is expected');
    this.i += op.length;
    this.ws();
    let str: string;
    const q = this.s[this.i];
    if (q === '"' || q === "'") {
      const end = this.s.indexOf(q, this.i + 1);
      if (end < 0) this.bad('a string is not closed');
      str = this.s.slice(this.i + 1, end);
      this.i = end + 1;
    } else {
      const v = /^[^\s()&|]+/.exec(this.s.slice(this.i));
      if (v === null) this.bad('a value is expected');
      str = v[0];
      this.i += str.length;
    }
    const num = /^-?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?)$/.test(str) ? Number(str) : null;
    if (op !== '==' && op !== '!=' && op !== '~' && num === null) this.bad(`${op} compares numbers; ${JSON.stringify(str)} is not one`);
    return { k: 'cmp', get, op, num, str, glob: op === '~' ? compileGlob(str).test : null };
  }
}

/**
 * Parses `-F` text against the event formats: `event[,event...]` alone
 * takes every event of those types; `: expr` keeps those whose fields pass.
 */
export function parseEventFilter(text: string, formats: readonly EventFormat[]): EventFilter {
  const colon = text.indexOf(':');
  const names = (colon < 0 ? text : text.slice(0, colon)).split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) fail('EINVAL', `-F ${JSON.stringify(text)}: name an event (have: ${formats.map((f) => f.name).join(', ')})`);
  const evs = names.map((n) => formats.find((f) => f.name === n) ?? fail('EINVAL', `-F ${JSON.stringify(text)}: no event "${n}" (have: ${formats.map((f) => f.name).join(', ')})`));
  const body = colon < 0 ? '' : text.slice(colon + 1);
  const byType = new Map<number, Node | null>();
  if (body.trim() === '') {
    for (const e of evs) byType.set(e.id, null);
    return { byType };
  }
  // An expression over several events may use the fields they all have; each reads its own.
  const maps = evs.map(getters);
  evs.forEach((e, k) => {
    const shared = new Map([...maps[k]!].filter(([n]) => maps.every((m) => m.has(n))));
    byType.set(e.id, new Parser(body, shared, text).parse());
  });
  return { byType };
}

function test(n: Node, it: Item, name: (site: number) => string): boolean {
  switch (n.k) {
    case 'and':
      return test(n.l, it, name) && test(n.r, it, name);
    case 'or':
      return test(n.l, it, name) || test(n.r, it, name);
    case 'not':
      return !test(n.e, it, name);
    case 'cmp': {
      const v = n.get(it, name);
      if (n.glob !== null) return n.glob(String(v));
      if (typeof v === 'number' && n.num !== null) {
        switch (n.op) {
          case '==': return v === n.num;
          case '!=': return v !== n.num;
          case '<': return v < n.num;
          case '<=': return v <= n.num;
          case '>': return v > n.num;
          default: return v >= n.num;
        }
      }
      const eq = String(v) === n.str;
      return n.op === '==' ? eq : n.op === '!=' ? !eq : false;
    }
  }
}

/** Whether `it` passes any of `filters` (an item of a type no filter names does not). */
export function passes(filters: readonly EventFilter[], it: Item, name: (site: number) => string): boolean {
  for (const f of filters) {
    const e = f.byType.get(it.type);
    if (e === undefined) continue;
    if (e === null || test(e, it, name)) return true;
  }
  return false;
}
