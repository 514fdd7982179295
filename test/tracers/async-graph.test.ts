// function_graph on load-time sites (node --import jsftrace/register): an
// async function's await and a generator's yield end the part that ran
// (its own duration, closed with `/* f suspended */`) and reopen the call
// where it resumes (`f() { /* resumed */`); its last return
// carries the whole duration since the first entry (fetchUser: 14 us, main:
// 16 us). No frame stays open while a call is suspended: main goes on to
// counter at its own depth while fetchUser waits. The program's own clock
// function is traced code too, and is not traced from inside the tracer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

test('async function and generator in the graph, exactly', () => {
  const work = mkdtempSync(join(tmpdir(), 'jsftrace-agraph-'));
  try {
    const r = spawnSync(process.execPath, [
      '--import', fileURLToPath(new URL('../../src/public/register.js', import.meta.url)),
      fileURLToPath(new URL('../../../test/fixtures/tracers/async-prog.mjs', import.meta.url)),
    ], {
      encoding: 'utf8', timeout: 60_000,
      env: {
        ...process.env, NODE_OPTIONS: '', JSFTRACE_CACHE_DIR: join(work, 'cache'),
        JSFTRACE_TRACERS: new URL('../../src/tracers/index.js', import.meta.url).href,
        JSFTRACE_RING: new URL('../../src/ring/index.js', import.meta.url).href,
      },
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    // Names are relative to the program root (the cwd): keep the file name.
    const body = lines.map((l) => l.replace(/^ *\d+\) /, '').replace(/\S*async-prog\.mjs:/g, ''));
    assert.deepEqual(body, [
      '              |  main() {',
      '              |    fetchUser() {',
      '  2.000 us    |      tick();',
      '              |      leaf() {',
      '  1.000 us    |        tick();',
      '  1.000 us    |      }',
      '  3.000 us    |    } /* fetchUser suspended */',
      '  3.000 us    |    tick();',
      '              |    counter() {',
      '  1.000 us    |      tick();',
      '              |      leaf() {',
      '  1.000 us    |        tick();',
      '  1.000 us    |      }',
      '  2.000 us    |    } /* counter suspended */',
      '  8.000 us    |  } /* main suspended */',
      '              |  fetchUser() { /* resumed */',
      '  5.000 us    |    tick();',
      '              |    leaf() {',
      '  1.000 us    |      tick();',
      '  1.000 us    |    }',
      '+ 14.000 us   |  }',
      '              |  main() { /* resumed */',
      '              |    counter() { /* resumed */',
      '  1.000 us    |      tick();',
      '              |      leaf() {',
      '  1.000 us    |        tick();',
      '  1.000 us    |      }',
      '  2.000 us    |    } /* counter suspended */',
      '+ 16.000 us   |  }',
    ], r.stdout);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
