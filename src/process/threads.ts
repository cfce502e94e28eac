// --threads T: the app runs on T worker threads inside one process, each thread with its
// OWN native Server (accept loop) on the shared listening fds (docs/threads.md, "How a request
// is served"), uWSGI's model where every core accepts. No request ever crosses threads, and
// there is never one Piscina task per request: each thread runs ONE long-lived task
// (src/process/thread-entry.ts) that loads the app, serves, and returns only when its
// Server has stopped. Piscina is the supervisor: it creates the threads, notices when one
// dies and creates its replacement; this module then gives the replacement a new task.
//
// API (startServingUnit() in src/process/unit.ts calls it for the CLI and the worker process):
//
//   const group = await startThreads({ config, sockets, workerId, threads, logFd,
//                                      multiprocess, extraServeOptions?, resourceLimits? });
//     Resolves once every thread has loaded the app and accepts. Rejects (after tearing the
//     threads down) when a thread cannot load the app at startup: the error is rebuilt as a
//     TsgiError when it was one (so `fail()` exits 22 as for a single thread).
//     `sockets` are the bound listening sockets of this process; only their fd numbers
//     cross to the threads (same process, same fd table). `extraServeOptions` is spread
//     into serve()'s options in every thread (it must be structured-cloneable; a
//     SharedArrayBuffer is shared, not copied). `logFd` is where the threads write their
//     request log lines (the process's log fd).
//   group.threads               T
//   group.app                   { kind, loadMs } of the first thread's app load
//   group.stop(): Promise<void> graceful: every thread's server.stop(), in-flight requests
//                               finish, connections close; then the pool is destroyed.
//                               Idempotent; no thread is respawned once it was called.
//   group.destroy(): void       drops everything now (threads terminated; the addon's env
//                               cleanup hook closes their handles).
//   group.counters()            Promise of the Server counters summed over serving threads.
//   group.terminateThread(core) terminates that core's thread (worker.terminate()); it is
//                               replaced like a crashed one. For a per-thread harakiri.
//   group.onThreadExit          optional callback (info: ThreadExitInfo) after a thread died
//   group.onThreadReady         optional callback (info: ThreadReadyInfo) when a thread serves
//
// Piscina options and why: minThreads = maxThreads = T (a fixed set of cores); atomics
// 'disabled' (with the default 'sync' an idle Piscina worker blocks in Atomics.wait and its
// event loop — sockets, timers — would freeze; ours must keep running); idleTimeout
// Infinity; concurrentTasksPerWorker 1 (so the T tasks land on T distinct threads);
// recordTiming false; resourceLimits passed through.
//
// Crash replacement: when a thread dies (uncaught exception, process.exit() in the thread,
// heap above resourceLimits, terminate()), Piscina rejects its task and spawns a new
// thread; we log `tsgi: thread <core> of worker <id> died: <cause>; replacing it` and run a
// new task for that core, which lands on the new thread. Respawns are bounded: from the
// 3rd consecutive failure of a core within STABLE_MS of its start, and after every failed
// app load, the next start waits (1 s, doubling, at most 30 s).
//
// Signals: worker threads get no signals. The process's main thread handles them and calls
// stop() / destroy(); the main thread itself never runs app code.

import * as path from 'node:path';
import { MessageChannel, type MessagePort, type ResourceLimits, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Config } from '../config';
import { ERROR_CODES, type ErrorCode, TsgiError } from '../errors';
import type { ServerCounters } from '../native';
import { logLine } from './log';
import type { BoundSocket } from './sockets';
import {
  type ControlMessage,
  LOAD_FAILED_PREFIX,
  type LoadFailure,
  type ThreadMessage,
  type ThreadResult,
  type ThreadTask,
} from './thread-entry';
import type { ServingUnit } from './unit';

export interface StartThreadsOptions {
  config: Config;
  sockets: BoundSocket[];
  workerId: number;
  threads: number;
  logFd: number;
  multiprocess: boolean;
  /** Spread into serve()'s options in every thread (structured-cloneable). */
  extraServeOptions?: Record<string, unknown>;
  /** Per-thread V8 limits (Worker resourceLimits); a thread above them dies and is replaced. */
  resourceLimits?: ResourceLimits;
  /** Respawn back-off (ms): first delay and cap. Defaults 1000 and 30000. */
  backoffMs?: { base: number; max: number };
}

