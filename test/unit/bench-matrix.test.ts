// tsgi bench: the --matrix parser, its cartesian product, --only, the argument parser and where
// results go.

import * as assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  parseBenchArgs,
  planPoints,
  QUICK_MATRIX,
  resultsDir,
  STANDARD_MATRIX,
  USAGE,
  UsageError,
} from '../../src/bench/cli';
import {
  defaultMatrix,
  expandMatrix,
  formatMatrix,
  MatrixError,
  parseMatrix,
  selectOnly,
  tsgiPointId,
} from '../../src/bench/matrix';
import { tsgiArgv } from '../../src/bench/points';

function rejects(tokens: string[], message: RegExp): void {
  assert.throws(
    () => parseMatrix(tokens),
    (err: unknown) => {
      assert.ok(err instanceof MatrixError);
      assert.match(err.message, message);
      return true;
    },
  );
}

test("the issue's example matrix expands to the 16-point cartesian product", () => {
  const m = parseMatrix(['processes=1,2', 'threads=1,2', 'async=1,100', 'protocol=http,uwsgi']);
  assert.deepEqual(m, {
    app: ['hello'],
    processes: [1, 2],
    threads: [1, 2],
    async: [1, 100],
    protocol: ['http', 'uwsgi'],
  });
  const pts = expandMatrix(m);
  assert.equal(pts.length, 16);
  assert.equal(new Set(pts.map(tsgiPointId)).size, 16);
  assert.deepEqual(pts[0], { app: 'hello', processes: 1, threads: 1, async: 1, protocol: 'http' });
  assert.deepEqual(pts[1], { app: 'hello', processes: 1, threads: 1, async: 100, protocol: 'http' });
  assert.equal(tsgiPointId(pts[15]!), 'tsgi/hello/p2-t2-a100/uwsgi');
});

test('terms may come as one quoted string and dimensions not given keep their defaults', () => {
  assert.deepEqual(parseMatrix(['threads=2 protocol=uwsgi']), {
    ...defaultMatrix(),
    threads: [2],
    protocol: ['uwsgi'],
  });
  assert.deepEqual(parseMatrix(['app=json,cpu']).app, ['json', 'cpu']);
});

test('formatMatrix gives back a --matrix argument that parses to the same matrix', () => {
  const m = parseMatrix([STANDARD_MATRIX]);
  assert.deepEqual(parseMatrix([formatMatrix(m)]), m);
  assert.equal(expandMatrix(m).length, 5 * 16);
});

test('unknown dimensions and malformed terms are refused with the term named', () => {
  rejects(['proc=1'], /unknown matrix dimension "proc" \(known: app, processes, threads, async, protocol\)/);
  rejects(['processes'], /matrix term "processes" is not NAME=V1,V2/);
  rejects(['=1'], /is not NAME=V1,V2/);
  rejects([], /needs at least one/);
  rejects(['threads=1', 'threads=2'], /threads given twice/);
});

test('values are validated per dimension', () => {
  rejects(['processes=0'], /processes=0: must be from 1 to 256/);
  rejects(['threads=1.5'], /threads=1.5: not a whole number/);
  rejects(['async=-1'], /async=-1: not a whole number/);
  rejects(['async=20000'], /async=20000: must be from 1 to 10000/);
  rejects(['processes=1,,2'], /empty value/);
  rejects(['processes='], /empty value/);
  rejects(['threads=1,1'], /a value is repeated/);
  rejects(['protocol=https'], /protocol=https: unknown protocol \(known: http, uwsgi, fastcgi, scgi, router\)/);
  rejects(['app=mine'], /app=mine: unknown bench app .*--wsgi-file/);
});

test('--only keeps the points whose id contains a term, and refuses a term that matches nothing', () => {
  const pts = ['tsgi/hello/p1-t1-a1/http', 'tsgi/hello/p1-t1-a1/uwsgi', 'node-http/hello', 'uws/hello'].map((id) => ({
    id,
  }));
  assert.deepEqual(
    selectOnly(pts, 'tsgi').map((p) => p.id),
    ['tsgi/hello/p1-t1-a1/http', 'tsgi/hello/p1-t1-a1/uwsgi'],
  );
  assert.deepEqual(
    selectOnly(pts, '/uwsgi,uws').map((p) => p.id),
    ['tsgi/hello/p1-t1-a1/uwsgi', 'uws/hello'],
  );
  assert.equal(selectOnly(pts, undefined).length, 4);
  assert.throws(() => selectOnly(pts, 'tsgi,nginx'), /--only nginx: matches no point/);
});

test('argument parser: --matrix takes the NAME=V terms that follow it, --compare two files', () => {
  const o = parseBenchArgs([
    '--matrix',
    'processes=1,2',
    'threads=1,2',
    '--duration',
    '2',
    '--compare',
    'a.json',
    'b.json',
  ]);
  assert.deepEqual(o.matrixTerms, ['processes=1,2', 'threads=1,2']);
  assert.equal(o.duration, 2);
  assert.deepEqual(o.compare, ['a.json', 'b.json']);
  assert.equal(parseBenchArgs(['--rounds=5']).rounds, 5);
  assert.equal(parseBenchArgs(['--wsgi-file', 'x.js', '--callable', 'app']).callable, 'app');
});

