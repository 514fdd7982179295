// An OTLP/HTTP receiver for the tests, on 127.0.0.1: it takes POSTs of
// ExportTraceServiceRequest in protobuf and decodes them with the
// OpenTelemetry project's own definitions (the protobufjs code generated
// from opentelemetry-proto, as @opentelemetry/otlp-transformer 0.215 ships
// it), not with anything of ours. It can refuse every request (a receiver
// that is down answers nothing: close() it).

import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
interface Root {
  opentelemetry: { proto: { collector: { trace: { v1: {
    ExportTraceServiceRequest: { decode(b: Uint8Array): unknown };
    ExportTraceServiceResponse: { encode(m: object): { finish(): Uint8Array } };
  } } } } };
}
const root = require('otlp-transformer-protobufjs/build/src/generated/root.js') as Root;
const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;

interface Long { toString(): string }
interface AnyValue { stringValue?: string; intValue?: Long | number; boolValue?: boolean }
interface KeyValue { key: string; value: AnyValue }
interface PSpan {
  traceId: Uint8Array; spanId: Uint8Array; parentSpanId?: Uint8Array; name: string; kind: number; flags?: number;
  startTimeUnixNano: Long; endTimeUnixNano: Long; attributes: KeyValue[];
  events: { name: string; attributes: KeyValue[] }[]; status?: { code?: number; message?: string };
}
interface PRequest {
  resourceSpans: { resource?: { attributes: KeyValue[] }; scopeSpans: { scope?: { name: string; version?: string }; spans: PSpan[] }[] }[];
}

/** One received span, flattened. */
export interface Span {
  scope: string;
  service: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  /** OTLP span flags: bit 8 says whether the parent's remoteness is known, bit 9 that it is remote. */
  flags: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  status: { code: number; message: string };
}

const hex = (b: Uint8Array | null | undefined): string => (b === undefined || b === null ? '' : Buffer.from(b).toString('hex'));

function value(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.intValue !== undefined && v.intValue !== null) return Number(v.intValue.toString());
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  return '';
}

function attrs(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const o: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) o[kv.key] = value(kv.value);
  return o;
}

export class Receiver {
  readonly spans: Span[] = [];
  requests = 0;
  private server: Server | null = null;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const m = ExportTraceServiceRequest.decode(Buffer.concat(chunks)) as PRequest;
        for (const rs of m.resourceSpans) {
          const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              this.spans.push({
                scope: ss.scope?.name ?? '', service, name: s.name, kind: s.kind, traceId: hex(s.traceId), spanId: hex(s.spanId),
                parentSpanId: hex(s.parentSpanId), flags: s.flags ?? 0, startNs: BigInt(s.startTimeUnixNano.toString()),
                endNs: BigInt(s.endTimeUnixNano.toString()), attributes: attrs(s.attributes),
                events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
                status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end(Buffer.from(ExportTraceServiceResponse.encode({}).finish()));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The spans of one instrumentation scope. */
  of(scope: string): Span[] {
    return this.spans.filter((s) => s.scope === scope);
  }
}