export interface ThreadExitInfo {
  core: number;
  /** The error Piscina reported (the thread's uncaught error, or "worker exited ..."). */
  error: Error;
  /** One-line description, as logged. */
  cause: string;
  /** Delay before the replacement task starts. */
  respawnInMs: number;
}

export interface ThreadReadyInfo {
  core: number;
  threadId: number;
  loadMs: number;
  /** false for the first start of the core, true for a replacement. */
  respawned: boolean;
}

/** A serving unit of T app threads, with what a supervisor of threads adds. */
export interface ThreadGroup extends ServingUnit {
  terminateThread(core: number): Promise<boolean>;
  onThreadExit?: (info: ThreadExitInfo) => void;
  onThreadReady?: (info: ThreadReadyInfo) => void;
}

/** A core that served at least this long before dying is not counted as a fast failure. */
const STABLE_MS = 1000;
/** Fast failures in a row allowed before respawns are delayed. */
const FAST_FAILURES_ALLOWED = 2;

// dist/process/threads.js runs dist/process/thread-entry.js; under tsx, the .ts sibling.
const ENTRY = path.join(__dirname, 'thread-entry' + path.extname(__filename));

interface Core {
  index: number;
  port: MessagePort | null;
  /** Settles (never rejects) when the current task ends. */
  done: Promise<void> | null;
  threadId: number;
  startedAt: number;
  readyAt: number;
  everReady: boolean;
  fastFailures: number;
  timer: NodeJS.Timeout | null;
  counterWaiters: Array<(c: ServerCounters | null) => void>;
}

function describe(err: Error, load: LoadFailure | null): string {
  if (load !== null) return `the app could not be loaded: ${firstLine(load.message)}`;
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return `out of memory (resourceLimits): ${firstLine(err.message)}`;
  const m = /^worker exited with code: (-?\d+)/.exec(err.message ?? '');
  if (m) return `the thread exited with code ${m[1]} (process.exit() in app code, or terminated)`;
  return `uncaught ${err.name ?? 'Error'}: ${firstLine(err.message ?? String(err))}`;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** The app-load failure a thread's task rejected with, if that is what it was. */
function loadFailureOf(err: Error | null): LoadFailure | null {
  if (err === null || typeof err.message !== 'string' || !err.message.startsWith(LOAD_FAILED_PREFIX)) return null;
  try {
    return JSON.parse(err.message.slice(LOAD_FAILED_PREFIX.length)) as LoadFailure;
  } catch {
    return null;
  }
}

function rebuildLoadError(load: LoadFailure): Error {
  if (load.code !== undefined && Object.hasOwn(ERROR_CODES, load.code)) {
    return new TsgiError(load.code as ErrorCode, load.message);
  }
  const e = new Error(load.message);
  if (load.stack !== undefined) e.stack = load.stack;
  return e;
}

export async function startThreads(opts: StartThreadsOptions): Promise<ThreadGroup> {
  const T = opts.threads;
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`threads must be a positive integer, got ${T}`);
  const group = new PiscinaGroup(opts);
  group.launchAll();
  await group.started;
  return group;
}

/** Delay before a dead core's replacement task starts (the back-off of the header). */
function respawnDelay(fastFailures: number, loadFailed: boolean, backoff: { base: number; max: number }): number {
  if (loadFailed) return Math.min(backoff.max, backoff.base * 2 ** Math.max(0, fastFailures - 1));
  if (fastFailures <= FAST_FAILURES_ALLOWED) return 0;
  return Math.min(backoff.max, backoff.base * 2 ** (fastFailures - FAST_FAILURES_ALLOWED - 1));
}

/** Asks one core's thread for its Server counters; null when it does not serve or answer in 1 s. */
function coreCounters(c: Core): Promise<ServerCounters | null> {
  return new Promise<ServerCounters | null>((resolve) => {
    if (c.port === null || c.readyAt === 0) return resolve(null);
    const waiter = (v: ServerCounters | null): void => {
      clearTimeout(t);
      resolve(v);
    };
    const t = setTimeout(() => {
      const i = c.counterWaiters.indexOf(waiter);
      if (i >= 0) c.counterWaiters.splice(i, 1);
      resolve(null);
    }, 1000);
    c.counterWaiters.push(waiter);
    c.port.postMessage({ type: 'counters' } satisfies ControlMessage);
  });
}

