// Load generators: wrk (preferred, when installed) or autocannon (programmatic API).
// Both return the same shape:
//   { tool, rps, requests, durationS, latencyMs: {p50, p75, p90, p99, avg, max},
//     errors: {connect, read, write, timeout, non2xx}, clientCpu: fraction of one core, argv }
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpuSeconds, pinnedArgv, which } from './proc.mjs';

const require = createRequire(import.meta.url);

export function wrkVersion() {
  if (!which('wrk')) return null;
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return ((r.stdout || '') + (r.stderr || '')).split('\n')[0].trim() || 'wrk (unknown version)';
}

export function autocannonVersion() {
  try { return require('autocannon/package.json').version; } catch { return null; }
}

/** Pick the load generator: wrk when installed, else autocannon, else null (with a reason). */
export function pickLoadgen(prefer) {
  const w = wrkVersion();
  const a = autocannonVersion();
  if (prefer === 'autocannon') {
    return a ? { tool: 'autocannon', version: a } : { tool: null, reason: 'autocannon not installed (npm install)' };
  }
  if (w) return { tool: 'wrk', version: w };
  if (a) return { tool: 'autocannon', version: a, note: 'wrk not installed: autocannon saturates near 25-30k req/s per core, so fast servers are under-measured' };
  return { tool: null, reason: 'neither wrk nor autocannon is available' };
}

const UNIT = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };
function toMs(v) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
  return m ? Number(m[1]) * UNIT[m[2]] : null;
}

/** Parse wrk's stdout (run with --latency). */
export function parseWrk(out) {
  const res = { latencyMs: {}, errors: { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 } };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  res.rps = rps ? Number(rps[1]) : null;
  const tot = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  if (tot) { res.requests = Number(tot[1]); res.durationS = toMs(tot[2] + tot[3]) / 1000; }
  const lat = /Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)/.exec(out);
  if (lat) { res.latencyMs.avg = toMs(lat[1]); res.latencyMs.stdev = toMs(lat[2]); res.latencyMs.max = toMs(lat[3]); }
  for (const p of ['50', '75', '90', '99']) {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+\\w+)`, 'm').exec(out);
    if (m) res.latencyMs[`p${p}`] = toMs(m[1]);
  }
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (se) Object.assign(res.errors, { connect: +se[1], read: +se[2], write: +se[3], timeout: +se[4] });
  const n2 = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (n2) res.errors.non2xx = Number(n2[1]);
  return res;
}

/**
 * Run wrk against `url`, pinned to `cpu` (null: unpinned), sampling its CPU time from /proc while
 * it runs so that we can tell whether the client itself was the bottleneck.
 */
export async function runWrk({ url, connections, durationS, threads = 1, cpu = null, onSample }) {
  const argv = pinnedArgv(['wrk', `-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--latency', url], cpu);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  // Sample client CPU: first sample after 0.5 s (past connection setup), last one before exit.
  const samples = [];
  const timer = setInterval(() => {
    const c = cpuSeconds(child.pid);
    if (c !== null) samples.push({ t: performance.now() / 1000, cpu: c });
    onSample?.();
  }, 250);
  const code = await new Promise((resolve) => child.once('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`);
  const res = parseWrk(out);
  if (res.rps === null) throw new Error(`cannot parse wrk output:\n${out}`);
  const s = samples.filter((x) => x.cpu !== null);
  const first = s.find((x) => x.t >= (s[0]?.t ?? 0) + 0.5) ?? s[0];
  const last = s[s.length - 1];
  res.clientCpu = first && last && last.t > first.t ? (last.cpu - first.cpu) / (last.t - first.t) : null;
  res.tool = 'wrk';
  res.argv = argv;
  res.raw = out;
  return res;
}

/** Run autocannon in this process (which should already be pinned to the client CPU). */
export async function runAutocannon({ url, connections, durationS }) {
  const autocannon = require('autocannon');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await autocannon({ url, connections, duration: durationS, pipelining: 1 });
  const dt = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const argv = ['autocannon', '-c', String(connections), '-d', String(durationS), url];
  return {
    tool: 'autocannon',
    argv,
    rps: r.requests.total / r.duration,
    requests: r.requests.total,
    durationS: r.duration,
    latencyMs: {
      avg: r.latency.average, max: r.latency.max, p50: r.latency.p50, p75: r.latency.p75,
      p90: r.latency.p90, p99: r.latency.p99,
    },
    errors: { connect: 0, read: r.errors, write: 0, timeout: r.timeouts, non2xx: r.non2xx },
    clientCpu: (cpu.user + cpu.system) / 1e6 / dt,
    note: 'autocannon latencies have 1 ms resolution',
  };
}
