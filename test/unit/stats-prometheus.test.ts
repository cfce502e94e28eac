// The Prometheus exposition (src/stats/prometheus.ts) from hand-made snapshots: the text
// format 0.0.4's escaping, one HELP and TYPE per family with its samples together, cumulative
// histogram buckets summed over a worker's cores with +Inf equal to _count, and status codes
// only as seen. Also the request-line rules that pick /metrics out of --stats-http traffic.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScoreboardCoreFields, ScoreboardSnapshot, ScoreboardWorkerFields } from '../../src/native';
import {
  classifyStatsHttpRequest,
  type RouteHandler,
  registerRoute,
  routeTable,
  unregisterRoute,
} from '../../src/stats/http-routes';
import { escapeHelp, escapeLabelValue, leLabel, type MetricsContext, renderMetrics } from '../../src/stats/prometheus';

const BOUNDS = [
  500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
];

function core(over: Partial<ScoreboardCoreFields> = {}): ScoreboardCoreFields {
  return {
    requests: 0,
    tx: 0,
    runningTime: 0,
    avgRt: 0,
    exceptions: 0,
    readErrors: 0,
    writeErrors: 0,
    rx: 0,
    durationBuckets: BOUNDS.map(() => 0).concat([0]),
    statusCounts: {},
    inflight: 0,
    inRequest: 0,
    requestStart: 0,
    requestStartMs: 0,
    vars: [],
    ...over,
  };
}

function worker(over: Partial<ScoreboardWorkerFields> = {}): ScoreboardWorkerFields {
  return {
    pid: 100,
    accepting: 1,
    status: 0,
    lastSpawn: 0,
    respawnCount: 1,
    harakiriCount: 0,
    requestsBase: 0,
    rss: 0,
    vsz: 0,
    signals: 0,
    ...over,
  };
}

/** Buckets as stored: counts per bucket, not cumulative (+Inf last). */
function buckets(pairs: Record<number, number>): number[] {
  const b = BOUNDS.map(() => 0).concat([0]);
  for (const [i, n] of Object.entries(pairs)) b[Number(i)] = n;
  return b;
}

const ctx: MetricsContext = {
  version: '0.1.0',
  nodeVersion: '20.20.2',
  sockets: [{ name: '127.0.0.1:3031', proto: 'http', queue: 2, maxQueue: 100 }],
  workersConfigured: 2,
  reloads: 3,
};

function snapshot(): ScoreboardSnapshot {
  return {
    nowMs: 0,
    created: 0,
    durationBoundsUs: BOUNDS,
    workers: [worker({ respawnCount: 3, harakiriCount: 1, rss: 4096 }), worker({ pid: 0 })],
    cores: [
      [
        core({
          requests: 3,
          rx: 100,
          tx: 200,
          runningTime: 1_500_000,
          durationBuckets: buckets({ 0: 1, 2: 1, 14: 1 }),
          statusCounts: { '200': 2, '404': 1 },
          inRequest: 1,
        }),
        core({
          requests: 2,
          rx: 10,
          tx: 20,
          runningTime: 700,
          durationBuckets: buckets({ 0: 1, 1: 1 }),
          statusCounts: { '200': 1, other: 1, '101': 1 },
        }),
      ],
      [core(), core()],
    ],
  };
}

/** name{labels} → value, and the family order with each family's HELP/TYPE count. */
function parse(text: string) {
  const samples = new Map<string, string>();
  const help = new Map<string, number>();
  const type = new Map<string, string>();
  const order: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m !== null) {
      if (m[1] === 'HELP') {
        help.set(m[2]!, (help.get(m[2]!) ?? 0) + 1);
        order.push(m[2]!);
      } else type.set(m[2]!, m[3]!);
      continue;
    }
    const sp = line.lastIndexOf(' ');
    samples.set(line.slice(0, sp), line.slice(sp + 1));
  }
  return { samples, help, type, order };
}

test('label values escape backslash, double quote and line feed; HELP escapes backslash and line feed', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeHelp('a\\b"c\nd'), 'a\\\\b"c\\nd');
  const odd = { ...ctx, sockets: [{ name: '/tmp/a "b"\\c\n.sock', proto: 'uwsgi' as const, queue: 0, maxQueue: 0 }] };
  const text = renderMetrics(snapshot(), odd);
  assert.ok(text.includes('tsgi_listen_queue_length{socket="/tmp/a \\"b\\"\\\\c\\n.sock"} 0\n'), text);
});

test('every family has one HELP and one TYPE line, and its samples follow them without interruption', () => {
  const text = renderMetrics(snapshot(), ctx);
  assert.ok(text.endsWith('\n'));
  const { help, type, order } = parse(text);
  assert.equal(new Set(order).size, order.length, 'no family repeated');
  for (const name of order) {
    assert.equal(help.get(name), 1, name);
    assert.ok(['counter', 'gauge', 'histogram'].includes(type.get(name)!), name);
    if (type.get(name) === 'counter') assert.match(name, /_total$/);
  }
  // Samples of a family sit between its TYPE line and the next HELP line.
  let family = '';
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+)/.exec(line);
    if (m !== null) family = m[1]!;
    else if (line !== '' && !line.startsWith('#')) assert.ok(line.startsWith(family), `${line} outside ${family}`);
  }
});

