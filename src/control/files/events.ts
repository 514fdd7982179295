/**
 * The runtime events' files, as tracefs's events/: available_events
 * (`jsftrace:<name>`), events/enable (all: 0, 1, or X when they differ),
 * events/<name>/enable (0 or 1) and events/<name>/format (the event's
 * fields and print format, from the event registry).
 *
 * Owns: the mapping. Invariant: a write is checked before anything
 * changes (0 or 1 only); each event is off until enabled.
 */

import { eventRegistry } from '../../tracers/session.js';
import { RUNTIME_EVENTS, runtimeEventOn, setRuntimeEvents } from '../../tracers/events/index.js';
import { failAt, type ControlFile } from '../file.js';

function bool(text: string, path: string): boolean {
  const t = text.trim();
  if (t !== '0' && t !== '1') failAt('EINVAL', `${path}: 0 or 1, not "${t}"`, text.length - text.trimStart().length);
  return t === '1';
}

const ALL = RUNTIME_EVENTS.reduce((m, e) => m | e.bit, 0);

export const eventFiles: Record<string, ControlFile> = {
  available_events: { read: () => RUNTIME_EVENTS.map((e) => `jsftrace:${e.name}\n`).join('') },
  'events/enable': {
    read: () => {
      const on = RUNTIME_EVENTS.filter((e) => runtimeEventOn(e.bit)).length;
      return on === 0 ? '0\n' : on === RUNTIME_EVENTS.length ? '1\n' : 'X\n';
    },
    write: (text) => setRuntimeEvents(ALL, bool(text, 'events/enable')),
  },
};

for (const e of RUNTIME_EVENTS) {
  eventFiles[`events/${e.name}/enable`] = {
    read: () => (runtimeEventOn(e.bit) ? '1\n' : '0\n'),
    write: (text) => setRuntimeEvents(e.bit, bool(text, `events/${e.name}/enable`)),
  };
  eventFiles[`events/${e.name}/format`] = { read: () => eventRegistry().formatText(e.format.id) };
}
