/**
 * The version of the transform's output shape, and what of this Node's
 * syntax it depends on. Owns those constants, kept apart from transform.ts
 * so that reading them (every cache lookup) does not load the parser. Bump
 * TRANSFORM_VERSION whenever the emitted code changes.
 */

export const TRANSFORM_VERSION = '74';

/**
 * Whether this Node's V8 compiles `using` declarations (V8 13.4 and later:
 * Node 24 and later). The transform declares disposables of its own only
 * where it does: elsewhere a program's `using` fails to compile as without
 * jsftrace, at the program's own declaration. Read from the version, which
 * a program cannot change, rather than by compiling a probe while
 * jsftrace starts. Part of the cache key.
 */
/**
 * How the transform's SyntaxError begins for syntax the parser reads and
 * this Node's V8 does not (a `using` declaration before V8 13.4): the
 * source is handed back as it came, and Node reports the program's error.
 */
export const NOT_COMPILED_HERE = 'this Node does not compile';

export const USING_DECLARATIONS: boolean = ((): boolean => {
  const [major = 0, minor = 0] = process.versions.v8.split('.').map(Number);
  return major > 13 || (major === 13 && minor >= 4);
})();
