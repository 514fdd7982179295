/**
 * Work done when this thread's process object says the thread or process
 * ends ('beforeExit', 'exit'), without a listener the program could see.
 *
 * Owns: the one wrapper of this thread's `process.emit`. Invariants: the
 * program's own listeners run first and exactly as without us
 * (`process.listeners('exit')`, `listenerCount`, `eventNames` and the
 * MaxListeners warning are untouched); our hooks run after them, each once
 * per emission, each isolated (a hook that throws is reported on stderr and
 * the others still run); a listener of the program that throws still throws.
 *
 * Why `emit`: Node ends a process or a worker by calling `process.emit`
 * ('exit' from process.exit, from the end of the event loop and from a
 * fatal exception), so wrapping it sees every end, as tools such as
 * signal-exit do; a listener would be counted among the program's.
 */

type Hook = (code: number) => void;

const hooks: Record<'exit' | 'beforeExit', Hook[]> = { exit: [], beforeExit: [] };
let wrapped = false;

function run(list: Hook[], code: number): void {
  for (const h of list.slice()) {
    try {
      h(code);
    } catch (e) {
      try {
        process.stderr.write(`jsftrace: at exit: ${(e as Error)?.message ?? String(e)}\n`);
      } catch {
        // nothing left to report with
      }
    }
  }
}

function wrap(): void {
  if (wrapped) return;
  wrapped = true;
  const emit = process.emit;
  const { emit: wrappedEmit } = {
    emit(this: NodeJS.Process, type: string | symbol, ...args: unknown[]): boolean {
      if (type !== 'exit' && type !== 'beforeExit') return Reflect.apply(emit, this, [type, ...args]) as boolean;
      try {
        return Reflect.apply(emit, this, [type, ...args]) as boolean;
      } finally {
        const code = typeof args[0] === 'number' ? args[0] : Number(process.exitCode ?? 0);
        run(hooks[type], code);
      }
    },
  };
  Object.defineProperty(wrappedEmit, 'length', { value: emit.length });
  (process as { emit: unknown }).emit = wrappedEmit;
}

function add(list: Hook[], fn: Hook): () => void {
  wrap();
  list.push(fn);
  return () => {
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  };
}

/** Runs `fn` when this thread's process emits 'exit' (the thread or process ends); returns its removal. */
export function atExit(fn: Hook): () => void {
  return add(hooks.exit, fn);
}

/** Runs `fn` when this thread's process emits 'beforeExit' (the event loop emptied); returns its removal. */
export function beforeExit(fn: Hook): () => void {
  return add(hooks.beforeExit, fn);
}