function closePort(core: Core): void {
  if (core.port !== null) {
    core.port.close();
    core.port = null;
  }
  for (const w of core.counterWaiters.splice(0)) w(null);
}

class PiscinaGroup implements ThreadGroup {
  readonly threads: number;
  onThreadExit?: (info: ThreadExitInfo) => void;
  onThreadReady?: (info: ThreadReadyInfo) => void;
  /** Resolves once every core served once; rejects when one could not start. */
  readonly started: Promise<void>;
  private startup!: { resolve: () => void; reject: (e: Error) => void };
  private readonly pool: Piscina;
  private readonly cores: Core[];
  private readonly backoff: { base: number; max: number };
  private stopping = false;
  private stopPromise: Promise<void> | null = null;
  private startupDone = false;
  private readyCount = 0;
  private firstApp: ServingUnit['app'] | null = null;

  constructor(private readonly opts: StartThreadsOptions) {
    this.threads = opts.threads;
    this.backoff = opts.backoffMs ?? { base: 1000, max: 30000 };
    this.started = new Promise<void>((resolve, reject) => {
      this.startup = { resolve, reject };
    });
    this.pool = new Piscina({
      filename: ENTRY,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Infinity,
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
      recordTiming: false,
      resourceLimits: opts.resourceLimits,
    });
    // A worker that fails with no task running (after its task settled) is reported here; an
    // EventEmitter 'error' without a listener would throw in the main thread.
    this.pool.on('error', (err: Error) => {
      if (!this.stopping)
        logLine(`tsgi: a thread of worker ${opts.workerId} failed outside its task: ${err?.message ?? String(err)}`);
    });
    this.cores = Array.from({ length: this.threads }, (_, index) => ({
      index,
      port: null,
      done: null,
      threadId: 0,
      startedAt: 0,
      readyAt: 0,
      everReady: false,
      fastFailures: 0,
      timer: null,
      counterWaiters: [],
    }));
  }

  get app(): ServingUnit['app'] {
    return this.firstApp ?? { kind: 'gateway' as const, loadMs: 0 };
  }

  launchAll(): void {
    for (const c of this.cores) this.launch(c);
  }

  stop(): Promise<void> {
    if (this.stopPromise !== null) return this.stopPromise;
    this.stopping = true;
    // Piscina unrefs a thread once its task is done: keep this loop alive until the
    // pool is gone, or the process could end before stop() resolves.
    const keepAlive = setInterval(() => {}, 1000);
    this.stopPromise = (async () => {
      for (const c of this.cores) {
        if (c.timer) {
          clearTimeout(c.timer);
          c.timer = null;
        }
        c.port?.postMessage({ type: 'stop' } satisfies ControlMessage);
      }
      await Promise.all(this.cores.map((c) => c.done));
      await this.pool.destroy();
    })().finally(() => clearInterval(keepAlive));
    return this.stopPromise;
  }

  destroy(): void {
    this.stopping = true;
    for (const c of this.cores) {
      if (c.timer) clearTimeout(c.timer);
      closePort(c);
    }
    void this.pool.destroy().catch(() => {});
  }

  async counters(): Promise<ServerCounters> {
    const parts = await Promise.all(this.cores.map(coreCounters));
    // Every counter is a number: sum them key by key, whatever the native side reports.
    const sum: Record<string, number> = {};
    for (const p of parts) {
      if (p === null) continue;
      for (const [k, v] of Object.entries(p)) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
    }
    return sum as unknown as ServerCounters;
  }

  async terminateThread(core: number): Promise<boolean> {
    const c = this.cores[core];
    if (c === undefined || c.threadId === 0) return false;
    const w = (this.pool.threads as Worker[]).find((t) => t.threadId === c.threadId);
    if (w === undefined) return false;
    await w.terminate();
    return true;
  }

  private who(core: number): string {
    return `thread ${core} of worker ${this.opts.workerId}`;
  }

