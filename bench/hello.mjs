#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// The standard hello-world comparison: tsgi against uWebSockets.js and node:http (direct HTTP,
// keep-alive) and against uWSGI behind nginx `uwsgi_pass`. See bench/README.md for the method.
//
//   npm run bench                     3 rounds x 10 s per point, 5 s warm-up each, 64 connections
//   npm run bench -- --quick          1 round x 3 s, 1 s warm-up (a smoke run, not for figures)
//   node bench/hello.mjs --rounds 5 --duration 15 --connections 64 --only uws,node-http
//
// Every point either yields figures or is listed as skipped with its reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { verifyHello } from '../dist/bench/apps.js';
import { pickLoadgen, runAutocannon, runWrk } from '../dist/bench/loadgen.js';
import { machineInfo } from '../dist/bench/machine.js';
import { nginxMissing, nginxVersion, startNginx } from '../dist/bench/nginx.js';
// The process, /proc, nginx and load-generator helpers are tsgi bench's (src/bench/, compiled
// to dist/bench/ by `npm run build:ts`).
import { freePort, groupUsage, pinningPlan, pinSelf, startServer, systemCpu, which } from '../dist/bench/proc.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// Options
const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '64' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'max-other': { type: 'string', default: '0.15' },
    retries: { type: 'string', default: '2' },
    'quiet-wait': { type: 'string', default: '60' },
    'tsgi-app': { type: 'string' },
    loadgen: { type: 'string' },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const rounds = Number(opt.rounds ?? (opt.quick ? 1 : 3));
