/**
 * The attached process's own inspector session (in-process: no port is
 * open), through which the agent lists scripts, sets probes and live-patches.
 *
 * Owns: the session, from open to close. Invariants:
 * - the program is never paused by it: every pause (a `debugger`
 *   statement, an exception) is skipped, and probe conditions return false;
 *   a pause in the main thread with a session of the main thread would
 *   never end;
 * - requests are answered synchronously (the session is in this thread),
 *   so a caller sees each result before any program code runs again;
 * - closing disables the debugger: V8 leaves debug mode, and no probe or
 *   listener of ours remains.
 */

import { Session } from 'node:inspector';
import { JsftraceError } from '../shared/errors.js';

export interface ScriptParsed {
  scriptId: string;
  url: string;
  isModule?: boolean;
  /** `isDefault` false: a context made with `vm.createContext`. */
  executionContextAuxData?: { isDefault?: boolean };
}

export interface Location {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
  type?: string;
}

export class Debugger {
  private session: Session | null = new Session();

  /** Connects and enables the Debugger domain; `onScript` sees every script, loaded and to come. */
  constructor(onScript: (s: ScriptParsed) => void) {
    const s = this.session!;
    s.connect();
    s.on('Debugger.scriptParsed', (m) => onScript(m.params as ScriptParsed));
    this.post('Debugger.enable', {});
    this.post('Debugger.setSkipAllPauses', { skip: true });
  }

  /** An event of the session (`NodeWorker.attachedToWorker`, ...), with its params. */
  on(event: string, fn: (params: Record<string, unknown>) => void): void {
    this.session?.on(event, (m: { params: Record<string, unknown> }) => fn(m.params));
  }

  post(method: string, params: Record<string, unknown>): Record<string, unknown> {
    const s = this.session;
    if (s === null) throw new JsftraceError('ENODEV', 'the inspector session is closed');
    let out: Record<string, unknown> | undefined;
    let err: Error | null = null;
    s.post(method, params, (e, r) => { err = e; out = r as Record<string, unknown>; });
    if (err !== null) throw err;
    if (out === undefined) throw new JsftraceError('EIO', `${method}: no synchronous answer from the inspector`);
    return out;
  }

  source(scriptId: string): string {
    return this.post('Debugger.getScriptSource', { scriptId })['scriptSource'] as string;
  }

  /** LiveEdit: V8's status word ('Ok', 'BlockedByActiveFunction', ...). */
  setSource(scriptId: string, text: string, dryRun = false): string {
    const r = this.post('Debugger.setScriptSource', { scriptId, scriptSource: text, dryRun });
    if (r['exceptionDetails'] !== undefined) return 'CompileError';
    return typeof r['status'] === 'string' ? r['status'] : 'Ok';
  }

  /** Break locations of the function that holds `start` (not of functions nested in it). */
  locations(scriptId: string, start: [number, number], end: [number, number]): Location[] {
    return this.post('Debugger.getPossibleBreakpoints', {
      start: { scriptId, lineNumber: start[0], columnNumber: start[1] },
      end: { scriptId, lineNumber: end[0], columnNumber: end[1] },
      restrictToFunction: true,
    })['locations'] as Location[];
  }

  setBreakpoint(at: Location, condition: string): string {
    return this.post('Debugger.setBreakpoint', {
      location: { scriptId: at.scriptId, lineNumber: at.lineNumber, columnNumber: at.columnNumber }, condition,
    })['breakpointId'] as string;
  }

  removeBreakpoint(id: string): void {
    this.post('Debugger.removeBreakpoint', { breakpointId: id });
  }

  close(): void {
    const s = this.session;
    if (s === null) return;
    this.session = null;
    try {
      s.post('Debugger.disable', {}, () => undefined);
    } finally {
      s.disconnect();
    }
  }
}