test('argument parser: bad values and combinations are usage errors', () => {
  const bad: [string[], RegExp][] = [
    [['--frobnicate'], /unknown option --frobnicate/],
    [['--duration', '0'], /--duration 0: must be from 1/],
    [['--rounds', 'x'], /--rounds needs a whole number/],
    [['--connections'], /--connections needs a value/],
    [['--matrix'], /--matrix needs NAME=V1,V2 terms/],
    [['--compare', 'a.json'], /--compare needs two files/],
    [['--standard', '--quick'], /exclude each other/],
    [['--wsgi-file', 'a.js', '--module', 'b'], /not both/],
    [['--wsgi-file', 'a.js', '--app', 'json'], /cannot be combined/],
    [['--callable', 'x'], /--callable needs --wsgi-file or --module/],
    [['--pin', 'maybe'], /--pin maybe: auto or off/],
    [['--list=yes'], /--list takes no value/],
    [['--connections', '--rounds', '3'], /--connections needs a value/],
    [['stray'], /unknown option stray/],
  ];
  for (const [args, re] of bad)
    assert.throws(
      () => parseBenchArgs(args),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      args.join(' '),
    );
});

test('planPoints: the default run is hello on one tsgi configuration plus the baselines', () => {
  const ids = planPoints(parseBenchArgs([])).points.map((p) => p.id);
  assert.deepEqual(ids, ['tsgi/hello/p1-t1-a1/http', 'node-http/hello', 'uws/hello']);
});

test('planPoints: --quick uses only configurations tsgi runs today (1 process; 1 and 2 threads), HTTP and through nginx', () => {
  const { points } = planPoints(parseBenchArgs(['--quick']));
  assert.equal(QUICK_MATRIX, 'app=hello processes=1 threads=1,2 async=1 protocol=http,uwsgi');
  assert.deepEqual(
    points.map((p) => p.id),
    [
      'tsgi/hello/p1-t1-a1/http',
      'tsgi/hello/p1-t2-a1/http',
      'tsgi/hello/p1-t1-a1/uwsgi',
      'tsgi/hello/p1-t2-a1/uwsgi',
      'node-http/hello',
      'uws/hello',
      'uwsgi/hello/p1',
    ],
  );
});

test('planPoints: processes > 1 brings node:cluster and uWSGI with as many processes', () => {
  const ids = planPoints(parseBenchArgs(['--matrix', 'processes=1,2', 'protocol=http,uwsgi', 'app=cpu'])).points.map(
    (p) => p.id,
  );
  assert.ok(ids.includes('node-cluster/cpu/p2'));
  assert.ok(ids.includes('uwsgi/cpu/p2'));
  assert.ok(!ids.includes('node-cluster/cpu/p1'));
});

test("planPoints: protocol=router runs tsgi behind its --http router, beside uWSGI's router", () => {
  const { points } = planPoints(parseBenchArgs(['--matrix', 'protocol=router', 'processes=1,2']));
  const ids = points.map((p) => p.id);
  assert.ok(ids.includes('tsgi/hello/p2-t1-a1/router'));
  assert.ok(ids.includes('uwsgi-router/hello/p2'));
  const tsgi = points.find((p) => p.id === 'tsgi/hello/p1-t1-a1/router')!;
  assert.equal(tsgiArgv(tsgi, tsgi.app, 8000, false)[2], '--http');
});

test('planPoints: a custom app has tsgi points only, with its own loading options', () => {
  const { points } = planPoints(parseBenchArgs(['--wsgi-file', 'examples/foobar.js', '--matrix', 'async=1,10']));
  assert.deepEqual(
    points.map((p) => p.id),
    ['tsgi/custom/p1-t1-a1/http', 'tsgi/custom/p1-t1-a10/http'],
  );
  assert.deepEqual(points[0]!.app.tsgiArgs, ['--wsgi-file', 'examples/foobar.js']);
  assert.equal(points[0]!.app.expect, null);
  assert.throws(
    () => planPoints(parseBenchArgs(['--wsgi-file', 'a.js', '--matrix', 'app=json'])),
    /not with --wsgi-file/,
  );
});

test('results go under the system temporary directory unless --out names a directory, never into the checkout by default', () => {
  const dflt = resultsDir(parseBenchArgs([]));
  assert.equal(dflt, path.join(tmpdir(), 'tsgi-bench-results'));
  assert.ok(!dflt.startsWith(path.resolve(__dirname, '..', '..') + path.sep), dflt);
  assert.equal(resultsDir(parseBenchArgs(['--out', 'bench/results'])), 'bench/results');
  assert.match(USAGE, /--out DIR .*\[.*tsgi-bench-results\]/);
});
