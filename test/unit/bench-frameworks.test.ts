// tsgi bench: the framework apps (fetch, Hono, Express, Koa, Fastify) beside their own servers —
// point ids, the --frameworks preset and its matrix, and the "against their own servers" rows
// of the report on synthetic runs.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { appPackagesMissing, benchApp, frameworkApp } from '../../src/bench/apps';
import { FRAMEWORKS_MATRIX, parseBenchArgs, planPoints, QUICK_MATRIX, UsageError } from '../../src/bench/cli';
import { FRAMEWORK_APPS, parseMatrix } from '../../src/bench/matrix';
import { renderMarkdown } from '../../src/bench/report';
import { summarise } from '../../src/bench/run';
import { type PointRecord, type Report, type RunRecord, SCHEMA } from '../../src/bench/schema';
import { renderVersus, versusRows } from '../../src/bench/versus';

test('--frameworks plans every framework app on one tsgi configuration, each followed by its own server', () => {
  const { points, matrix } = planPoints(parseBenchArgs(['--frameworks']));
  assert.equal(
    FRAMEWORKS_MATRIX,
    'app=fetch,hono,hono-json,express,koa,fastify processes=1 threads=1 async=1 protocol=http',
  );
  assert.deepEqual(matrix.app, [...FRAMEWORK_APPS]);
  assert.deepEqual(
    points.map((p) => p.id),
    [
      'tsgi/fetch/p1-t1-a1/http',
      'own/fetch',
      'tsgi/hono/p1-t1-a1/http',
      'own/hono',
      'tsgi/hono-json/p1-t1-a1/http',
      'own/hono-json',
      'tsgi/express/p1-t1-a1/http',
      'own/express',
      'tsgi/koa/p1-t1-a1/http',
      'own/koa',
      'tsgi/fastify/p1-t1-a1/http',
      'own/fastify',
    ],
  );
  assert.deepEqual(
    points.filter((p) => p.kind === 'own').map((p) => p.label),
    [
      'node:http, the same answer',
      '@hono/node-server',
      '@hono/node-server',
      'Express app.listen()',
      'Koa app.listen()',
      'fastify.listen()',
    ],
  );
});

test('fetch apps load by their default export; node:http frameworks by the export named app', () => {
  assert.deepEqual(frameworkApp('hono').tsgiArgs, ['--wsgi-file', 'bench/apps/hono.mjs']);
  assert.deepEqual(frameworkApp('fetch').tsgiArgs, ['--wsgi-file', 'bench/apps/fetch.mjs']);
  for (const name of ['express', 'koa', 'fastify']) {
    assert.deepEqual(frameworkApp(name).tsgiArgs, ['--wsgi-file', `bench/apps/${name}.mjs`, '--callable', 'app']);
  }
});

test('framework apps expect the same bytes as the built-in apps they mirror', () => {
  assert.deepEqual(frameworkApp('hono-json').expect, benchApp('json').expect);
  for (const name of ['fetch', 'hono', 'express', 'koa', 'fastify'])
    assert.equal(frameworkApp(name).expect!.toString(), 'Hello World');
  assert.equal(benchApp('koa').own!.label, 'Koa app.listen()');
  assert.equal(benchApp('hello').own, undefined);
});