const durationS = Number(opt.duration ?? (opt.quick ? 3 : 10));
const warmupS = Number(opt.warmup ?? (opt.quick ? 1 : 5));
const connections = Number(opt.connections);
const maxOther = Number(opt['max-other']);
const retries = Number(opt.retries);
const quietWaitS = Number(opt['quiet-wait']);
for (const [k, v] of Object.entries({ rounds, durationS, warmupS, connections })) {
  if (!Number.isFinite(v) || v < 0 || (k !== 'warmupS' && v < 1)) {
    console.error(`bad value for ${k}: ${v}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// The points. Each start() returns { url, handles: [{name, handle}], commands: [string] } or throws.
// bench/apps/hello.js answers exactly what the comparison servers answer (text/plain);
// examples/foobar.js follows the uWSGI quick-start (text/html) and can be chosen with --tsgi-app.
const tsgiApp = opt['tsgi-app'] ?? 'bench/apps/hello.js';
const tsgiBin = 'bin/tsgi.js';

function tsgiMissing() {
  if (!fs.existsSync(path.join(ROOT, tsgiBin))) return `${tsgiBin} does not exist yet`;
  return null;
}

const q = (a) => a.map((s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)).join(' ');

function POINTS(ctx) {
  const { cpu, tmp } = ctx;
  const local = (id) => {
    const d = path.join(tmp, id);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };

  async function direct(id, argvOf) {
    const port = await freePort();
    const argv = argvOf(port);
    const h = await startServer({
      argv,
      cwd: ROOT,
      cpu,
      logFile: path.join(local(id), 'server.log'),
      ready: { host: '127.0.0.1', port },
    });
    return { url: `http://127.0.0.1:${port}/`, handles: [{ name: 'server', handle: h }], commands: [q(h.argv)] };
  }

  async function viaNginx(id, argvOf) {
    const port = await freePort();
    const argv = argvOf(port);
    const backend = await startServer({
      argv,
      cwd: ROOT,
      cpu,
      logFile: path.join(local(id), 'backend.log'),
      ready: { host: '127.0.0.1', port },
    });
    let nginx;
    try {
      nginx = await startNginx({ prefix: path.join(local(id), 'nginx'), upstream: `127.0.0.1:${port}`, cpu });
    } catch (e) {
      await backend.stop();
      throw e;
    }
    return {
      url: `http://127.0.0.1:${nginx.port}/`,
      handles: [
        { name: 'backend', handle: backend },
        { name: 'nginx', handle: nginx },
      ],
      commands: [q(backend.argv), `${q(nginx.argv)}   # config: see nginxConf below`],
      nginxConf: fs.readFileSync(nginx.confPath, 'utf8'),
    };
  }

  const tsgi = (extra) => (port) => ['node', tsgiBin, ...extra(port), '--wsgi-file', tsgiApp];
  return [
    {
      id: 'tsgi-http',
      group: 'direct',
      label: 'tsgi --http-socket (request logging on)',
      missing: tsgiMissing,
      start: () =>
        direct(
          'tsgi-http',
          tsgi((p) => ['--http-socket', `127.0.0.1:${p}`]),
        ),
    },
    {
      id: 'tsgi-http-nolog',
      group: 'direct',
      label: 'tsgi --http-socket --disable-logging',
      missing: tsgiMissing,
      start: () =>
        direct('tsgi-http-nolog', (p) => [
          ...tsgi((pp) => ['--http-socket', `127.0.0.1:${pp}`])(p),
          '--disable-logging',
        ]),
    },
    {
      id: 'uws',
      group: 'direct',
      label: 'uWebSockets.js 20.30 (native, @trufflesuite build)',
      missing: () => null,
      start: () => direct('uws', (p) => ['node', 'bench/servers/uws.mjs', `127.0.0.1:${p}`]),
    },
    {
      id: 'node-http',
      group: 'direct',
      label: 'node:http',
      missing: () => null,
      start: () => direct('node-http', (p) => ['node', 'bench/servers/node-http.mjs', `127.0.0.1:${p}`]),
    },
    {
      id: 'nginx-tsgi',
      group: 'nginx',
      label: 'nginx → tsgi --socket (uwsgi protocol)',
      missing: () => tsgiMissing() ?? nginxMissing(),
      start: () =>
        viaNginx('nginx-tsgi', (p) => [...tsgi((pp) => ['--socket', `127.0.0.1:${pp}`])(p), '--disable-logging']),
    },
    {
      id: 'nginx-uwsgi',
      group: 'nginx',
      label: 'nginx → uWSGI 2.0 --socket (Python WSGI)',
      missing: () =>
        nginxMissing() ??
        (which('uwsgi') ? uwsgiPluginMissing() : 'uwsgi is not installed (apt-get install uwsgi uwsgi-plugin-python3)'),
      start: () =>
        viaNginx('nginx-uwsgi', (p) => [
          'uwsgi',
          '--plugins',
          'python3',
          '--socket',
          `127.0.0.1:${p}`,
          '--wsgi-file',
          'bench/apps/hello_wsgi.py',
          '--disable-logging',
        ]),
    },
    {
      // The HTTP router in front of one worker process, request logging off on both sides.
      // uWSGI's router keeps clients alive only with --http-keepalive (tsgi's does by default).
      id: 'router-tsgi',
      group: 'router',
      label: 'tsgi --http (router process → 1 worker over uwsgi)',
      missing: tsgiMissing,
      start: () =>
        direct('router-tsgi', (p) => [...tsgi((pp) => ['--http', `127.0.0.1:${pp}`])(p), '--disable-logging']),
    },
    {
      id: 'router-uwsgi',
      group: 'router',
      label: 'uWSGI 2.0 --http --http-keepalive (router → 1 worker, Python WSGI)',
      missing: () =>
        which('uwsgi') ? uwsgiPluginMissing() : 'uwsgi is not installed (apt-get install uwsgi uwsgi-plugin-python3)',
      start: () =>
        direct('router-uwsgi', (p) => [
          'uwsgi',
          '--plugins',
          'http,python3',
          '--http',
          `127.0.0.1:${p}`,
          '--http-keepalive',
          '--wsgi-file',
          'bench/apps/hello_wsgi.py',
          '--disable-logging',
        ]),
    },
  ];
}
function POINT_IDS() {
  return POINTS({ cpu: null, tmp: os.tmpdir() }).map((p) => p.id);
}

function uwsgiPluginMissing() {
  const dirs = ['/usr/lib/uwsgi/plugins', '/usr/lib/uwsgi'];
  return dirs.some((d) => fs.existsSync(path.join(d, 'python3_plugin.so')))
    ? null
    : 'the uWSGI python3 plugin is not installed (apt-get install uwsgi-plugin-python3)';
}

// ---------------------------------------------------------------------------------------------
// Helpers
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return null;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmtInt = (x) => (x == null ? '–' : Math.round(x).toLocaleString('en-US'));
const fmtK = (x) => (x == null ? '–' : `${(x / 1000).toFixed(1)} k`);
const fmtMs = (x) => (x == null ? '–' : x < 10 ? x.toFixed(3) : x.toFixed(1));
const fmtPct = (x) => (x == null ? '–' : `${Math.round(x * 100)} %`);
const fmtRatio = (a, b) => (a == null || b == null ? null : a / b);

function usageOf(handles) {
  const out = {};
  for (const { name, handle } of handles) out[name] = groupUsage(handle.pid);
  return out;
}

const log = (...a) => console.error('[bench]', ...a);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// ---------------------------------------------------------------------------------------------
// The steps of a run, in order: main() at the bottom calls them.

function printUsage() {
  console.log(`usage: node bench/hello.mjs [--rounds N] [--duration S] [--warmup S] [--connections N]
                           [--quick] [--only id,id] [--loadgen wrk|autocannon] [--out DIR] [--no-write]
                           [--max-other CPUS (0.15)] [--retries N (2)] [--quiet-wait S (60)]
                           [--tsgi-app FILE (bench/apps/hello.js)]
points: ${POINT_IDS().join(', ')}`);
}

/** Pinning, load generator and scratch directory of this run. */
function setUp() {
  const plan = pinningPlan();
  const loadgen = pickLoadgen(opt.loadgen);
  const ctx = {
    plan,
    loadgen,
    serverCpu: plan.enabled ? plan.server : null,
    clientCpu: plan.enabled ? plan.client : null,
    tmp: fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-')),
  };
  if (plan.enabled) pinSelf(plan.client);
  log(
    `pinning: ${plan.enabled ? `servers on CPU ${plan.server}, client on CPU ${plan.client}` : `off (${plan.reason})`}`,
  );
  log(
    `load generator: ${loadgen.tool ?? `none (${loadgen.reason})`}; ${rounds} round(s) x ${durationS} s, warm-up ${warmupS} s, ${connections} connections`,
  );
  log(`tsgi app: ${tsgiApp}; scratch dir ${ctx.tmp}`);
  return ctx;
}

/** The points of this run (--only), each with empty run state. */
function selectPoints(ctx) {
  let points = POINTS({ cpu: ctx.serverCpu, tmp: ctx.tmp });
  if (opt.only) {
    const want = new Set(opt.only.split(','));
    for (const w of want)
      if (!points.some((p) => p.id === w)) throw new Error(`unknown point ${w} (known: ${POINT_IDS().join(', ')})`);
    points = points.filter((p) => want.has(p.id));
  }
  for (const p of points) Object.assign(p, { runs: [], skipped: null, handles: [], commands: [] });
  return points;
}

async function stopAll(points) {
  for (const p of points) for (const { handle } of p.handles) await handle.stop().catch(() => {});
}

/** SIGINT / SIGTERM stop every server and remove the scratch directory. */
function stopOnSignals(ctx, points) {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      log(`${sig}: stopping servers`);
      await stopAll(points);
      fs.rmSync(ctx.tmp, { recursive: true, force: true });
      process.exit(130);
    });
  }
}

