#!/usr/bin/env node
// Rolling deploys under a longer steady load (docs/deploy-rolling.md): three tsgi hosts, each
// `--master --processes 2` in its own network namespace, behind one nginx upstream
// (src/bench/rolling/). For each scenario: load for STEADY seconds, then version 2 is deployed
// host by host (the next host once nginx sends load to the previous one again), then AFTER
// seconds more. Beside CONCURRENCY GET loops (keep-alive to nginx), POSTS loops send POSTs, each
// on a new connection. Prints, for the requests sent before, during and after the deploy:
// requests, failures, req/s, p50/p99/max latency of the GETs, and the POSTs that failed.
// Scenarios run interleaved (a b d a b d …) RUNS times.
//   a  uwsgi_pass, SIGHUP host by host
//   b  proxy_pass to --http-socket (upstream keepalive), --touch-chain-reload host by host
//   c  fastcgi_pass, fastcgi_keep_conn + upstream keepalive, SIGHUP host by host
//   d  uwsgi_pass, full restart host by host (SIGTERM, wait for exit, new master)
//   f  as d, each host marked `down` in nginx (nginx reloaded) for the time of its restart; the
//      GET loops open a new connection per request too (a reload of nginx closes idle
//      keep-alive connections to clients, a race no client of this bench retries)
//
// Usage (root: network namespaces; needs nginx, iproute2; `npx tsc` first, it runs dist/):
//   node bench/rolling-deploy.mjs [a b c d f]     default: a b d f
//   STEADY=10 AFTER=5 CONCURRENCY=8 POSTS=2 RUNS=3 OUT=bench/results/rolling-deploy-<time>.json
//   FAIL_TIMEOUT=2 (nginx's fail_timeout, seconds); WAIT_ROTATION=0 moves on to the next host as
//   soon as this one serves the new code, without waiting for nginx to send it requests again

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from '../dist/bench/rolling/cluster.js';
import { formatSummary, startLoad, summarize } from '../dist/bench/rolling/load.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCENARIOS = {
  a: { pass: 'uwsgi', kind: 'sighup', label: 'uwsgi_pass + SIGHUP' },
  b: { pass: 'http', kind: 'chain', chain: true, label: 'proxy_pass + chain reload' },
  c: { pass: 'fastcgi', kind: 'sighup', label: 'fastcgi_pass keep-conn + SIGHUP' },
  d: { pass: 'uwsgi', kind: 'restart', label: 'uwsgi_pass + full restart' },
  f: { pass: 'uwsgi', kind: 'restart', drain: true, label: 'uwsgi_pass + drained full restart' },
};
const picked = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['a', 'b', 'd', 'f'];
for (const s of picked) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s} (a b c d f)`);
const STEADY = Number(process.env.STEADY ?? 10);
const AFTER = Number(process.env.AFTER ?? 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const POSTS = Number(process.env.POSTS ?? 2);
const FAIL_TIMEOUT = Number(process.env.FAIL_TIMEOUT ?? 2);
const WAIT_ROTATION = process.env.WAIT_ROTATION !== '0';
const RUNS = Number(process.env.RUNS ?? 3);
const stamp = new Date()
  .toISOString()
  .replace(/[-:]/g, '')
  .replace(/\.\d+Z$/, 'Z');
const OUT = process.env.OUT ?? path.join(ROOT, 'bench', 'results', `rolling-deploy-${stamp}.json`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runOnce(key) {
  const sc = SCENARIOS[key];
  const c = await Cluster.start({ pass: sc.pass, chain: sc.chain, failTimeout: FAIL_TIMEOUT });
  const load = startLoad({ socketPath: c.nginxSocket, concurrency: CONCURRENCY, keepAlive: !sc.drain });
  const posts =
    POSTS > 0 ? startLoad({ socketPath: c.nginxSocket, concurrency: POSTS, method: 'POST', keepAlive: false }) : null;
  try {
    await load.waitGood(0, 50);
    const steadyFrom = performance.now();
    await sleep(STEADY * 1000);
    const from = performance.now();
    for (const h of c.hosts) {
      const i = h.ns.index;
      const start = performance.now();
      await c.deploy(i, 2, sc.kind, { drain: sc.drain });
      if (WAIT_ROTATION) await load.waitGood(start, 20, (s) => s.body.trim() === `v2 h${i}`);
    }
    const to = performance.now();
    await sleep(AFTER * 1000);
    const end = performance.now();
    await load.stop();
    await posts?.stop();
    const versions = [];
    for (const h of c.hosts) versions.push(...(await c.direct(h.ns.index, 2)));
    const win = (a, b) => ({
      ...summarize(load.samples, a, b),
      seconds: (b - a) / 1000,
      posts: posts ? summarize(posts.samples, a, b) : null,
    });
    return {
      scenario: key,
      label: sc.label,
      before: win(steadyFrom, from),
      during: win(from, to),
      after: win(to, end),
      allOnV2: versions.every((v) => v.startsWith('v2 ')),
      nginxErrorLines: c.nginxErrors().length,
    };
  } finally {
    await load.stop();
    await posts?.stop();
    await c.stop();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const spread = (xs, f = (x) => x.toFixed(1)) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

const runs = [];
for (let r = 1; r <= RUNS; r++) {
  for (const key of picked) {
    const res = await runOnce(key);
    runs.push({ run: r, ...res });
    console.log(
      `run ${r} ${key} (${res.label}), all hosts on v2: ${res.allOnV2}, nginx error lines: ${res.nginxErrorLines}`,
    );
    for (const w of ['before', 'during', 'after']) {
      const x = res[w];
      const p = x.posts ? `; POST: ${x.posts.requests}, ${x.posts.failed} failed ${x.posts.failures.join('; ')}` : '';
      const rate = `${(x.requests / x.seconds).toFixed(0)} req/s over ${x.seconds.toFixed(1)} s`;
      console.log(`  ${formatSummary(`GET ${w.padEnd(6)}`, x)}, ${rate}${p}`);
    }
  }
}

console.log(
  `\nmedian (min–max) over ${RUNS} run(s), CONCURRENCY=${CONCURRENCY} POSTS=${POSTS} STEADY=${STEADY} AFTER=${AFTER} FAIL_TIMEOUT=${FAIL_TIMEOUT} WAIT_ROTATION=${WAIT_ROTATION ? 1 : 0}`,
);
console.log(
  '| scenario | window | GETs | GETs failed | GET req/s | p50 ms | p99 ms | max ms | POSTs | POSTs failed (all runs) |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const key of picked) {
  const mine = runs.filter((x) => x.scenario === key);
  for (const w of ['before', 'during']) {
    const col = (f) => mine.map((x) => f(x[w]));
    const sum = (f) => col(f).reduce((u, v) => u + v, 0);
    const cells = [
      `${key} ${SCENARIOS[key].label}`,
      `${w} (${spread(col((s) => s.seconds))} s)`,
      spread(
        col((s) => s.requests),
        String,
      ),
      sum((s) => s.failed),
      spread(
        col((s) => s.requests / s.seconds),
        (x) => x.toFixed(0),
      ),
      spread(col((s) => s.p50)),
      spread(col((s) => s.p99)),
      spread(col((s) => s.max)),
      POSTS
        ? spread(
            col((s) => s.posts.requests),
            String,
          )
        : '-',
      POSTS ? sum((s) => s.posts.failed) : '-',
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  `${JSON.stringify({ command: `node bench/rolling-deploy.mjs ${picked.join(' ')}`, env: { STEADY, AFTER, CONCURRENCY, POSTS, RUNS, FAIL_TIMEOUT, WAIT_ROTATION }, cpus: os.cpus().length, loadavg: os.loadavg(), runs }, null, 2)}\n`,
);
console.log(`\nwritten ${path.relative(ROOT, OUT)}`);
// Failed POSTs are a finding (what a deploy without draining costs), failed GETs are not expected.
if (runs.some((x) => x.before.failed + x.during.failed + x.after.failed > 0 || !x.allOnV2)) process.exitCode = 1;
