/**
 * Errors of the public API, with stable codes.
 *
 * Owns: the one error class every layer throws for API misuse and control
 * failures. Invariant: a thrown JsftraceError never leaves shared state half
 * changed; the code that throws it validates before it writes.
 *
 * The codes are errno names because ftrace's users read errno (`-EBUSY`,
 * `-EINVAL`) and the control files answer with the same words. `errno` holds
 * the negative number the kernel would return. The brand is a global symbol so
 * that `instanceof` holds across two loaded copies of jsftrace (a worker may
 * load another build).
 */

const BRAND = Symbol.for('jsftrace.error');

export const ERRNO = {
  EPERM: -1,
  ENOENT: -2,
  ESRCH: -3,
  EBADF: -9,
  EIO: -5,
  ENOMEM: -12,
  EACCES: -13,
  EBUSY: -16,
  EEXIST: -17,
  ENODEV: -19,
  EINVAL: -22,
  EMFILE: -24,
  ENOSPC: -28,
  ERANGE: -34,
  EPROTO: -71,
  EMSGSIZE: -90,
  ETIMEDOUT: -110,
} as const;

export type ErrnoCode = keyof typeof ERRNO;

export class JsftraceError extends Error {
  readonly code: ErrnoCode;
  readonly errno: number;

  constructor(code: ErrnoCode, message: string) {
    super(message);
    this.name = 'JsftraceError';
    this.code = code;
    this.errno = ERRNO[code];
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export function fail(code: ErrnoCode, message: string): never {
  throw new JsftraceError(code, message);
}