/** One load-generator run of `seconds` against `url`. */
function measure(ctx, url, seconds) {
  if (ctx.loadgen.tool === 'wrk') return runWrk({ url, connections, durationS: seconds, cpu: ctx.clientCpu });
  return runAutocannon({ url, connections, durationS: seconds });
}

/** The client command of a point, as the report shows it. */
function clientArgv(ctx, url) {
  const { loadgen, clientCpu } = ctx;
  return loadgen.tool === 'wrk'
    ? q([
        ...(clientCpu === null ? [] : ['taskset', '-c', String(clientCpu)]),
        'wrk',
        '-t1',
        `-c${connections}`,
        `-d${durationS}s`,
        '--latency',
        url,
      ])
    : `autocannon -c ${connections} -d ${durationS} ${url}   # programmatic, in the bench process${clientCpu === null ? '' : ` (pinned to CPU ${clientCpu})`}`;
}

/** Start, verify and warm up every point once; a point that fails is skipped with its reason. */
async function startPoints(ctx, points) {
  for (const p of points) {
    if (!ctx.loadgen.tool) {
      p.skipped = ctx.loadgen.reason;
      continue;
    }
    const missing = p.missing();
    if (missing) {
      p.skipped = missing;
      log(`${p.id}: skipped: ${missing}`);
      continue;
    }
    try {
      log(`${p.id}: starting`);
      const s = await p.start();
      Object.assign(p, { url: s.url, handles: s.handles, commands: s.commands, nginxConf: s.nginxConf });
      p.client = clientArgv(ctx, s.url);
      // A --tsgi-app other than the bench's own may answer text/html (examples/foobar.js does).
      const v = await verifyHello(
        s.url,
        p.id.includes('tsgi') && opt['tsgi-app'] ? { contentType: /^text\/(plain|html)\b/ } : {},
      );
      p.responseHeaders = v.headers;
      if (warmupS > 0) {
        log(`${p.id}: warm-up ${warmupS} s`);
        await measure(ctx, s.url, warmupS);
      }
    } catch (e) {
      p.skipped = `could not start or verify: ${e.short ?? e.message.split('\n')[0]}`;
      p.skipDetail = e.message;
      log(`${p.id}: skipped: ${e.message}`);
      for (const { handle } of p.handles) await handle.stop().catch(() => {});
      p.handles = [];
    }
  }
}

