// The results file of `tsgi bench` (bench/results/bench-*.json): types and a validator, used
// by the report writer's tests and by `--compare` before it trusts a file.
import type { AutocannonSummary, Latency, LoadErrors } from './loadgen';
import type { MachineInfo } from './machine';
import type { PinningPlan } from './proc';
import type { Saturation } from './stats';

export const SCHEMA = 'tsgi-bench/1';

export interface CpuShare {
  seconds: number;
  cpus: number;
  usPerRequest: number | null;
}

export interface RunRecord {
  round: number;
  /** Warm-up runs are not counted in the summary. */
  warmup?: boolean;
  /** Runs disturbed by other work on the machine, repeated and not counted. */
  discarded?: boolean;
  rps: number | null;
  requests: number;
  durationS: number;
  bytesPerS: number | null;
  latencyMs: Latency;
  errors: LoadErrors;
  /** Client CPU over the run, in CPUs. */
  clientCpu: number | null;
  /** Server CPU (whole process tree) over the run: total and per handle (backend, nginx). */
  serverCpu: Record<string, CpuShare>;
  wallS: number;
  /** CPU used by other work on the machine during the run, in CPUs; and hypervisor steal. */
  otherCpu: number;
  steal: number;
  autocannon?: AutocannonSummary;
  error?: string;
}

export interface Summary {
  runs: number;
  rps: { median: number; min: number; max: number; spreadPct: number | null };
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  bytesPerS: number | null;
  errors: { errors: number; timeouts: number; non2xx: number };
  serverUsPerRequest: number | null;
  /** For points behind nginx: the backend's and nginx's own µs per request. */
  serverUsPerRequestParts: Record<string, number | null>;
  serverCpu: number | null;
  clientCpuMax: number | null;
  saturation: Saturation;
  peakRssMiB: number | null;
  /**
   * How many times node:http's work this point did (null when not measured or not comparable):
   * by median req/s when neither side was a floor, by server CPU per request (node:http's µs
   * over this point's) when either was client-bound or contended, since a floor's req/s says
   * how fast the load generator was, not the server.
   */
  vsNodeHttp: number | null;
  /** What vsNodeHttp compares ('rps' or 'cpu'); absent in reports written before it existed. */
  vsNodeHttpBasis?: 'rps' | 'cpu' | null;
}

export interface PointRecord {
  id: string;
  kind: string;
  label: string;
  app: string;
  processes: number;
  threads: number;
  async: number;
  protocol: string;
  status: 'ok' | 'skipped' | 'error';
  reason: string | null;
  detail?: string;
  serverCommands: string[];
  clientCommand: string | null;
  nginxConf?: string;
  load: { connections: number; pipelining: number; workers: number };
  notes: string[];
  peakRssKb: Record<string, number>;
  runs: RunRecord[];
  summary: Summary | null;
}

export interface CrossCheck {
  point: string;
  wrk: { rps: number | null; p99Ms: number | null; clientCpu: number | null; command: string } | null;
  autocannonMedian: number | null;
  ratio: number | null;
  note: string;
}

export interface Report {
  schema: typeof SCHEMA;
  startedAt: string;
  finishedAt: string;
  gitCommit: string | null;
  /** The exact command that produced this file. */
  command: string;
  settings: {
    quick: boolean;
    rounds: number;
    durationS: number;
    warmupS: number;
    connections: number;
    pipelining: number;
    workers: number;
    push: boolean;
    logging: boolean;
    matrix: string;
    only: string | null;
    maxOther: number;
    retries: number;
    quietWaitS: number;
  };
  machine: MachineInfo;
  tools: Record<string, string | null>;
  pinning: PinningPlan & { clientCapacity: number; serverCapacity: number };
  apps: { name: string; description: string }[];
  points: PointRecord[];
  crossCheck: CrossCheck | null;
}

/** Problems with a parsed results file (empty when it is a valid tsgi-bench/1 report). */
export function validateReport(x: unknown): string[] {
  const errs: string[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(x)) return ['not a JSON object'];
  if (x['schema'] !== SCHEMA) errs.push(`schema is ${JSON.stringify(x['schema'])}, expected ${SCHEMA}`);
  for (const k of ['startedAt', 'finishedAt', 'command']) if (typeof x[k] !== 'string') errs.push(`${k}: not a string`);
  for (const k of ['settings', 'machine', 'tools', 'pinning']) if (!isObj(x[k])) errs.push(`${k}: not an object`);
  const m = x['machine'];
  if (isObj(m)) {
    for (const k of ['cpuModel', 'node']) if (typeof m[k] !== 'string') errs.push(`machine.${k}: not a string`);
    for (const k of ['cores', 'memoryGiB']) if (typeof m[k] !== 'number') errs.push(`machine.${k}: not a number`);
  }
  if (!Array.isArray(x['points'])) return [...errs, 'points: not an array'];
  x['points'].forEach((p: unknown, i: number) => {
    const at = `points[${i}]`;
    if (!isObj(p)) {
      errs.push(`${at}: not an object`);
      return;
    }
    for (const k of ['id', 'kind', 'label', 'app', 'protocol'])
      if (typeof p[k] !== 'string') errs.push(`${at}.${k}: not a string`);
    for (const k of ['processes', 'threads', 'async'])
      if (!Number.isInteger(p[k])) errs.push(`${at}.${k}: not an integer`);
    if (!['ok', 'skipped', 'error'].includes(p['status'] as string))
      errs.push(`${at}.status: ${JSON.stringify(p['status'])}`);
    if (p['status'] !== 'ok' && typeof p['reason'] !== 'string')
      errs.push(`${at}.reason: a ${String(p['status'])} point needs a reason`);
    if (!Array.isArray(p['runs'])) errs.push(`${at}.runs: not an array`);
    if (!Array.isArray(p['serverCommands'])) errs.push(`${at}.serverCommands: not an array`);
    const s = p['summary'];
    if (p['status'] === 'ok' && !isObj(s)) errs.push(`${at}.summary: missing for an ok point`);
    if (isObj(s)) {
      const r = s['rps'];
      if (
        !isObj(r) ||
        typeof r['median'] !== 'number' ||
        typeof r['min'] !== 'number' ||
        typeof r['max'] !== 'number'
      ) {
        errs.push(`${at}.summary.rps: needs median, min, max`);
      }
      if (!isObj(s['latencyMs'])) errs.push(`${at}.summary.latencyMs: not an object`);
      if (!isObj(s['saturation'])) errs.push(`${at}.summary.saturation: not an object`);
    }
  });
  return errs;
}