test('a framework app whose packages are absent is skipped with the package named, not started', () => {
  assert.equal(appPackagesMissing(frameworkApp('fastify')), null);
  const app = { ...frameworkApp('hono'), packages: ['hono', 'no-such-framework-for-tsgi'] };
  assert.match(appPackagesMissing(app)!, /^no-such-framework-for-tsgi not installed \(devDependencies/);
  const { points } = planPoints(parseBenchArgs(['--app', 'hono']));
  for (const p of points) assert.equal(p.missing(), null, p.id);
});

test('--frameworks takes a matrix on top; own points come only with HTTP, once per app', () => {
  const ids = planPoints(parseBenchArgs(['--frameworks', '--matrix', 'threads=1,2', 'app=koa'])).points.map(
    (p) => p.id,
  );
  assert.deepEqual(ids, ['tsgi/koa/p1-t1-a1/http', 'tsgi/koa/p1-t2-a1/http', 'own/koa']);
  const uwsgiOnly = planPoints(parseBenchArgs(['--app', 'hono', '--matrix', 'protocol=uwsgi'])).points.map((p) => p.id);
  assert.deepEqual(uwsgiOnly, ['tsgi/hono/p1-t1-a1/uwsgi']);
  assert.deepEqual(planPoints(parseBenchArgs(['--frameworks', '--only', 'own/'])).points.length, 6);
});

test('framework app names are matrix values; unknown names list them; presets exclude each other', () => {
  assert.deepEqual(parseMatrix(['app=hello,hono-json']).app, ['hello', 'hono-json']);
  assert.throws(
    () => parseMatrix(['app=django']),
    /app=django: unknown bench app \(known: hello, json, sleep, cpu, echo, fetch, hono, hono-json, express, koa, fastify;/,
  );
  const bad = (args: string[], re: RegExp): void => {
    assert.throws(
      () => parseBenchArgs(args),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      args.join(' '),
    );
  };
  bad(['--frameworks', '--standard'], /--standard and --frameworks exclude each other/);
  bad(['--quick', '--frameworks'], /--quick and --frameworks exclude each other/);
  bad(['--frameworks', '--wsgi-file', 'a.js'], /--frameworks runs the framework bench apps/);
});

test('--quick stays the hello smoke run, without framework points', () => {
  assert.equal(QUICK_MATRIX, 'app=hello processes=1 threads=1,2 async=1 protocol=http,uwsgi');
  assert.ok(!planPoints(parseBenchArgs(['--quick'])).points.some((p) => p.kind === 'own'));
});

// Synthetic runs: `us` is the server µs per request of each counted round.
function run(round: number, rps: number, us: number, clientCpu = 0.5, extra: Partial<RunRecord> = {}): RunRecord {
  const requests = rps * 10;
  const seconds = (us * requests) / 1e6;
  const cpu = { seconds, cpus: seconds / 10, usPerRequest: us };
  return {
    round,
    rps,
    requests,
    durationS: 10,
    bytesPerS: rps * 100,
    latencyMs: { avg: 1, max: 9, p50: 1, p90: 2, p99: 3 },
    errors: { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 },
    clientCpu,
    serverCpu: { server: cpu, total: cpu },
    wallS: 10,
    otherCpu: 0.01,
    steal: 0,
    ...extra,
  };
}

function point(
  id: string,
  kind: string,
  app: string,
  runs: RunRecord[],
  extra: Partial<PointRecord> = {},
): PointRecord {
  const p: PointRecord = {
    id,
    kind,
    label: kind === 'own' ? `${app} own server` : 'tsgi 1 proc × 1 thr × async 1, HTTP',
    app,
    processes: 1,
    threads: 1,
    async: 1,
    protocol: 'http',
    status: 'ok',
    reason: null,
    serverCommands: [],
    clientCommand: null,
    load: { connections: 100, pipelining: 1, workers: 0 },
    notes: [],
    peakRssKb: { server: 60 * 1024 },
    runs: [{ ...runs[0]!, round: 0, warmup: true }, ...runs],
    summary: null,
    ...extra,
  };
  if (p.status === 'ok') p.summary = summarise(p, 1, 1);
  return p;
}

function report(points: PointRecord[], rounds = 3): Report {
  return {
    schema: SCHEMA,
    startedAt: '2026-11-29T12:00:00.000Z',
    finishedAt: '2026-11-29T12:10:00.000Z',
    gitCommit: 'abcdef0123456789',
    command: 'tsgi bench --frameworks',
    settings: {
      quick: false,
      rounds,
      durationS: 10,
      warmupS: 5,
      connections: 100,
      pipelining: 1,
      workers: 0,
      push: true,
      logging: false,
      matrix: FRAMEWORKS_MATRIX,
      only: null,
      maxOther: 0.15,
      retries: 2,
      quietWaitS: 60,
    },
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryGiB: 4,
      os: 'Test OS',
      kernel: '6.0',
      virtualization: null,
      cpufreqGovernor: null,
      node: 'v20.0.0',
      sysctl: {},
    },
    tools: { autocannon: '8.0.0', wrk: null, nginx: null, uwsgi: null },
    pinning: { enabled: true, clientCpus: [0], serverCpus: [1], clientCapacity: 1, serverCapacity: 1 },
    apps: ['hono', 'express', 'koa'].map((name) => ({ name, description: `${name} hello` })),
    points,
    crossCheck: null,
  };
}

const sample = (): Report =>
  report([
    // tsgi client-bound (95 % of the client's CPU in round 2) and cheaper in every round.
    point('tsgi/hono/p1-t1-a1/http', 'tsgi', 'hono', [
      run(1, 90_000, 8),
      run(2, 95_000, 7.5, 0.95),
      run(3, 92_000, 8.5),
    ]),
    point('own/hono', 'own', 'hono', [run(1, 60_000, 16), run(2, 61_000, 15), run(3, 59_000, 17)]),
    // tsgi not serving the app yet: an error, never a figure.
    point('tsgi/express/p1-t1-a1/http', 'tsgi', 'express', [], {
      status: 'error',
      reason: 'could not start or check: unexpected answer: status 500',
      runs: [],
    }),
    point('own/express', 'own', 'express', [run(1, 20_000, 50), run(2, 21_000, 48), run(3, 19_000, 52)]),
    // The rounds disagree on which is cheaper.
    point('tsgi/koa/p1-t1-a1/http', 'tsgi', 'koa', [run(1, 30_000, 30), run(2, 30_000, 34), run(3, 30_000, 31)]),
    point('own/koa', 'own', 'koa', [run(1, 30_000, 32), run(2, 30_000, 31), run(3, 30_000, 33)]),
  ]);

test('a row per app: medians and min–max of µs/req, the ratio of medians and the per-round ratios', () => {
  const [hono] = versusRows(sample());
  assert.equal(hono!.app, 'hono');
  assert.deepEqual(hono!.tsgi.us, { median: 8, min: 7.5, max: 8.5, spreadPct: 12.5 });
  assert.deepEqual(hono!.own.us, { median: 16, min: 15, max: 17, spreadPct: 12.5 });
  assert.equal(hono!.cpuRatio, 0.5);
  assert.deepEqual(hono!.cpuRatioRounds, { min: 0.5, max: 7.5 / 15 });
  assert.match(
    hono!.verdict,
    /^\*\*tsgi cheaper\*\* per request in every round; client-bound: tsgi \(req\/s a floor\)$/,
  );
});

test('a client-bound tsgi point gives a floor, never a slower server; the warm-up is not counted', () => {
  const [hono] = versusRows(sample());
  assert.equal(hono!.tsgi.clientBound, true);
  assert.equal(hono!.rpsBound, 'floor');
  assert.equal(hono!.tsgi.rps, 92_000);
  const slowTsgi = report([
    point('tsgi/hono/p1-t1-a1/http', 'tsgi', 'hono', [run(1, 50_000, 8, 0.97), run(2, 50_000, 8), run(3, 50_000, 8)]),
    point('own/hono', 'own', 'hono', [run(1, 60_000, 16), run(2, 60_000, 16), run(3, 60_000, 16)]),
  ]);
  const md = renderVersus(slowTsgi).join('\n');
  assert.match(md, /\| ≥ 50,000 \| 60,000 \| ≥ 0\.83× \|/);
  const ownBound = report([
    point('tsgi/hono/p1-t1-a1/http', 'tsgi', 'hono', [run(1, 50_000, 8), run(2, 50_000, 8), run(3, 50_000, 8)]),
    point('own/hono', 'own', 'hono', [run(1, 100_000, 6, 0.99), run(2, 100_000, 6), run(3, 100_000, 6)]),
  ]);
  const [row] = versusRows(ownBound);
  assert.equal(row!.rpsBound, 'ceiling');
  assert.match(row!.verdict, /^\*\*tsgi costlier\*\* per request in every round; client-bound: own server/);
});

test('an erroring tsgi point is reported as an error with its reason, with no ratio', () => {
  const express = versusRows(sample())[1]!;
  assert.equal(express.tsgi.status, 'error');
  assert.equal(express.tsgi.us, null);
  assert.equal(express.cpuRatio, null);
  assert.equal(express.verdict, 'tsgi error: could not start or check: unexpected answer: status 500');
  const md = renderVersus(sample()).join('\n');
  assert.match(
    md,
    /\| `express` \| tsgi\/express\/p1-t1-a1\/http \| – \| express own server \| \*\*50\.0\*\* \(48\.0 – 52\.0\) \| – \| error \| 20,000 \| – \| tsgi error: /,
  );
});

test('rounds that disagree are not distinguishable; one round is not established', () => {
  assert.equal(versusRows(sample())[2]!.verdict, 'not distinguishable: the rounds disagree');
  const one = report(
    [
      point('tsgi/koa/p1-t1-a1/http', 'tsgi', 'koa', [run(1, 30_000, 20)]),
      point('own/koa', 'own', 'koa', [run(1, 30_000, 40)]),
    ],
    1,
  );
  assert.equal(versusRows(one)[0]!.verdict, 'tsgi cheaper per request (one round: not established)');
});

test('the Markdown report opens with the section and one row per tsgi point, as many cells as the header', () => {
  const md = renderMarkdown(sample());
  assert.match(md, /## Real apps against their own servers\n/);
  assert.ok(md.indexOf('## Real apps against their own servers') < md.indexOf('## `hono`'));
  const lines = md.split('\n');
  const head = lines.find((l) => l.startsWith('| app | tsgi point |'))!;
  const rows = lines.filter((l) => /^\| `(hono|express|koa)` \|/.test(l));
  assert.equal(rows.length, 3);
  for (const r of rows) assert.equal(r.split(' | ').length, head.split(' | ').length, r);
  assert.match(
    rows[0]!,
    /\| \*\*8\.0\*\* \(7\.5 – 8\.5\) \| hono own server \| \*\*16\.0\*\* \(15\.0 – 17\.0\) \| \*\*0\.50\*\* \(0\.50 – 0\.50\) \| ≥ 92,000 \| 60,000 \| ≥ 1\.53× \|/,
  );
});

test('a run without own-server points has no such section', () => {
  const r = report([point('tsgi/hono/p1-t1-a1/http', 'tsgi', 'hono', [run(1, 1000, 5)])]);
  assert.deepEqual(renderVersus(r), []);
  assert.doesNotMatch(renderMarkdown(r), /against their own servers/);
});

test('a point that dropped requests is called out in its row, beside its figures', () => {
  const r = report([
    point('tsgi/hono/p1-t1-a1/http', 'tsgi', 'hono', [
      run(1, 9000, 60, 0.4, { errors: { connect: 0, read: 2, write: 0, timeout: 88, non2xx: 0 } }),
      run(2, 9000, 61, 0.4),
      run(3, 9000, 59, 0.4),
    ]),
    point('own/hono', 'own', 'hono', [run(1, 30_000, 20), run(2, 30_000, 21), run(3, 30_000, 19)]),
  ]);
  const [row] = versusRows(r);
  assert.equal(row!.tsgi.failures, '2 errors, 88 timeouts');
  assert.match(row!.verdict, /; \*\*tsgi failed requests: 2 errors, 88 timeouts\*\*$/);
  assert.equal(row!.own.failures, '');
});

test('--report names a results file to print again', () => {
  assert.equal(parseBenchArgs(['--report', 'bench/results/x.json']).report, 'bench/results/x.json');
  assert.throws(() => parseBenchArgs(['--report']), /--report needs a value/);
});