/** One measured run of a point, with the CPU of its servers, of the client and of other work. */
async function measureOnce(ctx, p, r) {
  const u0 = usageOf(p.handles);
  const sys0 = systemCpu();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  let res;
  try {
    res = await measure(ctx, p.url, durationS);
  } catch (e) {
    p.runs.push({ round: r + 1, error: e.message });
    log(`${p.id} round ${r + 1}: ${e.message}`);
    return null;
  }
  const wall = (performance.now() - t0) / 1000;
  const u1 = usageOf(p.handles);
  const sys1 = systemCpu();
  const self = process.cpuUsage(self0);
  const cpu = {};
  let cpuTotal = 0;
  for (const { name } of p.handles) {
    const d = u1[name].cpu - u0[name].cpu;
    cpu[name] = { seconds: d, utilisation: d / wall, usPerRequest: res.requests ? (d / res.requests) * 1e6 : null };
    cpuTotal += d;
  }
  const run = {
    round: r + 1,
    rps: res.rps,
    requests: res.requests,
    durationS: res.durationS,
    latencyMs: res.latencyMs,
    errors: res.errors,
    clientCpu: res.clientCpu,
    serverCpu: {
      total: {
        seconds: cpuTotal,
        utilisation: cpuTotal / wall,
        usPerRequest: res.requests ? (cpuTotal / res.requests) * 1e6 : null,
      },
      ...cpu,
    },
    wallS: wall,
  };
  // CPU used on the machine by anything other than the servers, the load generator and this
  // script (other jobs, kernel work not charged to a process), in CPUs; and hypervisor steal.
  const selfS = (self.user + self.system) / 1e6;
  const clientS = res.tool === 'wrk' && res.clientCpu != null ? res.clientCpu * wall : 0;
  run.otherCpu = Math.max(0, sys1.busy - sys0.busy - cpuTotal - clientS - selfS) / wall;
  run.steal = (sys1.steal - sys0.steal) / wall;
  log(
    `${p.id} round ${r + 1}: ${fmtInt(res.rps)} req/s, p50 ${fmtMs(res.latencyMs.p50)} ms, p99 ${fmtMs(res.latencyMs.p99)} ms, ` +
      `server CPU ${fmtPct(run.serverCpu.total.utilisation)}, client CPU ${fmtPct(res.clientCpu)}, other ${fmtPct(run.otherCpu)}, steal ${fmtPct(run.steal)}` +
      `${Object.values(res.errors).some((x) => x) ? `, errors ${JSON.stringify(res.errors)}` : ''}`,
  );
  return run;
}

/**
 * Before each run, wait (up to --quiet-wait seconds) until the machine is quiet: the CPU busy
 * time over 1 s, minus this harness, below --max-other CPUs.
 */
