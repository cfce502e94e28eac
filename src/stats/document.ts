// Builds the stats document (uWSGI 2.0's `uwsgi_master_generate_stats` schema, key order
// included) from a scoreboard snapshot plus what only the serving process knows (pid, cwd,
// sockets). The emitter (emitter.ts) turns it into bytes. Mapping and differences:
// docs/stats.md.

import type { SocketProtocol } from '../config';
import type { ScoreboardSnapshot } from '../native';
import type { StatsObject, StatsValue } from './emitter';

/** Reported as "version": the uWSGI stats schema this document follows, then tsgi's version. */
export const STATS_SCHEMA_VERSION = '2.0.21';

export function statsVersion(packageVersion: string): string {
  return `${STATS_SCHEMA_VERSION}-tsgi-${packageVersion}`;
}

/** uWSGI's default lock names, in registration order (`user 0` is the one --locks default). */
export const DEFAULT_LOCKS: readonly string[] = [
  'user 0',
  'signal',
  'filemon',
  'timer',
  'rbtimer',
  'cron',
  'rpc',
  'snmp',
];

/** Worker status bits in the scoreboard (native ScoreboardStatus). */
export const WORKER_CHEAP = 1;
export const WORKER_PAUSE = 2;

export interface StatsSocket {
  /** As uWSGI prints it: "127.0.0.1:3031", ":9090", "/tmp/app.sock", "@name". */
  name: string;
  proto: SocketProtocol;
  /** Current accept-queue length (TCP_INFO); 0 for UNIX sockets, as on uWSGI. */
  queue: number;
  /** The listen backlog (TCP_INFO); 0 for UNIX sockets. */
  maxQueue: number;
}

export interface StatsContext {
  version: string;
  pid: number;
  uid: number;
  gid: number;
  cwd: string;
  sockets: StatsSocket[];
  /** The one app: `startupTime` is the whole seconds its loading took (uWSGI's meaning, so
   *  usually 0), `chdir` its --chdir ("" when none). */
  app: { mountpoint: string; startupTime: number; chdir: string };
  /** --stats-no-cores: leave out every worker's `cores` list. */
  noCores?: boolean;
  /** --stats-show-credentials: show the request vars that carry credentials as they are. */
  showCredentials?: boolean;
}

/**
 * Request vars that carry credentials or session state. Anyone who can connect to the stats
 * socket reads the in-flight requests' vars, so their values are replaced unless asked for
 * (uWSGI shows them).
 */
const CREDENTIAL_VARS = new Set(['HTTP_AUTHORIZATION', 'HTTP_PROXY_AUTHORIZATION', 'HTTP_COOKIE', 'HTTP_X_API_KEY']);
const REDACTED = '[redacted]';

/** "KEY=VALUE" with the value of a credential var replaced. */
export function redactVar(entry: string): string {
  const eq = entry.indexOf('=');
  return eq > 0 && CREDENTIAL_VARS.has(entry.slice(0, eq)) ? entry.slice(0, eq + 1) + REDACTED : entry;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

function workerStatus(bits: number, busy: boolean): string {
  if (bits & WORKER_CHEAP) return 'cheap';
  if (bits & WORKER_PAUSE && !busy) return 'pause';
  return busy ? 'busy' : 'idle';
}

/** Builds the document object for emitStats. Objects are created with keys in uWSGI's order. */
export function buildStatsDocument(snapshot: ScoreboardSnapshot, ctx: StatsContext): StatsObject {
  const listenQueue = ctx.sockets.reduce((m, s) => Math.max(m, s.queue), 0);
  const workers: StatsValue[] = snapshot.workers.map((w, wi) => {
    const cores = snapshot.cores[wi] ?? [];
    const requests = sum(cores.map((c) => c.requests));
    const exceptions = sum(cores.map((c) => c.exceptions));
    const busy = cores.some((c) => c.inRequest !== 0);
    // uWSGI keeps one avg_rt per worker; tsgi keeps one per core (no shared write on the hot
    // path) and reports the mean over the cores that served requests.
    const served = cores.filter((c) => c.requests > 0);
    const avgRt = served.length === 0 ? 0 : Math.floor(sum(served.map((c) => c.avgRt)) / served.length);
    const worker: { [key: string]: StatsValue } = {
      id: wi + 1,
      pid: w.pid,
      accepting: w.accepting,
      requests,
      delta_requests: Math.max(0, requests - w.requestsBase),
      exceptions,
      harakiri_count: w.harakiriCount,
      signals: w.signals,
      signal_queue: 0,
      status: workerStatus(w.status, busy),
      rss: w.rss,
      vsz: w.vsz,
      running_time: sum(cores.map((c) => c.runningTime)),
      last_spawn: w.lastSpawn,
      respawn_count: w.respawnCount,
      tx: sum(cores.map((c) => c.tx)),
      avg_rt: avgRt,
      apps: [
        {
          id: 0,
          modifier1: 0,
          mountpoint: ctx.app.mountpoint,
          startup_time: ctx.app.startupTime,
          // uWSGI counts app requests when they start, worker requests when they end.
          requests: requests + sum(cores.map((c) => c.inflight)),
          exceptions,
          chdir: ctx.app.chdir,
        },
      ],
    };
    if (!ctx.noCores) {
      worker.cores = cores.map((c, ci) => {
        const inRequest = c.inRequest !== 0;
        const shown = ctx.showCredentials === true ? c.vars : c.vars.map(redactVar);
        const vars: string[] = inRequest && c.vars.length > 0 ? [...shown, ''] : [];
        const reqInfo: StatsObject = inRequest && c.requestStart > 0 ? { request_start: c.requestStart } : {};
        const core: StatsObject = {
          id: ci,
          requests: c.requests,
          static_requests: 0,
          routed_requests: 0,
          offloaded_requests: 0,
          write_errors: c.writeErrors,
          read_errors: c.readErrors,
          in_request: inRequest ? 1 : 0,
          vars,
          req_info: reqInfo,
        };
        return core;
      });
    }
    return worker;
  });
  return {
    version: ctx.version,
    listen_queue: listenQueue,
    listen_queue_errors: 0,
    signal_queue: 0,
    load: listenQueue,
    pid: ctx.pid,
    uid: ctx.uid,
    gid: ctx.gid,
    cwd: ctx.cwd,
    locks: DEFAULT_LOCKS.map((name) => new Map<string, StatsValue>([[name, 0]])),
    sockets: ctx.sockets.map((s) => ({
      name: s.name,
      proto: s.proto,
      queue: s.queue,
      max_queue: s.maxQueue,
      shared: 0,
      can_offload: 0,
    })),
    workers,
  };
}
