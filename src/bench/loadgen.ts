// Load generators. autocannon (programmatic API, in this process, optionally with worker
// threads) drives every point; wrk, when installed, cross-checks one point and keeps serving
// bench/hello.mjs. Both return a LoadResult.
import { spawn, spawnSync } from 'node:child_process';
import { cpuSeconds, pinnedArgv, which } from './proc';

export interface Latency {
  avg: number | null;
  max: number | null;
  p50: number | null;
  p75?: number | null;
  p90: number | null;
  p99: number | null;
  stdev?: number | null;
}
export interface LoadErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  non2xx: number;
}

export interface LoadResult {
  tool: 'autocannon' | 'wrk';
  argv: string[];
  rps: number | null;
  requests: number;
  durationS: number;
  /** Bytes per second read by the client (responses, headers included). */
  bytesPerS: number | null;
  latencyMs: Latency;
  errors: LoadErrors;
  /** CPU time of the client over the run, in CPUs (1 = one core busy all the time). */
  clientCpu: number | null;
  /** autocannon's own summary (per-second samples), kept for autocannon-compare. */
  autocannon?: AutocannonSummary;
  raw?: string;
}

/** The fields of an autocannon result that the report keeps (autocannon-compare needs these). */
export interface AutocannonSummary {
  requests: { mean: number; stddev: number; min: number; max: number; total: number; p50: number };
  throughput: { mean: number; stddev: number; total: number };
  latency: { mean: number; stddev: number; p50: number; p90: number; p99: number; max: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  resets: number;
}

export function wrkVersion(): string | null {
  if (!which('wrk')) return null;
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return ((r.stdout || '') + (r.stderr || '')).split('\n')[0]?.trim() || 'wrk (unknown version)';
}

export function autocannonVersion(): string | null {
  try {
    return (require('autocannon/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

export interface LoadgenChoice {
  tool: 'wrk' | 'autocannon' | null;
  version?: string;
  reason?: string;
  note?: string;
}

/** For bench/hello.mjs: wrk when installed, else autocannon, else none (with a reason). */
export function pickLoadgen(prefer?: string): LoadgenChoice {
  const w = wrkVersion();
  const a = autocannonVersion();
  if (prefer === 'autocannon')
    return a ? { tool: 'autocannon', version: a } : { tool: null, reason: 'autocannon not installed (npm install)' };
  if (w) return { tool: 'wrk', version: w };
  if (a)
    return {
      tool: 'autocannon',
      version: a,
      note: 'wrk not installed: autocannon saturates near 25-30k req/s per core, so fast servers are under-measured',
    };
  return { tool: null, reason: 'neither wrk nor autocannon is available' };
}

const UNIT: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };
function toMs(v: string): number | null {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
  return m ? Number(m[1]) * UNIT[m[2]!]! : null;
}
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** Parse wrk's stdout (run with --latency). */
export function parseWrk(out: string): Omit<LoadResult, 'tool' | 'argv' | 'clientCpu'> {
  const latencyMs: Latency = { avg: null, max: null, p50: null, p90: null, p99: null };
  const errors: LoadErrors = { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const tot = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const lat = /Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)/.exec(out);
  if (lat) {
    latencyMs.avg = toMs(lat[1]!);
    latencyMs.stdev = toMs(lat[2]!);
    latencyMs.max = toMs(lat[3]!);
  }
  for (const p of ['50', '75', '90', '99'] as const) {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+\\w+)`, 'm').exec(out);
    if (m) latencyMs[`p${p}`] = toMs(m[1]!);
  }
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (se) Object.assign(errors, { connect: +se[1]!, read: +se[2]!, write: +se[3]!, timeout: +se[4]! });
  const n2 = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (n2) errors.non2xx = Number(n2[1]);
  const tr = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(out);
  return {
    rps: rps ? Number(rps[1]) : null,
    requests: tot ? Number(tot[1]) : 0,
    durationS: tot ? (toMs(tot[2]! + tot[3]!) ?? 0) / 1000 : 0,
    bytesPerS: tr ? Number(tr[1]) * UNIT_BYTES[tr[2]!]! : null,
    latencyMs,
    errors,
  };
}

/** Run wrk against `url`, pinned to `cpu`, sampling its CPU time from /proc while it runs. */
export async function runWrk({
  url,
  connections,
  durationS,
  threads = 1,
  cpu = null,
}: {
  url: string;
  connections: number;
  durationS: number;
  threads?: number;
  cpu?: number | number[] | null;
}): Promise<LoadResult> {
  const argv = pinnedArgv(['wrk', `-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--latency', url], cpu);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d;
  });
  // Client CPU: from the first sample 0.5 s in (past connection setup) to the last one.
  const samples: { t: number; cpu: number }[] = [];
  const timer = setInterval(() => {
    const c = child.pid ? cpuSeconds(child.pid) : null;
    if (c !== null) samples.push({ t: performance.now() / 1000, cpu: c });
  }, 250);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`);
  const res = parseWrk(out);
  if (res.rps === null) throw new Error(`cannot parse wrk output:\n${out}`);
  const first = samples.find((x) => x.t >= (samples[0]?.t ?? 0) + 0.5) ?? samples[0];
  const last = samples[samples.length - 1];
  const clientCpu = first && last && last.t > first.t ? (last.cpu - first.cpu) / (last.t - first.t) : null;
  return { ...res, tool: 'wrk', argv, clientCpu, raw: out };
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  durationS: number;
  pipelining?: number;
  workers?: number;
  method?: string;
  body?: Buffer;
  headers?: Record<string, string>;
  /** Called about every second with the requests completed so far (null in workers mode, where
   * autocannon emits no ticks) and the seconds elapsed. */
  onTick?: (requestsSoFar: number | null, elapsedS: number) => void;
}

interface RawHist {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  total: number;
  p50: number;
  p90: number;
  p99: number;
}
interface RawAutocannonResult {
  requests: RawHist;
  throughput: RawHist;
  latency: RawHist;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  resets: number;
}
interface AutocannonInstance {
  on(ev: 'tick', fn: (c: { counter: number; bytes: number }) => void): void;
}
type AutocannonFn = (
  opts: Record<string, unknown>,
  cb: (err: Error | null, res: RawAutocannonResult) => void,
) => AutocannonInstance;

/** The autocannon command line equivalent to a programmatic run (for the report). */
export function autocannonArgv(o: AutocannonOptions): string[] {
  const a = ['autocannon', '-c', String(o.connections), '-d', String(o.durationS)];
  if ((o.pipelining ?? 1) > 1) a.push('-p', String(o.pipelining));
  if (o.workers) a.push('-w', String(o.workers));
  if (o.method && o.method !== 'GET') a.push('-m', o.method);
  if (o.body) a.push('-b', `<${o.body.length} bytes>`);
  a.push(o.url);
  return a;
}

/** Run autocannon in this process (already pinned to the client CPUs by the caller). */
export async function runAutocannon(o: AutocannonOptions): Promise<LoadResult> {
  const autocannon = require('autocannon') as AutocannonFn;
  const opts: Record<string, unknown> = {
    url: o.url,
    connections: o.connections,
    duration: o.durationS,
    pipelining: o.pipelining ?? 1,
  };
  if (o.workers) opts['workers'] = o.workers;
  if (o.method) opts['method'] = o.method;
  // A Buffer reaches autocannon's worker threads as a plain Uint8Array, which it refuses: give
  // workers the body as a string (bench bodies are ASCII, so the bytes are the same).
  if (o.body) opts['body'] = o.workers ? o.body.toString('latin1') : o.body;
  if (o.headers) opts['headers'] = o.headers;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  const timer =
    o.workers && o.onTick ? setInterval(() => o.onTick!(null, (performance.now() - t0) / 1000), 1000) : undefined;
  const r = await new Promise<RawAutocannonResult>((resolve, reject) => {
    const inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('tick', (c) => {
      done += c.counter;
      o.onTick?.(done, (performance.now() - t0) / 1000);
    });
  }).finally(() => clearInterval(timer));
  const dt = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const total = r.requests.total;
  return {
    tool: 'autocannon',
    argv: autocannonArgv(o),
    rps: r.duration > 0 ? total / r.duration : null,
    requests: total,
    durationS: r.duration,
    bytesPerS: r.duration > 0 ? r.throughput.total / r.duration : null,
    latencyMs: {
      avg: r.latency.average,
      max: r.latency.max,
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
    },
    // autocannon counts connection errors (refused, reset, parse) in `errors`.
    errors: { connect: 0, read: r.errors, write: 0, timeout: r.timeouts, non2xx: r.non2xx },
    clientCpu: (cpu.user + cpu.system) / 1e6 / dt,
    autocannon: {
      requests: pick(r.requests, ['mean', 'stddev', 'min', 'max', 'total', 'p50']),
      throughput: pick(r.throughput, ['mean', 'stddev', 'total']),
      latency: pick(r.latency, ['mean', 'stddev', 'p50', 'p90', 'p99', 'max']),
      duration: r.duration,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      mismatches: r.mismatches,
      resets: r.resets,
    },
  };
}

function pick<T, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = o[k];
  return out;
}
