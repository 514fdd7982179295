/**
 * The version of the transform's output shape. Owns one constant, kept
 * apart from transform.ts so that reading it (every cache lookup) does not
 * load the parser. Bump it whenever the emitted code changes.
 */

export const TRANSFORM_VERSION = '59';
