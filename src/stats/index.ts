// Wiring of the stats server and the --metrics listener for a running instance: the calls
// the master makes. They read the scoreboard at each request, ask the kernel for the
// listening sockets' queues, and serve the document in uWSGI's format or the Prometheus
// exposition (GET /metrics on --stats-http and on --metrics).

import type { Address, Config } from '../config';
import { formatAddress, packageVersion } from '../config';
import { addon, type ScoreboardHandle, type ScoreboardSnapshot } from '../native';
import { logLine } from '../process/log';
import type { BoundSocket } from '../process/sockets';
import { buildStatsDocument, type StatsSocket, statsVersion } from './document';
import { type RouteContext, type RouteHandler, routeTable } from './http-routes';
import { startMetricsServer } from './metrics-server';
import { METRICS_CONTENT_TYPE, renderMetrics } from './prometheus';
import { type StatsServer, startStatsServer } from './server';

export {
  buildStatsDocument,
  DEFAULT_LOCKS,
  type StatsContext,
  type StatsSocket,
  statsVersion,
  WORKER_CHEAP,
  WORKER_PAUSE,
} from './document';
export { emitStats, type StatsObject, type StatsValue } from './emitter';
export { type HealthAnswer, livenessAnswer, type Readiness, readinessAnswer } from './health';
export {
  METRICS_PATH,
  type RouteContext,
  type RouteHandler,
  type RouteResponse,
  registerRoute,
  unregisterRoute,
} from './http-routes';
export { type ProcessMemory, readProcessMemory } from './memory';
export { METRICS_CONTENT_TYPE, type MetricsContext, renderMetrics } from './prometheus';
export { STATS_HTTP_HEAD, type StatsServer, type StatsServerOptions, startStatsServer } from './server';

export interface StatsSources {
  /** The instance's scoreboard (the master's, or the single process's own). */
  scoreboard: ScoreboardHandle;
  /** The listening sockets the workers serve (stats `sockets`). */
  sockets: readonly BoundSocket[];
  /** Whole seconds the app took to load (app `startup_time`, as uWSGI measures it). */
  appLoadSeconds?: number;
  /** Receives errors of the stats server (a failed document); default: ignored. */
  onError?(err: unknown): void;
  /** Graceful and chain reloads performed so far (tsgi_reloads_total); default 0. */
  reloads?(): number;
  /** Brings sampled values (each worker's rss/vsz) up to date before a snapshot is read. */
  refresh?(): void;
}

/** A fresh snapshot of the instance's scoreboard, sampled values refreshed first. */
function snapshotOf(sources: StatsSources): ScoreboardSnapshot {
  sources.refresh?.();
  return addon.scoreboardSnapshot(sources.scoreboard);
}

/** The socket name as uWSGI shows it: as written, with the real port for port 0. */
export function statsSocketName(s: BoundSocket): string {
  const a = s.address;
  if (a.kind === 'tcp') return a.port === 0 ? a.raw.slice(0, a.raw.lastIndexOf(':') + 1) + String(s.port) : a.raw;
  return formatAddress(a);
}

function socketStats(sockets: readonly BoundSocket[]): StatsSocket[] {
  return sockets.map((s) => {
    const q = s.address.kind === 'tcp' ? addon.listenQueue(s.fd) : { queue: 0, maxQueue: 0 };
    return { name: statsSocketName(s), proto: s.protocol, queue: q.queue, maxQueue: q.maxQueue };
  });
}

/** A host-less `:P` binds loopback only (uWSGI binds every interface; 0.0.0.0:P asks for that). */
function loopbackIfHostless(a: Address, option: string): Address {
  if (a.kind !== 'tcp' || !a.raw.startsWith(':')) return a;
  logLine(`tsgi: --${option} ${a.raw} has no host: bound to 127.0.0.1 only (give 0.0.0.0${a.raw} for every interface)`);
  return { ...a, host: '127.0.0.1' };
}

/** The routes of one instance's listeners, and how a handler is run with its context. */
function instanceRoutes(config: Config, sources: StatsSources) {
  const metrics: RouteHandler = (ctx) => ({
    status: 200,
    contentType: METRICS_CONTENT_TYPE,
    body: renderMetrics(ctx.snapshot(), {
      version: packageVersion(),
      nodeVersion: process.versions.node,
      sockets: socketStats(sources.sockets),
      workersConfigured: config.processes,
      reloads: sources.reloads?.() ?? 0,
    }),
  });
  const routes = routeTable(metrics);
  const run = (handler: RouteHandler, method: string, path: string, query: string) => {
    const ctx: RouteContext = {
      method,
      path,
      query,
      config,
      snapshot: () => snapshotOf(sources),
    };
    return handler(ctx);
  };
  return { routes, run };
}

/** Starts --stats for `config` (resolves to null when --stats is not set). */
export async function startStatsFor(config: Config, sources: StatsSources): Promise<StatsServer | null> {
  if (config.stats === undefined) return null;
  const version = statsVersion(packageVersion());
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  // Loopback only for a host-less address: the document shows every in-flight request.
  const address = loopbackIfHostless(config.stats, 'stats');
  const { routes, run } = instanceRoutes(config, sources);
  return startStatsServer({
    routes,
    answerRoute: (method, path, query) => run(routes.get(path)!, method, path, query),
    address,
    http: config.statsHttp,
    minified: config.statsMinified,
    chmod: config.chmodSocket,
    timeoutMs: config.socketTimeout * 1000,
    onError: sources.onError,
    getDocument: () =>
      buildStatsDocument(snapshotOf(sources), {
        version,
        pid: process.pid,
        uid,
        gid,
        cwd: process.cwd(),
        sockets: socketStats(sources.sockets),
        app: { mountpoint: '', startupTime: sources.appLoadSeconds ?? 0, chdir: config.chdir ?? '' },
        showCredentials: config.statsShowCredentials,
      }),
  });
}

/** Starts --metrics for `config` (resolves to null when --metrics is not set). */
export async function startMetricsFor(config: Config, sources: StatsSources): Promise<StatsServer | null> {
  if (config.metrics === undefined) return null;
  const { routes, run } = instanceRoutes(config, sources);
  return startMetricsServer({
    address: loopbackIfHostless(config.metrics, 'metrics'),
    routes,
    run,
    chmod: config.chmodSocket,
    timeoutMs: config.socketTimeout * 1000,
    onError: sources.onError,
  });
}
