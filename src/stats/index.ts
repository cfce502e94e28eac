// Wiring of the stats server for a running instance: the one call the CLI (single process)
// and the master make. It reads the scoreboard at each connection, asks the kernel for the
// listening sockets' queues, and serves the document in uWSGI's format.

import type { Config } from '../config';
import { formatAddress, packageVersion } from '../config';
import { addon, type ScoreboardHandle } from '../native';
import { logLine } from '../process/log';
import type { BoundSocket } from '../process/sockets';
import { buildStatsDocument, type StatsSocket, statsVersion } from './document';
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
export { type ProcessMemory, readProcessMemory } from './memory';
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

/** Starts --stats for `config` (resolves to null when --stats is not set). */
export async function startStatsFor(config: Config, sources: StatsSources): Promise<StatsServer | null> {
  if (config.stats === undefined) return null;
  const version = statsVersion(packageVersion());
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  // A host-less --stats :P binds loopback only: the document shows every in-flight request.
  // (uWSGI binds every interface; 0.0.0.0:P still asks for that.)
  const a = config.stats;
  const address = a.kind === 'tcp' && a.raw.startsWith(':') ? { ...a, host: '127.0.0.1' } : a;
  if (address !== a)
    logLine(`tsgi: --stats ${a.raw} has no host: bound to 127.0.0.1 only (give 0.0.0.0${a.raw} for every interface)`);
  return startStatsServer({
    address,
    http: config.statsHttp,
    minified: config.statsMinified,
    chmod: config.chmodSocket,
    timeoutMs: config.socketTimeout * 1000,
    onError: sources.onError,
    getDocument: () =>
      buildStatsDocument(addon.scoreboardSnapshot(sources.scoreboard), {
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
