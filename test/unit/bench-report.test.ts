// tsgi bench: the report writer (Markdown table, SVG chart, JSON schema), the per-point summary
// and --compare's significance test, on synthetic runs.

import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { comparePoints, loadReport, renderComparison } from '../../src/bench/compare';
import { renderMarkdown, renderSvg, writeReport } from '../../src/bench/report';
import { summarise } from '../../src/bench/run';
import { type PointRecord, type Report, type RunRecord, SCHEMA, validateReport } from '../../src/bench/schema';

function run(round: number, rps: number, extra: Partial<RunRecord> = {}): RunRecord {
  const requests = rps * 10;
  return {
    round,
    rps,
    requests,
    durationS: 10,
    bytesPerS: rps * 120,
    latencyMs: { avg: 1 + round / 10, max: 20, p50: 1, p90: 2, p99: 4 + round, stdev: null },
    errors: { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 },
    clientCpu: 0.5,
    serverCpu: {
      server: { seconds: 9.5, cpus: 0.95, usPerRequest: 9.5e6 / requests },
      total: { seconds: 9.5, cpus: 0.95, usPerRequest: 9.5e6 / requests },
    },
    wallS: 10,
    otherCpu: 0.01,
    steal: 0,
    ...extra,
  };
}

function point(
  id: string,
  kind: string,
  label: string,
  rounds: number[],
  extra: Partial<PointRecord> = {},
): PointRecord {
  const p: PointRecord = {
    id,
    kind,
    label,
    app: 'hello',
    processes: 1,
    threads: 1,
    async: 1,
    protocol: 'http',
    status: 'ok',
    reason: null,
    serverCommands: [`node server.mjs # ${id}`],
    clientCommand: 'autocannon -c 100 -d 10 http://127.0.0.1:1/',
    load: { connections: 100, pipelining: 1, workers: 0 },
    notes: [],
    peakRssKb: { server: 80 * 1024 },
    runs: [{ ...run(0, rounds[0]!), warmup: true }, ...rounds.map((r, i) => run(i + 1, r))],
    summary: null,
    ...extra,
  };
  if (p.status === 'ok') p.summary = summarise(p, 1, 1);
  return p;
}

