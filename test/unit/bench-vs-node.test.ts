// The "× node:http" column: a ratio of req/s only when neither point is a floor, else a ratio
// of server CPU per request, so a client-bound point is never reported as a slower server.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { setVsNodeHttp } from '../../src/bench/run';
import type { Summary } from '../../src/bench/schema';

function summary(
  rps: number,
  usPerRequest: number | null,
  limit: 'client' | 'server' | 'neither' | 'contended',
): Summary {
  return {
    runs: 3,
    rps: { median: rps, min: rps, max: rps, spreadPct: 0 },
    latencyMs: { p50: 1, p90: 1, p99: 1, max: 1 },
    bytesPerS: null,
    errors: { errors: 0, timeouts: 0, non2xx: 0 },
    serverUsPerRequest: usPerRequest,
    serverUsPerRequestParts: {},
    serverCpu: null,
    clientCpuMax: null,
    saturation: { limit, clientShare: null, serverShare: null, note: '' },
    peakRssMiB: null,
    vsNodeHttp: null,
  } as Summary;
}

test('two server-bound points compare by req/s', () => {
  const p = summary(30000, 10, 'server');
  setVsNodeHttp(p, summary(15000, 20, 'server'));
  assert.equal(p.vsNodeHttp, 2);
  assert.equal(p.vsNodeHttpBasis, 'rps');
});

test('a client-bound point compares by server CPU per request, not by its floor of req/s', () => {
  // The load generator capped tsgi at 18k req/s while node:http did 30k: by req/s that would
  // read "0.60×", by the work each request cost the server it is 2.9× cheaper.
  const p = summary(18000, 7, 'client');
  setVsNodeHttp(p, summary(30000, 20.3, 'server'));
  assert.equal(p.vsNodeHttpBasis, 'cpu');
  assert.ok(Math.abs(p.vsNodeHttp! - 2.9) < 1e-9);
});

test('a contended node:http point also switches the comparison to CPU per request', () => {
  const p = summary(30000, 10, 'server');
  setVsNodeHttp(p, summary(10000, 25, 'contended'));
  assert.equal(p.vsNodeHttpBasis, 'cpu');
  assert.equal(p.vsNodeHttp, 2.5);
});

test('a floor without CPU figures gets no ratio at all', () => {
  const p = summary(18000, null, 'client');
  setVsNodeHttp(p, summary(30000, 20, 'server'));
  assert.equal(p.vsNodeHttp, null);
  assert.equal(p.vsNodeHttpBasis, null);
});