async function waitQuiet() {
  const deadline = Date.now() + quietWaitS * 1000;
  let said = false;
  for (;;) {
    const a = systemCpu();
    const c0 = process.cpuUsage();
    await sleep(1000);
    const c = process.cpuUsage(c0);
    const busy = systemCpu().busy - a.busy - (c.user + c.system) / 1e6;
    if (busy <= maxOther) return;
    if (Date.now() > deadline) {
      log(`machine still busy (${fmtPct(busy)} of a CPU) after ${quietWaitS} s: measuring anyway`);
      return;
    }
    if (!said) {
      log(`machine busy (${fmtPct(busy)} of a CPU used by other work): waiting up to ${quietWaitS} s`);
      said = true;
    }
  }
}

/** Interleaved rounds: A B C ... A B C ... */
async function runRounds(ctx, points) {
  for (let r = 0; r < rounds; r++) {
    for (const p of points) {
      if (p.skipped) continue;
      const dead = p.handles.find(({ handle }) => !handle.alive());
      if (dead) {
        p.skipped = `${dead.name} died before round ${r + 1}: ${JSON.stringify(dead.handle.exitInfo())}`;
        p.skipDetail = dead.handle.logTail();
        continue;
      }
      // A run during which other work on the machine used more than --max-other of a CPU is
      // repeated (up to --retries times); the discarded runs are kept in the JSON.
      for (let attempt = 0; ; attempt++) {
        await waitQuiet();
        const run = await measureOnce(ctx, p, r);
        if (!run) break;
        if (run.otherCpu > maxOther && attempt < retries) {
          (p.discarded ??= []).push(run);
          log(`${p.id} round ${r + 1}: other load ${fmtPct(run.otherCpu)} > ${fmtPct(maxOther)}: discarded, repeating`);
          await sleep(2000);
          continue;
        }
        p.runs.push(run);
        break;
      }
    }
  }
}

/** Peak RSS (VmHWM summed over each process group), then stop everything. */
async function finish(ctx, points) {
  for (const p of points) {
    p.peakRssKb = {};
    for (const { name, handle } of p.handles) p.peakRssKb[name] = groupUsage(handle.pid).hwmKb;
  }
  await stopAll(points);
  fs.rmSync(ctx.tmp, { recursive: true, force: true });
}

/** Medians and extremes of a point's successful runs; marks a point without one as skipped. */
function summarise(p) {
  const ok = p.runs.filter((x) => x.rps != null);
  if (!p.skipped && !ok.length) p.skipped = `no successful run: ${p.runs.map((x) => x.error).join('; ')}`;
  if (!ok.length) return;
  const rps = ok.map((x) => x.rps);
  const clientPegged = ok.some((x) => x.clientCpu != null && x.clientCpu >= 0.9);
  const errs = ok.reduce((a, x) => a + Object.values(x.errors).reduce((s, v) => s + v, 0), 0);
  p.summary = {
    runs: ok.length,
    rpsMedian: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    spreadPct: (100 * (Math.max(...rps) - Math.min(...rps))) / median(rps),
    p50MsMedian: median(ok.map((x) => x.latencyMs.p50)),
    p99MsMedian: median(ok.map((x) => x.latencyMs.p99)),
    serverUsPerReqMedian: median(ok.map((x) => x.serverCpu.total.usPerRequest)),
    backendUsPerReqMedian: p.group === 'nginx' ? median(ok.map((x) => x.serverCpu.backend.usPerRequest)) : null,
    nginxUsPerReqMedian: p.group === 'nginx' ? median(ok.map((x) => x.serverCpu.nginx.usPerRequest)) : null,
    serverCpuMedian: median(ok.map((x) => x.serverCpu.total.utilisation)),
    clientCpuMax: Math.max(...ok.map((x) => x.clientCpu ?? 0)),
    clientPegged,
    otherCpuMax: Math.max(...ok.map((x) => x.otherCpu ?? 0)),
    stealMax: Math.max(...ok.map((x) => x.steal ?? 0)),
    errors: errs,
    peakRssMiB: Object.values(p.peakRssKb ?? {}).reduce((a, b) => a + b, 0) / 1024,
  };
}