function report(points: PointRecord[]): Report {
  return {
    schema: SCHEMA,
    startedAt: '2026-11-26T15:00:00.000Z',
    finishedAt: '2026-11-26T15:05:00.000Z',
    gitCommit: '0123456789abcdef',
    command: 'tsgi bench --rounds 3',
    settings: {
      quick: false,
      rounds: 3,
      durationS: 10,
      warmupS: 5,
      connections: 100,
      pipelining: 1,
      workers: 0,
      push: true,
      logging: false,
      matrix: 'app=hello processes=1 threads=1 async=1 protocol=http',
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
    apps: [{ name: 'hello', description: 'hello world' }],
    points,
    crossCheck: null,
  };
}

const sample = (): Report =>
  report([
    point('tsgi/hello/p1-t1-a1/http', 'tsgi', 'tsgi 1 proc <fast> & co', [100_000, 110_000, 90_000]),
    point('node-http/hello', 'node-http', 'node:http, 1 process', [50_000, 52_000, 48_000], {
      runs: [run(1, 50_000, { clientCpu: 0.95 }), run(2, 52_000), run(3, 48_000)],
    }),
    point('uwsgi/hello/p1', 'uwsgi', 'nginx → uWSGI', [], {
      status: 'skipped',
      reason: 'uwsgi is not installed (apt-get install uwsgi)',
      runs: [],
    }),
  ]);

test('summary: medians of the counted rounds, warm-up excluded, with min–max and spread', () => {
  const p = sample().points[0]!;
  const s = p.summary!;
  assert.equal(s.runs, 3);
  assert.deepEqual(s.rps, { median: 100_000, min: 90_000, max: 110_000, spreadPct: 20 });
  assert.equal(s.latencyMs.p99, 6);
  assert.equal(s.serverUsPerRequest, 9.5e6 / 1_000_000);
  assert.equal(s.peakRssMiB, 80);
  assert.equal(s.saturation.limit, 'server');
});

test('summary: a client at 95 % in one round marks the point client-bound', () => {
  assert.equal(sample().points[1]!.summary!.saturation.limit, 'client');
});

test('Markdown: one table per app, figures, the skipped reason, the client check and the commands', () => {
  const md = renderMarkdown(sample());
  assert.match(md, /^# tsgi bench, 2026-11-26 15:00 UTC/);
  assert.match(md, /Machine: Test CPU, 2 cores, 4 GiB/);
  assert.match(md, /Command: `tsgi bench --rounds 3`/);
  assert.match(md, /## `hello`: hello world/);
  assert.match(md, /\| point \| req\/s \| min – max \(spread\) \| p50 \/ p90 \/ p99 \/ max ms \|/);
  assert.match(
    md,
    /\| tsgi 1 proc <fast> & co \| \*\*100,000\*\* \| 90\.0 k – 110\.0 k \(20\.0 %\) \| 1\.00 \/ 2\.00 \/ 6\.00 \/ 20 \|/,
  );
  assert.match(md, /\| nginx → uWSGI \| skipped \|.*uwsgi is not installed/);
  assert.match(md, /\*\*client-bound\*\* \(95 % of its CPU\)/);
  assert.match(md, /\*\*Client check:\*\* autocannon used ≥ 90 % of its CPU for node-http\/hello/);
  assert.match(md, /- \*\*uwsgi\/hello\/p1\*\* — skipped: uwsgi is not installed/);
  // Rows have as many cells as the header.
  const rows = md.split('\n').filter((l) => l.startsWith('| tsgi') || l.startsWith('| node'));
  for (const r of rows) assert.equal(r.split(' | ').length, 11, r);
});

test('SVG: well-formed, one bar and one whisker per measured point, labels escaped, skipped rows written out', () => {
  const svg = renderSvg(sample());
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960" height="\d+"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes('tsgi 1 proc &lt;fast&gt; &amp; co'));
  assert.ok(!svg.includes('<fast>'));
  assert.equal((svg.match(/fill="#2f6fd6"\/>/g) ?? []).length, 2); // tsgi bar + legend
  assert.match(svg, /skipped: uwsgi is not installed/);
  assert.match(svg, /100\.0 k/);
  assert.match(svg, />≥ 50\.0 k</);
  // The fastest point's bar spans the full width at its max: 110 k → 380 px; median 100 k → 345.5 px.
  assert.match(svg, /<rect x="310" y="\d+" width="345\.5" height="14"/);
  // Balanced tags (no nesting beyond <svg>): every <text> is closed.
  assert.equal((svg.match(/<text/g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length);
});

test('JSON schema: a written report validates; broken ones name what is wrong', () => {
  assert.deepEqual(validateReport(sample()), []);
  assert.deepEqual(validateReport(null), ['not a JSON object']);
  const bad = JSON.parse(JSON.stringify(sample())) as Record<string, unknown> & { points: Record<string, unknown>[] };
  bad['schema'] = 'other/1';
  bad.points[0]!['status'] = 'fine';
  bad.points[1]!['summary'] = null;
  bad.points[2]!['reason'] = null;
  delete (bad['machine'] as Record<string, unknown>)['cores'];
  const errs = validateReport(bad);
  assert.ok(errs.includes('schema is "other/1", expected tsgi-bench/1'));
  assert.ok(errs.includes('points[0].status: "fine"'));
  assert.ok(errs.includes('points[1].summary: missing for an ok point'));
  assert.ok(errs.includes('points[2].reason: a skipped point needs a reason'));
  assert.ok(errs.includes('machine.cores: not a number'));
});

test('writeReport writes .json, .md and .svg; the JSON reads back through loadReport', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-bench-report-'));
  const w = writeReport(sample(), dir);
  assert.deepEqual(readdirSync(dir).sort(), [
    'bench-2026-11-26T150000Z.json',
    'bench-2026-11-26T150000Z.md',
    'bench-2026-11-26T150000Z.svg',
  ]);
  assert.equal(readFileSync(w.md, 'utf8'), w.markdown);
  assert.match(w.markdown, /Raw figures: `bench-2026-11-26T150000Z\.json`/);
  const back = loadReport(w.json);
  assert.deepEqual(back, JSON.parse(JSON.stringify(sample())));
  rmSync(dir, { recursive: true, force: true });
});

test('--compare: a 30 % gain over 3 tight rounds is significant; noise is not; one round gets no test', () => {
  const old = report([
    point('a', 'tsgi', 'A', [100_000, 101_000, 99_000]),
    point('b', 'tsgi', 'B', [100_000, 120_000, 80_000]),
    point('c', 'tsgi', 'C', [100_000]),
  ]);
  const neu = report([
    point('a', 'tsgi', 'A', [130_000, 131_000, 129_000]),
    point('b', 'tsgi', 'B', [102_000, 125_000, 78_000]),
    point('c', 'tsgi', 'C', [150_000]),
    point('d', 'tsgi', 'D', [1_000, 1_100, 900]),
  ]);
  const rows = comparePoints(old, neu);
  const by = Object.fromEntries(rows.map((r) => [r.id, r]));
  assert.ok(Math.abs(by['a']!.medianDiffPct! - 30) < 1e-9);
  assert.match(by['a']!.verdict, /^new is faster \(p = /);
  assert.equal(by['a']!.test!.requests.difference, '30%');
  assert.match(by['b']!.verdict, /^no significant difference/);
  assert.equal(by['c']!.verdict, 'fewer than 2 rounds on a side: no significance test');
  assert.equal(by['d']!.verdict, 'only measured in new');
  const text = renderComparison('old.json', 'new.json', old, neu, rows);
  assert.match(text, /\| a \| 100,000 \| 130,000 \| \+30\.0 % \| 30%, p /);
});

test('Markdown: the method says how disturbed runs were treated, without "up to 0 times" when none are repeated', () => {
  const r = sample();
  r.settings.retries = 0;
  const none = renderMarkdown(r);
  assert.match(none, /runs during which other work used more than 0\.15 CPU were kept, not repeated \(--retries 0\)/);
  assert.doesNotMatch(none, /up to 0 times/);
  r.settings.retries = 1;
  assert.match(renderMarkdown(r), /were repeated \(up to 1 time\);/);
  r.settings.retries = 2;
  assert.match(renderMarkdown(r), /were repeated \(up to 2 times\);/);
});
