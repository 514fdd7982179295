/**
 * The words the main thread of a recorded process and its drain share
 * (one small SharedArrayBuffer, made by recorder.ts and handed to the
 * drain as workerData). Version 1: a change of any index is a new layout
 * (both sides come from one build, so no check is needed at run time).
 *
 * Owns: the indexes and their meaning, and the messages about the OTLP
 * export that the drain runs (export-tee.ts). Invariant: each word has one
 * writer: S_CONNECTED, S_DONE by the drain; S_STOP, S_HOW, S_CODE by the
 * main thread, which writes S_HOW, S_CODE and the note before S_STOP.
 */

import type { ExportSettings, FromWorker } from '../tracers/otlp/messages.js';

/** 0 while connecting; 1 connected to the recorder; 2 failed (the reason is printed by the drain). */
export const S_CONNECTED = 0;
/** 1: the process ends; drain everything, send the ends, then set S_DONE. */
export const S_STOP = 1;
/** 1 once the drain has handed its last byte to the socket (or given up). */
export const S_DONE = 2;
/**
 * How the process ends: HOW_EXIT (S_CODE the exit code), HOW_SIGNAL (S_CODE
 * the signal number) or HOW_EXECVE (process.execve replaces the program;
 * S_CODE unused).
 */
export const S_HOW = 3;
export const S_CODE = 4;
/** Bytes of the JSON list at NOTE_AT (the filter patterns that matched nothing here), written before S_STOP. */
export const S_NOTE_BYTES = 5;
export const NOTE_AT = 8;
export const NOTE_MAX_BYTES = 16 << 10;
export const SYNC_WORDS = NOTE_AT + NOTE_MAX_BYTES / 4;

export const CONNECTED = 1;
export const NOT_CONNECTED = 2;
export const HOW_EXIT = 0;
export const HOW_SIGNAL = 1;
export const HOW_EXECVE = 2;

/** What the drain receives as workerData. */
export interface DrainData {
  /** Marks the thread as jsftrace's own: register does not trace it. */
  jsftraceOwnThread: true;
  socket: string;
  sync: SharedArrayBuffer;
  /** Flight recorder: read the rings only at the end (they overwrite meanwhile). */
  flight: boolean;
  /** The main thread's process.argv. */
  argv: string[];
  /** The OTLP export, when it was turned on before the drain started: the drain runs it from its first read. */
  otlp: { stats: SharedArrayBuffer; settings: ExportSettings } | null;
}

/** The main thread to the drain: the OTLP export's switches (tracers/otlp/exporter.ts, ExportHost). */
export type ToDrain =
  | { kind: 'otlp-start'; stats: SharedArrayBuffer; settings: ExportSettings }
  | { kind: 'otlp-settings'; settings: ExportSettings }
  | { kind: 'otlp-stop' };

/** The drain to the main thread: the export's answers, errors and notices. */
export type FromDrain = FromWorker | { kind: 'otlp-started'; error?: string } | { kind: 'otlp-stopped' };

/** The byte the recorder sends a drain to stop the recording (limit reached, disk full). */
export const STOP_BYTE = 0x53; // 'S'
