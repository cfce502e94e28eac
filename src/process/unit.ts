// The serving unit: what serves requests in a process. With --threads 1 it is the app and one
// native Server on this thread (serve()); with --threads T, T app threads each with its own
// Server on the same listening fds, supervised by Piscina (src/process/threads.ts). The CLI
// without a master and every worker process start it with the same call, so both serve alike.

import type { LoadedApp } from '../app';
import type { Config } from '../config';
import { addon, type ServerCounters } from '../native';
import { logLine } from './log';
import { enableOptimizer } from './optimizer';
import { serve } from './serve';
import { type BoundSocket, handOver } from './sockets';
import { installCrashGuards, loadTheApp } from './startup';
import type { ThreadGroup } from './threads';

export type AppKind = LoadedApp['kind'];

/** What a process serves with; signal handlers and the master's messages drive it. */
export interface ServingUnit {
  /** App threads serving: 1 for this thread, T for a thread group. */
  readonly threads: number;
  /** The app's kind, and how long its load took (the first thread's in a group). */
  readonly app: { kind: AppKind; loadMs: number };
  /** Stops accepting; resolves once in-flight requests finished and connections closed. */
  stop(): Promise<void>;
  /** Drops everything now. */
  destroy(): void;
  /** The native Server counters, summed over the unit's threads. */
  counters(): Promise<ServerCounters>;
}

export interface UnitOptions {
  /** 1-based worker id (uWSGI's numbering); 1 for the CLI without a master. */
  workerId: number;
  /** Where request log lines go: the process log's fd. */
  logFd: number;
  /** More than one worker process serves these sockets. */
  multiprocess: boolean;
  /** The inherited fd of the master's shared scoreboard (src/stats, native/src/scoreboard). */
  scoreboardFd?: number;
}

/**
 * Loads the app and serves it on `sockets`, on this thread or on config.threads threads.
 * Rejects when the app cannot be loaded (a TsgiError for exit code 22, as for one thread).
 */
export function startServingUnit(config: Config, sockets: BoundSocket[], opts: UnitOptions): Promise<ServingUnit> {
  return config.threads > 1 ? startThreadGroup(config, sockets, opts) : startOnThisThread(config, sockets, opts);
}

async function startOnThisThread(config: Config, sockets: BoundSocket[], opts: UnitOptions): Promise<ServingUnit> {
  const started = process.hrtime.bigint();
  const app = await loadTheApp(config);
  const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
  const server = serve(config, app, sockets, {
    workerId: opts.workerId,
    coreId: 0,
    logFd: opts.logFd,
    multiprocess: opts.multiprocess,
    multithread: false,
    scoreboard:
      opts.scoreboardFd === undefined
        ? undefined
        : { handle: addon.attachScoreboard(opts.scoreboardFd), workerIndex: opts.workerId - 1, coreIndex: 0 },
  });
  installCrashGuards();
  enableOptimizer();
  return {
    threads: 1,
    app: { kind: app.kind, loadMs },
    // The Server accepts on duplicates it closes as it stops; the inherited fds go with them
    // (handed over: closed natively right before its last accept), so the socket closes once
    // no process serves it and new connections are refused at once instead of queueing until
    // this process exits (native/src/loop/server.cc, CloseListeners). The master, or the CLI
    // at exit, removes UNIX socket files.
    stop: () => server.stop(handOver(sockets)),
    destroy: () => server.destroy(),
    counters: async () => server.server.counters(),
  };
}

async function startThreadGroup(config: Config, sockets: BoundSocket[], opts: UnitOptions): Promise<ServingUnit> {
  // Piscina is loaded only where threads run: importing it costs a process about 8 MiB of RSS
  // (measured on Node 20 with process.memoryUsage().rss before and after the import).
  const { startThreads } = require('./threads') as typeof import('./threads');
  const group = await startThreads({
    config,
    sockets,
    workerId: opts.workerId,
    threads: config.threads,
    logFd: opts.logFd,
    multiprocess: opts.multiprocess,
    extraServeOptions: opts.scoreboardFd === undefined ? undefined : { scoreboardFd: opts.scoreboardFd },
  });
  installThreadHarakiri(group);
  enableOptimizer();
  return group;
}

/**
 * Harakiri for app threads: the native watchdog (native/src/loop/harakiri.h) answers the
 * stuck request 504 and asks this process's main thread to stop the stuck thread, which the
 * thread group then replaces like a crashed one. Without this handler (one thread per
 * process) the watchdog kills the whole process and the master respawns it.
 */
function installThreadHarakiri(group: ThreadGroup): void {
  addon.setHarakiriHandler((threadId: number, coreId: number) => {
    logLine(`tsgi: harakiri: terminating thread ${coreId} (thread id ${threadId}); it will be replaced`);
    void group.terminateThread(coreId);
  });
}
