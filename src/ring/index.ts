/**
 * The ring layer's entry point for the layers above (core, tracers, control).
 *
 * Owns: nothing but the list of what is public here. The ring knows nothing of
 * functions or tracers: it stores typed, timestamped events per thread,
 * describes its format, and counts what it loses. Modules above import from
 * this file only, never from the files behind it.
 */

export {
  createRing, openRing, Ring, DEFAULT_SIZE_KB, type RingMode, type RingOptions,
} from './ring.js';
export { attachWriter, RingWriter, type WriterOptions } from './writer.js';
export {
  attachReader, iterateRing, PipeReader, TraceIterator, READ_EMPTY, READ_EVENT, READ_LOST, READ_RETIRED,
} from './reader.js';
export { EventCursor } from './cursor.js';
export { FollowReader, followRing } from './follower.js';
export { entriesLine, formatStats, ringStats, type RingStats } from './stats.js';
export {
  CLOCK_COUNTER, CLOCK_CUSTOM, CLOCK_GLOBAL, CLOCK_LOCAL, CLOCK_MONO, CLOCK_NAMES, clockListText, clockNameOf,
  customClock, formatTimestamp, globalClockError, makeClock, UNIT_COUNT, UNIT_NS, type ClockName, type ClockSource,
} from './clock.js';
export {
  defineEventFormat, EVENT_HEADER, eventFormatText, formatFields, headerEventText, headerPageText, pageFormatFor,
  parseEventFormat, parseHeaderEvent, parseHeaderPage, payloadWords, readField, readStringField, writeField,
  writeStringField, type EventFormat, type EventHeaderFormat, type FieldFormat, type FieldKind, type FieldSpec,
  type PageFormat,
} from './format.js';
export { createEventRegistry, EventRegistry, openEventRegistry, type RegistryLimits } from './registry.js';
export { DEFAULT_PAGE_BYTES, MAX_SIZE_KB, RING_FORMAT_MAJOR, RING_FORMAT_MINOR } from './layout.js';
