// Micro-benchmark of the app layer's per-request cost, without native code.
//   node --import tsx bench/micro/environ.ts
// Reports ns per environ (15 vars, a typical HTTP GET), and ns per request through the
// whole dispatcher for a hello-world gateway callable and a fetch handler (no-op transport).

import { createDispatcher } from '../../src/app/dispatcher';
import { buildEnviron, buildEnvironSlow, createEnvironContext } from '../../src/app/environ';
import { EMPTY_INPUT } from '../../src/app/input';
import type { Transport } from '../../src/native/types';

const VARS: Array<[string, string]> = [
  ['REQUEST_METHOD', 'GET'],
  ['REQUEST_URI', '/hello/world?x=1&y=2'],
  ['PATH_INFO', '/hello/world'],
  ['QUERY_STRING', 'x=1&y=2'],
  ['SCRIPT_NAME', ''],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['SERVER_NAME', 'localhost'],
  ['SERVER_PORT', '9090'],
  ['REMOTE_ADDR', '127.0.0.1'],
  ['REMOTE_PORT', '51234'],
  ['CONTENT_TYPE', ''],
  ['CONTENT_LENGTH', ''],
  ['HTTP_HOST', 'localhost:9090'],
  ['HTTP_USER_AGENT', 'autocannon/7.15.0'],
  ['HTTP_ACCEPT', '*/*'],
];

const meta = new Uint32Array(4 * 64);
let blob = '';
VARS.forEach(([k, v], i) => {
  meta[i * 4] = blob.length;
  blob += k;
  meta[i * 4 + 1] = blob.length;
  meta[i * 4 + 2] = blob.length;
  blob += v;
  meta[i * 4 + 3] = blob.length;
});
// Native hands a fresh string per request; make the blob a flat, non-internalized copy.
const fresh = (): string => (' ' + blob).slice(1);

const noop = (): void => {};
const transport: Transport = {
  respond: noop,
  writeHead: noop,
  write: () => true,
  end: noop,
  abort: noop,
  pauseInput: noop,
  resumeInput: noop,
  log: noop,
};
const options = { workerId: 1, coreId: 0, multithread: false, multiprocess: false, allowMagicVars: false, meta };
const ctx = createEnvironContext(transport, options);

function bench(name: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < 50_000; i++) fn(i); // warm up
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    best = Math.min(best, ns);
  }
  console.log(`${name.padEnd(52)} ${best.toFixed(0).padStart(6)} ns/op (best of 5 x ${n})`);
  return best;
}

const blobs = Array.from({ length: 1024 }, fresh);
let sink: unknown;

bench('buildEnviron, 15 vars (compiled shape)', 1_000_000, (i) => {
  sink = buildEnviron(0, blobs[i & 1023]!, meta, VARS.length, EMPTY_INPUT, ctx);
});
bench('buildEnvironSlow, 15 vars (assignment loop)', 1_000_000, (i) => {
  sink = buildEnvironSlow(0, blobs[i & 1023]!, meta, VARS.length, EMPTY_INPUT, ctx);
});

const gateway = createDispatcher(
  {
    kind: 'gateway',
    fn: (env, sr) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return 'Hello World';
    },
    file: 'bench',
    exportName: 'application',
  },
  transport,
  options,
);
bench('onRequest → gateway hello world → respond', 1_000_000, (i) => {
  gateway.onRequest(i, 1 | 8, blobs[i & 1023]!, VARS.length, undefined);
});

// The fetch path is asynchronous (the Response body is read through its stream): measure
// sequential round trips, one request in flight at a time.
async function fetchRounds(n: number, handler: (req: Request) => Response): Promise<number> {
  let wake: () => void = noop;
  const counting: Transport = { ...transport, respond: () => wake() };
  const d = createDispatcher(
    { kind: 'fetch', handler, thisArg: undefined, file: 'bench', exportName: 'app' },
    counting,
    options,
  );
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const done = new Promise<void>((resolve) => (wake = resolve));
    d.onRequest(i, 1 | 8, blobs[i & 1023]!, VARS.length, undefined);
    await done;
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

async function benchFetch(name: string, handler: (req: Request) => Response): Promise<void> {
  await fetchRounds(20_000, handler);
  let best = Infinity;
  for (let r = 0; r < 5; r++) best = Math.min(best, await fetchRounds(50_000, handler));
  console.log(`${name.padEnd(52)} ${best.toFixed(0).padStart(6)} ns/op (best of 5 x 50000)`);
}

(async () => {
  await benchFetch('fetch: req.url + new Response(string)', (req) => {
    sink = req.url;
    return new Response('Hello World');
  });
  await benchFetch('fetch: req.headers.get() + new Response(string)', (req) => {
    sink = req.headers.get('user-agent');
    return new Response('Hello World');
  });
  void sink;
})();
