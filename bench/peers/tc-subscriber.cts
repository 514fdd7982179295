/**
 * Contender: one subscriber on the TracingChannels that the code
 * transformer put around every function, doing trivial work (counting
 * starts). Preloaded with --require; the channel names come from
 * PEERS_TC_CHANNELS (comma-separated). Prints `PEERS_CALLS <n>` on
 * standard error at exit.
 */

const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');

let calls = 0;
const names = (process.env['PEERS_TC_CHANNELS'] ?? '').split(',').filter((n) => n !== '');
const handlers = {
  start(): void { calls++; },
  end(): void {},
  asyncStart(): void {},
  asyncEnd(): void {},
  error(): void {},
};
for (const name of names) dc.tracingChannel(name).subscribe(handlers);
process.on('exit', () => { process.stderr.write(`PEERS_CALLS ${calls}\n`); });
