// tsgi bench: the saturation detector, the statistics, the tsgi spawn-log check, wrk's parser and the wrk cross-check's note.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrk } from '../../src/bench/loadgen';
import { checkSpawnLog } from '../../src/bench/points';
import { crossCheckNote } from '../../src/bench/run';
import { detectSaturation, median, spreadPct, stddev } from '../../src/bench/stats';

test('a client at >= 90 % of its CPUs in any run is the limit, whatever the server did', () => {
  const s = detectSaturation({
    clientCpu: [0.7, 0.93, 0.8],
    clientCapacity: 1,
    serverCpu: [0.5, 0.5, 0.5],
    serverCapacity: 1,
  });
  assert.equal(s.limit, 'client');
  assert.equal(s.clientShare, 0.93);
  assert.match(s.note, /client-bound: the load generator used 93 % of its 1 CPU/);
});

test('client capacity counts autocannon workers: 1.5 CPUs of 2 is not saturated', () => {
  const s = detectSaturation({ clientCpu: [1.5], clientCapacity: 2, serverCpu: [0.99], serverCapacity: 1 });
  assert.equal(s.limit, 'server');
  assert.equal(s.clientShare, 0.75);
});

test('a busy server with an idle client is server-bound', () => {
  assert.equal(
    detectSaturation({ clientCpu: [0.4], clientCapacity: 1, serverCpu: [1.9], serverCapacity: 2 }).limit,
    'server',
  );
});

test('neither side busy: latency-bound, or contended when other work took the CPU', () => {
  const quiet = detectSaturation({
    clientCpu: [0.2],
    clientCapacity: 1,
    serverCpu: [0.3],
    serverCapacity: 1,
    otherCpu: [0.02],
  });
  assert.equal(quiet.limit, 'neither');
  const busy = detectSaturation({
    clientCpu: [0.5],
    clientCapacity: 1,
    serverCpu: [0.4],
    serverCapacity: 1,
    otherCpu: [0.1, 0.6],
  });
  assert.equal(busy.limit, 'contended');
  assert.match(busy.note, /60 % of a CPU/);
});

test('missing CPU figures give "unknown", never a guess', () => {
  assert.equal(
    detectSaturation({ clientCpu: [null], clientCapacity: 1, serverCpu: [null], serverCapacity: 1 }).limit,
    'unknown',
  );
});

test('median, spread and standard deviation', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(median([]), null);
  assert.equal(spreadPct([90, 100, 110]), 20);
  assert.equal(stddev([5]), 0);
  assert.ok(Math.abs(stddev([2, 4, 4, 4, 5, 5, 7, 9]) - 2.138) < 0.001);
});

const spawned = (pid: number, cores: number): string => `spawned tsgi worker 1 (pid: ${pid}, cores: ${cores})`;

test('spawn-log check: the configuration asked for must be the one tsgi started', () => {
  assert.equal(checkSpawnLog(spawned(10, 1), { processes: 1, threads: 1, async: 1 }), null);
  assert.equal(checkSpawnLog(spawned(10, 100), { processes: 1, threads: 1, async: 100 }), null);
  assert.equal(checkSpawnLog(`${spawned(10, 2)}\n${spawned(11, 2)}`, { processes: 2, threads: 2, async: 1 }), null);
  assert.match(
    checkSpawnLog(spawned(10, 1), { processes: 1, threads: 2, async: 1 })!,
    /asked for --threads 2 --async 1 \(2 cores per worker\), tsgi reported cores: 1/,
  );
  assert.match(
    checkSpawnLog(spawned(10, 1), { processes: 2, threads: 1, async: 1 })!,
    /asked for --processes 2, tsgi spawned 1 worker process$/,
  );
  assert.match(
    checkSpawnLog('*** Starting tsgi ***', { processes: 1, threads: 1, async: 1 })!,
    /no "spawned tsgi worker" line/,
  );
});

test('wrk output is parsed, including errors, non-2xx and transfer rate', () => {
  const out = `Running 3s test @ http://127.0.0.1:1/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.00us  100.00us   5.00ms   90.00%
  Latency Distribution
     50%  400.00us
     75%  450.00us
     90%  500.00us
     99%    1.20ms
  300000 requests in 3.00s, 30.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec: 100000.00
Transfer/sec:     10.00MB
`;
  const r = parseWrk(out);
  assert.equal(r.rps, 100000);
  assert.equal(r.requests, 300000);
  assert.equal(r.durationS, 3);
  assert.equal(r.latencyMs.p50, 0.4);
  assert.equal(r.latencyMs.p99, 1.2);
  assert.equal(r.latencyMs.max, 5);
  assert.deepEqual(r.errors, { connect: 0, read: 2, write: 0, timeout: 1, non2xx: 5 });
  assert.equal(r.bytesPerS, 10 * 1024 * 1024);
});

test('the wrk cross-check calls a lower wrk figure a difference between runs, not agreement', () => {
  assert.equal(
    crossCheckNote(0.64),
    "wrk measured 0.64× autocannon's median, less: the runs differ by more than the client (other load on the machine, or how the server meets wrk's load)",
  );
  assert.equal(crossCheckNote(1.05), 'wrk and autocannon agree within 5 %');
  assert.match(crossCheckNote(1.88), /^wrk measured 1\.88× autocannon's median: autocannon under-measures/);
});