const RATIOS = [
  ['tsgi / uWS', 'tsgi-http-nolog', 'uws'],
  ['tsgi / node:http', 'tsgi-http-nolog', 'node-http'],
  ['tsgi (logging on) / uWS', 'tsgi-http', 'uws'],
  ['tsgi (logging on) / node:http', 'tsgi-http', 'node-http'],
  ['tsgi logging on / off', 'tsgi-http', 'tsgi-http-nolog'],
  ['uWS / node:http', 'uws', 'node-http'],
  ['tsgi via nginx / uWSGI via nginx', 'nginx-tsgi', 'nginx-uwsgi'],
  ['tsgi --http router / uWSGI --http router', 'router-tsgi', 'router-uwsgi'],
];

/** Ratios of medians between the points of RATIOS that this run has. */
function ratiosOf(points) {
  const byId = Object.fromEntries(points.map((p) => [p.id, p]));
  const med = (id) => byId[id]?.summary?.rpsMedian ?? null;
  return RATIOS.filter(([, a, b]) => byId[a] && byId[b]).map(([name, a, b]) => ({
    name,
    a,
    b,
    value: fmtRatio(med(a), med(b)),
    missing:
      med(a) == null || med(b) == null
        ? [a, b]
            .filter((x) => med(x) == null)
            .map((x) => `${x} not measured`)
            .join(', ')
        : null,
  }));
}

/** The JSON report: settings, machine, every point with its runs, the ratios. */
function buildReport(ctx, startedAt, points) {
  const { loadgen, plan } = ctx;
  const machine = machineInfo({
    wrk: loadgen.tool === 'wrk' ? loadgen.version : null,
    autocannon: loadgen.tool === 'autocannon' ? loadgen.version : null,
    nginx: nginxVersion(),
    uwsgi: which('uwsgi') ? spawnSync('uwsgi', ['--version'], { encoding: 'utf8' }).stdout.trim() : null,
    tmpdir: os.tmpdir(),
  });
  return {
    benchmark: 'hello',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    gitCommit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || null,
    settings: {
      rounds,
      durationS,
      warmupS,
      connections,
      maxOther,
      retries,
      quietWaitS,
      quick: opt.quick,
      tsgiApp,
      loadgen,
      pinning: plan,
    },
    machine,
    points: points.map((p) => ({
      id: p.id,
      label: p.label,
      group: p.group,
      skipped: p.skipped,
      skipDetail: p.skipDetail,
      serverCommands: p.commands,
      clientCommand: p.client,
      nginxConf: p.nginxConf,
      responseHeaders: p.responseHeaders,
      summary: p.summary ?? null,
      peakRssKb: p.peakRssKb,
      runs: p.runs,
      discardedRuns: p.discarded ?? [],
    })),
    ratios: ratiosOf(points),
  };
}

