#!/usr/bin/env node
// The cheaper subsystem under a load step (docs/master.md, "Cheaper"): tsgi with
// `--processes 4 --cheaper 1 --cheaper-initial 1 --cheaper-overload 1` serving a fixture that
// answers /slow?MS after MS milliseconds, idle, then CONCURRENCY clients looping on slow
// requests for HOLD seconds, then idle again. For each algorithm it measures, from the
// master's log (each line timestamped as it arrives):
//   first spawn   load start -> the first "spawned tsgi worker" line after it
//   all running   load start -> the stats document showing 4 workers not cheap
//   back to one   load end   -> the stats document showing 1 worker not cheap
// and counts the requests served and failed over the whole run (the load step and one
// request a second during the scale-down).
//
// Usage: node bench/cheaper-step.mjs [spare busyness backlog]
//   CONCURRENCY=8 SLOW_MS=200 HOLD=10 RUNS=1 OUT=bench/results/cheaper-step-<time>.json
// Busyness runs with --cheaper-busyness-multiplier 1 (retire after one idle period) and
// backlog with its --cheaper-overload 1 (a queue of 2 or more spawns).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const APP = path.join(ROOT, 'test', 'fixtures', 'apps', 'master-pid.js');
const ALGOS = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['spare', 'busyness', 'backlog'];
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const SLOW_MS = Number(process.env.SLOW_MS ?? 200);
const HOLD = Number(process.env.HOLD ?? 10);
const RUNS = Number(process.env.RUNS ?? 1);
const stamp = new Date()
  .toISOString()
  .replace(/[-:]/g, '')
  .replace(/\.\d+Z$/, 'Z');
const OUT = process.env.OUT ?? path.join(ROOT, 'bench', 'results', `cheaper-step-${stamp}.json`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function get(port, p) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? null : `status ${res.statusCode}`));
    });
    req.on('error', (e) => resolve(e.message));
    req.setTimeout(30000, () => req.destroy(new Error('timeout')));
  });
}

function stats(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let d = '';
    s.on('data', (b) => (d += b));
    s.on('end', () => resolve(JSON.parse(d)));
    s.on('error', reject);
  });
}

async function running(port) {
  return (await stats(port)).workers.filter((w) => w.status !== 'cheap').length;
}

async function waitUntil(fn, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(50);
  }
  return false;
}

async function one(algo) {
  const extra =
    algo === 'busyness'
      ? ['--cheaper-algo', 'busyness', '--cheaper-busyness-multiplier', '1']
      : ['--cheaper-algo', algo];
  const proc = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'tsgi.js'),
      '--http-socket',
      '127.0.0.1:0',
      '--stats',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--processes',
      '4',
      '--cheaper',
      '1',
      '--cheaper-initial',
      '1',
      '--cheaper-overload',
      '1',
      '--disable-logging',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines = [];
  let buf = '';
  const onData = (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push({ t: performance.now(), line: buf.slice(0, i) });
      buf = buf.slice(i + 1);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const find = (re, after = 0) => lines.find((l) => l.t >= after && re.test(l.line));
  try {
    if (
      !(await waitUntil(() => lines.filter((l) => /ready in/.test(l.line)).length >= 2 && find(/Stats server/), 60000))
    )
      throw new Error('tsgi did not start');
    const port = Number(/bound to TCP address 127\.0\.0\.1:(\d+)/.exec(find(/bound to TCP/).line)[1]);
    const statsPort = Number(/127\.0\.0\.1:(\d+) fd/.exec(find(/Stats server/).line)[1]);
    await sleep(2000);
    const failures = [];
    let served = 0;
    let loading = true;
    const start = performance.now();
    let allRunning = null;
    const clients = Array.from({ length: CONCURRENCY }, async () => {
      while (loading) {
        const err = await get(port, `/slow?${SLOW_MS}`);
        if (err) failures.push(err);
        else served++;
      }
    });
    const watch = (async () => {
      while (loading && allRunning === null) {
        if ((await running(statsPort)) === 4) allRunning = performance.now() - start;
        await sleep(50);
      }
    })();
    await sleep(HOLD * 1000);
    loading = false;
    await Promise.all([...clients, watch]);
    const end = performance.now();
    const firstSpawn = find(/spawned tsgi worker/, start);
    let back = null;
    // One request a second while the workers are retired.
    await waitUntil(async () => {
      const err = await get(port, '/');
      if (err) failures.push(err);
      else served++;
      if ((await running(statsPort)) === 1) {
        back = performance.now() - end;
        return true;
      }
      await sleep(1000);
      return false;
    }, 120000);
    const spawned = lines.filter((l) => l.t >= start && /spawned tsgi worker/.test(l.line)).length;
    const cheaped = lines.filter((l) => /tsgi worker \d cheaped\./.test(l.line)).length;
    return {
      algo,
      firstSpawnMs: firstSpawn ? Math.round(firstSpawn.t - start) : null,
      allRunningMs: allRunning === null ? null : Math.round(allRunning),
      backToOneMs: back === null ? null : Math.round(back),
      spawned,
      cheaped,
      served,
      failed: failures.length,
      failures: failures.slice(0, 5),
      damn: lines.filter((l) => /DAMN/.test(l.line)).map((l) => l.line),
    };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.on('exit', r));
  }
}

const results = [];
for (let run = 1; run <= RUNS; run++) {
  for (const algo of ALGOS) {
    const r = await one(algo);
    results.push({ run, ...r });
    console.log(JSON.stringify({ run, ...r }));
  }
}
const fmt = (v) => (v === null ? 'never' : `${(v / 1000).toFixed(2)} s`);
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const md = [
  `CONCURRENCY=${CONCURRENCY} SLOW_MS=${SLOW_MS} HOLD=${HOLD}, load average at the end: ${load}`,
  '',
  '| run | algo | first spawn | all 4 running | back to 1 after the load | spawned | cheaped | served | failed |',
  '|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.run} | ${r.algo} | ${fmt(r.firstSpawnMs)} | ${fmt(r.allRunningMs)} | ${fmt(r.backToOneMs)} | ${r.spawned} | ${r.cheaped} | ${r.served} | ${r.failed} |`,
  ),
].join('\n');
console.log(`\n${md}`);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  JSON.stringify(
    { date: new Date().toISOString(), concurrency: CONCURRENCY, slowMs: SLOW_MS, hold: HOLD, loadavg: load, results },
    null,
    2,
  ) + '\n',
);
console.log(`\nwritten to ${path.relative(ROOT, OUT)}`);