test('the histogram is cumulative over the summed cores, +Inf equals _count, _sum is running_time in seconds', () => {
  const { samples } = parse(renderMetrics(snapshot(), ctx));
  const bucket = (le: string) => Number(samples.get(`tsgi_request_duration_seconds_bucket{worker="1",le="${le}"}`));
  assert.equal(bucket('0.0005'), 2, 'one per core in the first bucket');
  assert.equal(bucket('0.001'), 3);
  assert.equal(bucket('0.0025'), 4);
  assert.equal(bucket('10'), 4);
  assert.equal(bucket('+Inf'), 5);
  assert.equal(Number(samples.get('tsgi_request_duration_seconds_count{worker="1"}')), 5);
  assert.equal(Number(samples.get('tsgi_request_duration_seconds_sum{worker="1"}')), 1.5007);
  let previous = 0;
  for (const le of BOUNDS.map(leLabel).concat(['+Inf'])) {
    assert.ok(bucket(le) >= previous, `bucket ${le} not below the one before`);
    previous = bucket(le);
  }
  assert.equal(samples.get('tsgi_request_duration_seconds_bucket{worker="2",le="+Inf"}'), '0');
  assert.equal(samples.get('tsgi_request_duration_seconds_count{worker="2"}'), '0');
});

test('bucket bounds are written in seconds', () => {
  assert.deepEqual(BOUNDS.map(leLabel), [
    '0.0005',
    '0.001',
    '0.0025',
    '0.005',
    '0.01',
    '0.025',
    '0.05',
    '0.1',
    '0.25',
    '0.5',
    '1',
    '2.5',
    '5',
    '10',
  ]);
});

test('responses are counted per code seen, summed over cores, in code order with "other" last', () => {
  const text = renderMetrics(snapshot(), ctx);
  const lines = text.split('\n').filter((l) => l.startsWith('tsgi_responses_total{'));
  assert.deepEqual(lines, [
    'tsgi_responses_total{worker="1",code="101"} 1',
    'tsgi_responses_total{worker="1",code="200"} 3',
    'tsgi_responses_total{worker="1",code="404"} 1',
    'tsgi_responses_total{worker="1",code="other"} 1',
  ]);
});

test('per-worker, master and socket families carry the snapshot and context values', () => {
  const { samples } = parse(renderMetrics(snapshot(), ctx));
  const want: Record<string, string> = {
    'tsgi_build_info{version="0.1.0",node_version="20.20.2"}': '1',
    tsgi_workers_configured: '2',
    tsgi_workers_running: '1',
    tsgi_reloads_total: '3',
    'tsgi_requests_total{worker="1"}': '5',
    'tsgi_requests_total{worker="2"}': '0',
    'tsgi_harakiri_total{worker="1"}': '1',
    'tsgi_worker_respawns_total{worker="1"}': '2',
    'tsgi_worker_respawns_total{worker="2"}': '0',
    'tsgi_worker_rss_bytes{worker="1"}': '4096',
    'tsgi_worker_cores{worker="1",state="busy"}': '1',
    'tsgi_worker_cores{worker="1",state="idle"}': '1',
    'tsgi_received_bytes_total{worker="1"}': '110',
    'tsgi_sent_bytes_total{worker="1"}': '220',
    'tsgi_listen_queue_length{socket="127.0.0.1:3031"}': '2',
    'tsgi_listen_queue_max_length{socket="127.0.0.1:3031"}': '100',
  };
  for (const [k, v] of Object.entries(want)) assert.equal(samples.get(k), v, k);
});

test('--stats-http waits for a request line that may name a route and answers the document otherwise', () => {
  const routes = new Map([['/metrics', null]]);
  assert.equal(classifyStatsHttpRequest('G', routes), 'wait');
  assert.equal(classifyStatsHttpRequest('GET /metr', routes), 'wait');
  assert.equal(classifyStatsHttpRequest('GET /metrics', routes), 'wait');
  assert.equal(classifyStatsHttpRequest('GET /metrics?x', routes), 'wait');
  assert.equal(classifyStatsHttpRequest('HEAD /metrics HTTP/1.1\r', routes), 'wait');
  assert.equal(classifyStatsHttpRequest('GET / HTTP/1.1\r\n', routes), 'document');
  assert.equal(classifyStatsHttpRequest('GET /', routes), 'wait', 'may still become /metrics');
  assert.equal(classifyStatsHttpRequest('GET /x', routes), 'document');
  assert.equal(classifyStatsHttpRequest('GET /metricsx HTTP/1.1\r\n', routes), 'document');
  assert.equal(classifyStatsHttpRequest('POST /metrics HTTP/1.1\r\n', routes), 'document');
  assert.equal(classifyStatsHttpRequest('\x16\x03\x01garbage', routes), 'document');
  assert.equal(classifyStatsHttpRequest('', routes), 'wait');
  assert.deepEqual(classifyStatsHttpRequest('GET /metrics?a=1 HTTP/1.0\r\nHost: x\r\n', routes), {
    method: 'GET',
    path: '/metrics',
    query: 'a=1',
  });
});

test('registered paths join /metrics in the tables built afterwards; /metrics cannot be replaced', () => {
  const metrics: RouteHandler = () => ({ status: 200, body: 'm' });
  const health: RouteHandler = () => ({ status: 200, body: 'ok' });
  assert.throws(() => registerRoute('/metrics', health), /built in/);
  assert.throws(() => registerRoute('healthz', health), /bad path/);
  registerRoute('/healthz', health);
  try {
    const table = routeTable(metrics);
    assert.deepEqual([...table.keys()], ['/metrics', '/healthz']);
    assert.equal(table.get('/healthz'), health);
    assert.deepEqual(classifyStatsHttpRequest('GET /healthz HTTP/1.1\r\n', table), {
      method: 'GET',
      path: '/healthz',
      query: '',
    });
  } finally {
    unregisterRoute('/healthz');
  }
  assert.deepEqual([...routeTable(metrics).keys()], ['/metrics']);
});
