// The stats emitter reproduces uWSGI 2.0's bytes: every sample captured from uWSGI 2.0.21
// (test/fixtures/uwsgi-stats/) is parsed, rebuilt from its values and compared byte for byte (tabs,
// newlines, empty lists, column-0 strings, no trailing newline). Strings are escaped where
// uWSGI writes them raw, so odd paths still give valid JSON.

import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { emitStats, type StatsObject } from '../../src/stats/emitter';
import { STATS_HTTP_HEAD } from '../../src/stats/server';

function sample(name: string): string {
  return readFileSync(path.join(__dirname, '..', 'fixtures', 'uwsgi-stats', name), 'latin1');
}

function roundTrip(name: string, minified: boolean): void {
  const raw = sample(name);
  const rebuilt = emitStats(JSON.parse(raw) as StatsObject, { minified });
  assert.equal(Buffer.from(rebuilt, 'latin1').equals(Buffer.from(raw, 'latin1')), true, firstDifference(rebuilt, raw));
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `differs at byte ${i}: got ${JSON.stringify(a.slice(Math.max(0, i - 40), i + 40))}, want ${JSON.stringify(b.slice(Math.max(0, i - 40), i + 40))}`;
}

test('the 2 workers x 2 threads sample (one request in flight) is rebuilt byte for byte', () => {
  roundTrip('uwsgi-stats-sample.json', false);
});

test('the --stats-minified sample is rebuilt byte for byte', () => {
  roundTrip('uwsgi-stats-sample-minified.json', true);
});

test('the sample with every optional section (daemons, caches, metrics, spoolers, crons) is rebuilt byte for byte', () => {
  roundTrip('uwsgi-stats-sample-full.json', false);
});

test('the HTTP router stats sample (bare strings in a list) is rebuilt byte for byte', () => {
  roundTrip('uwsgi-http-router-stats-sample.json', false);
});

test('--stats-http: head bytes and the document follow uWSGI capture exactly', () => {
  const raw = sample('uwsgi-stats-sample-http-response.txt');
  assert.ok(raw.startsWith(STATS_HTTP_HEAD), 'HTTP head');
  const body = raw.slice(STATS_HTTP_HEAD.length);
  assert.equal(STATS_HTTP_HEAD + emitStats(JSON.parse(body) as StatsObject), raw);
});

test('formatting rules: empty list and object, object after a key, no trailing newline', () => {
  const doc = { a: 1, l: [], o: {}, s: ['x'], n: [{ k: 'v' }] };
  assert.equal(
    emitStats(doc),
    '{\n\t"a":1,\n\t"l":[\n\n\t],\n\t"o":\t{\n\n\t},\n\t"s":[\n"x"\n\t],\n\t"n":[\n\t\t{\n\t\t\t"k":"v"\n\t\t}\n\t]\n}',
  );
  assert.equal(emitStats(doc, { minified: true }), '{"a":1,"l":[],"o":{},"s":["x"],"n":[{"k":"v"}]}');
});

test('negative integers (cron fields) and uint64-sized counters are written as decimals', () => {
  assert.equal(emitStats({ a: -1, b: 2 ** 53 - 1 }, { minified: true }), '{"a":-1,"b":9007199254740991}');
});

test('a Map keeps index-like keys in insertion order', () => {
  const doc = new Map<string, number>([
    ['2', 2],
    ['1', 1],
  ]);
  assert.equal(emitStats(doc, { minified: true }), '{"2":2,"1":1}');
});

test('strings are escaped: a cwd with " and \\ and control bytes still parses', () => {
  const cwd = 'C:\\srv\\"quoted"\tdir\n\u0001';
  const vars = ['HTTP_X=a"b\\c', 'HTTP_Y=\u00e9\u2603', ''];
  const out = emitStats({ version: 'v', cwd, workers: [{ cores: [{ vars }] }] });
  const parsed = JSON.parse(out) as { cwd: string; workers: { cores: { vars: string[] }[] }[] };
  assert.equal(parsed.cwd, cwd);
  assert.deepEqual(parsed.workers[0]!.cores[0]!.vars, vars);
  // Escaping introduces no raw control characters besides the emitter's own \n and \t.
  assert.doesNotMatch(out.replace(/[\n\t]/g, ''), /[\u0000-\u001f]/);
  const min = emitStats({ cwd }, { minified: true });
  assert.equal((JSON.parse(min) as { cwd: string }).cwd, cwd);
});

test('a key with " or \\ is escaped too', () => {
  const key = 'spooler on /a"b\\c';
  const out = emitStats({ locks: [{ [key]: 0 }] });
  assert.deepEqual(JSON.parse(out), { locks: [{ [key]: 0 }] });
});