/** hello-<UTC time>[-quick].json and .md in --out. */
function writeResults(report, md, startedAt) {
  fs.mkdirSync(opt.out, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/:/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const base = path.join(opt.out, `hello-${stamp}${opt.quick ? '-quick' : ''}`);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(`${base}.md`, md);
  log(`wrote ${path.relative(process.cwd(), base)}.json and .md`);
}

async function main() {
  if (opt.help) {
    printUsage();
    return;
  }
  const startedAt = new Date();
  const ctx = setUp();
  const points = selectPoints(ctx);
  stopOnSignals(ctx, points);
  await startPoints(ctx, points);
  await runRounds(ctx, points);
  await finish(ctx, points);
  for (const p of points) summarise(p);
  const report = buildReport(ctx, startedAt, points);
  const md = renderMarkdown(report);
  process.stdout.write(md);
  if (!opt['no-write']) writeResults(report, md, startedAt);
}

function renderMarkdown(r) {
  const s = r.settings;
  const m = r.machine;
  const L = [];
  L.push(
    `# Hello-world benchmark, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC${s.quick ? ' (quick run: not for figures)' : ''}`,
    '',
  );
  L.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, kernel ${m.kernel}${m.virtualization ? ` (${m.virtualization})` : ''}; Node ${m.node}; ` +
      `${s.loadgen.tool === 'wrk' ? m.wrk : s.loadgen.tool === 'autocannon' ? `autocannon ${m.autocannon}` : 'no load generator'}; ${m.nginx ?? 'nginx not installed'}; uWSGI ${m.uwsgi ?? 'not installed'}.`,
  );
  L.push(
    `Method: ${s.rounds} interleaved round(s) × ${s.durationS} s per point after one ${s.warmupS} s warm-up each, ${s.connections} keep-alive connections, ` +
      `${s.pinning.enabled ? `servers (and nginx) pinned to CPU ${s.pinning.server}, client to CPU ${s.pinning.client}` : `no CPU pinning (${s.pinning.reason})`}; ` +
      `commit ${r.gitCommit?.slice(0, 10) ?? 'unknown'}; tsgi app ${s.tsgiApp}.`,
    '',
  );
  L.push(
    '| point | req/s median | min – max (spread) | p50 ms | p99 ms | server CPU µs/req | server CPU | client CPU (max) | peak RSS | notes |',
  );
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const p of r.points) {
    const x = p.summary;
    if (!x) {
      L.push(`| ${p.label} | skipped | | | | | | | | ${p.skipped ?? 'no result'} |`);
      continue;
    }
    const notes = [];
    if (x.runs < s.rounds) notes.push(`${x.runs}/${s.rounds} runs`);
    if (x.clientPegged) notes.push('client pegged (≥ 90 % of its core): server may be faster than shown');
    if (x.errors) notes.push(`${x.errors} socket errors / non-2xx`);
    const nDisc = p.discardedRuns?.length ?? 0;
    if (nDisc) notes.push(`${nDisc} disturbed run(s) discarded and repeated`);
    if (x.otherCpuMax >= 0.1)
      notes.push(`other load on the machine up to ${fmtPct(x.otherCpuMax)} of a CPU during a run`);
    if (x.stealMax >= 0.05) notes.push(`hypervisor steal up to ${fmtPct(x.stealMax)}`);
    if (p.group === 'nginx')
      notes.push(`backend ${x.backendUsPerReqMedian?.toFixed(1)} + nginx ${x.nginxUsPerReqMedian?.toFixed(1)} µs/req`);
    L.push(
      `| ${p.label} | **${fmtInt(x.rpsMedian)}** | ${fmtK(x.rpsMin)} – ${fmtK(x.rpsMax)} (${x.spreadPct.toFixed(1)} %) | ${fmtMs(x.p50MsMedian)} | ${fmtMs(x.p99MsMedian)} ` +
        `| ${x.serverUsPerReqMedian?.toFixed(1) ?? '–'} | ${fmtPct(x.serverCpuMedian)} | ${fmtPct(x.clientCpuMax)} | ${x.peakRssMiB.toFixed(0)} MiB | ${notes.join('; ')} |`,
    );
  }
  L.push('', '| ratio (of medians) | value |', '|---|---:|');
  for (const x of r.ratios)
    L.push(`| ${x.name} | ${x.value == null ? `n/a (${x.missing})` : `${x.value.toFixed(2)}×`} |`);
  const pegged = r.points.filter((p) => p.summary?.clientPegged).map((p) => p.id);
  L.push(
    '',
    pegged.length
      ? `**Client-CPU check:** the load generator used ≥ 90 % of its core for ${pegged.join(', ')}: those figures are bounded by the client, not the server.`
      : '**Client-CPU check:** the load generator stayed below 90 % of its core for every point.',
  );
  L.push('', '## Commands', '');
  for (const p of r.points) {
    L.push(`- **${p.id}**${p.skipped ? ` — skipped: ${p.skipped}` : ''}`);
    for (const c of p.serverCommands ?? []) L.push(`  - server: \`${c}\``);
    if (p.clientCommand) L.push(`  - client: \`${p.clientCommand}\``);
  }
  const conf = r.points.find((p) => p.nginxConf)?.nginxConf;
  if (conf) L.push('', 'nginx config (port/upstream/paths vary per point):', '', '```nginx', conf.trimEnd(), '```');
  L.push('');
  return L.join('\n');
}

main().catch(async (e) => {
  console.error(e);
  process.exit(1);
});