  /** Runs the core's one long-lived task on a thread of the pool. */
  private launch(core: Core): void {
    core.timer = null;
    if (this.stopping) return;
    const { port1, port2 } = new MessageChannel();
    core.port = port1;
    core.threadId = 0;
    core.readyAt = 0;
    core.startedAt = Date.now();
    port1.on('message', (m: ThreadMessage) => this.onMessage(core, m));
    const task: ThreadTask = {
      config: this.opts.config,
      sockets: this.opts.sockets,
      workerId: this.opts.workerId,
      coreId: core.index,
      logFd: this.opts.logFd,
      multiprocess: this.opts.multiprocess,
      extraServeOptions: this.opts.extraServeOptions,
      control: port2,
    };
    core.done = (this.pool.run(task, { transferList: [port2] }) as Promise<ThreadResult>).then(
      () => this.onEnded(core, null),
      (err: unknown) => this.onEnded(core, err instanceof Error ? err : new Error(String(err))),
    );
  }

  private onMessage(core: Core, m: ThreadMessage): void {
    if (m.type === 'ready') this.onReady(core, m);
    else if (m.type === 'counters') core.counterWaiters.shift()?.(m.counters);
  }

  private onReady(core: Core, m: Extract<ThreadMessage, { type: 'ready' }>): void {
    core.threadId = m.threadId;
    core.readyAt = Date.now();
    const respawned = core.everReady;
    core.everReady = true;
    if (this.firstApp === null) this.firstApp = { kind: m.kind, loadMs: m.loadMs };
    if (respawned)
      logLine(
        `tsgi: ${this.who(core.index)} serves again (thread id ${m.threadId}, app loaded in ${Math.round(m.loadMs)} ms)`,
      );
    this.onThreadReady?.({ core: core.index, threadId: m.threadId, loadMs: m.loadMs, respawned });
    if (!this.startupDone && !respawned && ++this.readyCount === this.threads) {
      this.startupDone = true;
      this.startup.resolve();
    }
  }

  /** A core's task settled: at startup that fails the start; later the core is replaced. */
  private onEnded(core: Core, err: Error | null): void {
    const load = loadFailureOf(err);
    closePort(core);
    const readyAt = core.readyAt;
    core.readyAt = 0;
    core.threadId = 0;
    if (this.stopping) {
      if (err !== null && !/Terminating worker thread/.test(err.message)) {
        logLine(`tsgi: ${this.who(core.index)} died during shutdown: ${describe(err, load)}`);
      }
      return;
    }
    const error = err ?? new Error('the thread task ended without a stop request');
    if (!this.startupDone && !core.everReady) this.failStartup(load !== null ? rebuildLoadError(load) : error);
    else this.replace(core, err, error, load, readyAt);
  }

  /**
   * At startup a thread that cannot load the app (or dies before serving) ends the start:
   * the same fail-fast as the single-threaded worker.
   */
  private failStartup(error: Error): void {
    this.startupDone = true;
    this.stopping = true;
    for (const c of this.cores) if (c.timer) clearTimeout(c.timer);
    void this.pool.destroy().catch(() => {});
    this.startup.reject(error);
  }

  /** Logs the death of a serving core and starts its replacement, after the back-off. */
  private replace(core: Core, err: Error | null, error: Error, load: LoadFailure | null, readyAt: number): void {
    const cause = err === null ? 'its task ended without a stop request' : describe(error, load);
    const fast = readyAt === 0 || Date.now() - readyAt < STABLE_MS;
    core.fastFailures = fast ? core.fastFailures + 1 : 0;
    const delay = respawnDelay(core.fastFailures, load !== null, this.backoff);
    const why =
      load !== null
        ? ''
        : core.fastFailures > FAST_FAILURES_ALLOWED
          ? ` (${core.fastFailures} failures in a row within ${STABLE_MS} ms of serving)`
          : '';
    logLine(`tsgi: ${this.who(core.index)} died: ${cause}; replacing it${delay > 0 ? ` in ${delay} ms${why}` : ''}`);
    const stack = load?.stack ?? error.stack;
    if (stack && err !== null && (load !== null || /^uncaught /.test(cause))) {
      logLine(
        stack
          .split('\n')
          .map((l) => `tsgi:   ${l}`)
          .join('\n'),
      );
    }
    this.onThreadExit?.({ core: core.index, error, cause, respawnInMs: delay });
    if (delay > 0) core.timer = setTimeout(() => this.launch(core), delay);
    else this.launch(core);
  }
}
