// The OTLP export in one process, through its control files: what each
// file takes and refuses (a refused write changes nothing), the option in
// trace_options, trace_stat/otlp; and a site made by attach(), whose exit
// sees the thrown value, giving its span an exception event.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../src/public/index.js';
import { controlSurface } from '../../src/control/tree.js';
import { Receiver } from './receiver.js';

const fs = controlSurface();

async function refused(path: string, text: string, code: string): Promise<void> {
  const before = await fs.read(path);
  await assert.rejects(fs.write(path, text), (e: Error & { code?: string }) => e.code === code, `${path} < ${text}`);
  assert.equal(await fs.read(path), before, `${path} unchanged`);
}

test('the otlp files: values read back, bad ones refused whole', async () => {
  await fs.write('otlp/endpoint', 'http://127.0.0.1:4318');
  assert.equal(await fs.read('otlp/endpoint'), 'http://127.0.0.1:4318\n');
  assert.match(await fs.read('trace_stat/otlp'), /^endpoint: http:\/\/127\.0\.0\.1:4318\/v1\/traces$/m);
  await fs.write('otlp/endpoint', 'https://tempo.example:4318/otlp/v1/traces');
  assert.match(await fs.read('trace_stat/otlp'), /^endpoint: https:\/\/tempo\.example:4318\/otlp\/v1\/traces$/m);
  await refused('otlp/endpoint', 'ftp://x', 'EINVAL');
  await refused('otlp/endpoint', 'not a url', 'EINVAL');
  await fs.write('otlp/sampler', 'parentbased_traceidratio 0.25');
  assert.equal(await fs.read('otlp/sampler'), 'parentbased_traceidratio 0.25\n');
  await refused('otlp/sampler', 'traceidratio 2', 'EINVAL');
  await refused('otlp/sampler', 'always_on 1', 'EINVAL');
  await refused('otlp/sampler', 'sometimes', 'EINVAL');
  await fs.write('otlp/sampler', 'parentbased_always_on');
  await fs.write('otlp/rate_limit', '500');
  assert.equal(await fs.read('otlp/rate_limit'), '500\n');
  await refused('otlp/rate_limit', '-1', 'EINVAL');
  await refused('otlp/rate_limit', 'lots', 'EINVAL');
  await fs.write('otlp/rate_limit', '0');
  await fs.write('otlp/service_name', 'checkout');
  assert.equal(await fs.read('otlp/service_name'), 'checkout\n');
  await refused('trace_stat/otlp', 'x', 'EACCES');
  assert.match(await fs.read('trace_stat/otlp'), /^state: off$/m);
  assert.match(await fs.read('error_log'), /otlp\/sampler: error: /);
});

test('an attach() site that throws: its span has the exception event; stopping the tracer sends what was left', async () => {
  const rx = new Receiver();
  await rx.start();
  try {
    const svc = {
      find(id: number): number {
        if (id < 0) throw new RangeError(`no item ${id}`);
        return id;
      },
      run(id: number): number {
        try {
          return svc.find(id);
        } catch {
          return 0;
        }
      },
    };
    attach(svc, 'find', { name: 'otlp-unit:find', file: 'svc.js', line: 3 });
    attach(svc, 'run', { name: 'otlp-unit:run', file: 'svc.js', line: 7 });
    await fs.write('otlp/endpoint', rx.url);
    await fs.write('set_ftrace_filter', 'otlp-unit:*');
    await fs.write('options/otlp', '1');
    await fs.write('current_tracer', 'function_graph');
    assert.equal((await fs.read('trace_options')).split('\n').includes('otlp'), true);
    assert.match(await fs.read('trace_stat/otlp'), /^state: exporting$/m);
    assert.equal(svc.run(5), 5);
    assert.equal(svc.run(-1), 0);
    await fs.write('current_tracer', 'nop'); // stops the export after its last send
    assert.match(await fs.read('trace_stat/otlp'), /^state: off$/m);
    const spans = rx.of('jsftrace');
    assert.deepEqual(spans.map((s) => s.name).sort(), ['otlp-unit:find', 'otlp-unit:find', 'otlp-unit:run', 'otlp-unit:run']);
    const threw = spans.filter((s) => s.events.length > 0);
    assert.equal(threw.length, 1);
    assert.deepEqual(threw[0]!.events, [{ name: 'exception', attributes: { 'exception.type': 'RangeError', 'exception.message': 'no item -1' } }]);
    assert.deepEqual(threw[0]!.status, { code: 2, message: 'RangeError: no item -1' });
    assert.equal(threw[0]!.service, 'checkout');
    assert.equal(threw[0]!.attributes['code.line.number'], 3);
    const stat = await fs.read('trace_stat/otlp');
    assert.match(stat, /^spans +4  /m);
    assert.match(stat, /^exported +4  /m);
    await fs.write('options/otlp', '0');
  } finally {
    await rx.close();
  }
});
