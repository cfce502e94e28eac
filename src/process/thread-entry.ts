// The module Piscina runs in every app thread (src/process/threads.ts starts the pool).
//
// A thread gets exactly ONE task for its whole life: load the app, start its own native
// Server on the shared listening fds (serve() with coreId = the thread's core index), and
// resolve only when that Server has stopped. Requests never cross threads: this thread
// accepts, parses, runs the app and answers on its own libuv loop.
//
// The task carries a MessagePort (`control`) that stays open while the thread serves:
//   main → thread   { type: 'stop' }       graceful: server.stop(), finish in-flight requests
//                   { type: 'counters' }   answer with the Server's counters
//   thread → main   { type: 'ready', ... } the app is loaded and the Server accepts
//                   { type: 'counters', counters }
//
// When the app cannot be loaded, the task rejects with an Error whose message is
// LOAD_FAILED_PREFIX + JSON {message, code, stack}: the rejection is the only channel whose
// order against the thread's death is fixed (a port message may arrive after it).
//
// What this thread does NOT install: an 'uncaughtException' handler. An exception that no
// request owns (a throw from a timer in app code) kills this thread only; the native
// addon's env cleanup hook closes every handle of its Server, Piscina reports the death,
// and threads.ts starts a replacement. Unhandled promise rejections are logged and the
// thread keeps serving, as in the single-thread worker (src/cli/main.ts).

import * as fs from 'node:fs';
import { type MessagePort, threadId } from 'node:worker_threads';
import { type LoadedApp, loadApp } from '../app';
import type { Config } from '../config';
import type { ServerCounters } from '../native';
import { addon } from '../native';
import { type ServeOptions, serve, type ThreadServer } from './serve';
import type { BoundSocket } from './sockets';

export interface ThreadTask {
  config: Config;
  sockets: BoundSocket[];
  workerId: number;
  coreId: number;
  logFd: number;
  multiprocess: boolean;
  extraServeOptions?: Record<string, unknown>;
  control: MessagePort;
}

export type ThreadMessage =
  | { type: 'ready'; coreId: number; threadId: number; loadMs: number; kind: 'gateway' | 'fetch' | 'node' }
  | { type: 'counters'; counters: ServerCounters | null };

export const LOAD_FAILED_PREFIX = 'tsgi-thread-load-failed:';

export interface LoadFailure {
  message: string;
  code?: string;
  stack?: string;
}

export type ControlMessage = { type: 'stop' } | { type: 'counters' };

export interface ThreadResult {
  coreId: number;
  /** false when the stop request came before the app was loaded. */
  served: boolean;
  requests: number;
}

function writeLog(fd: number, line: string): void {
  try {
    fs.writeSync(fd, line.endsWith('\n') ? line : line + '\n');
  } catch {
    // A log that cannot be written must not take the thread down.
  }
}

let guardsInstalled = false;

export default async function runThread(task: ThreadTask): Promise<ThreadResult> {
  const { config, control, coreId, workerId, logFd } = task;
  if (!guardsInstalled) {
    guardsInstalled = true;
    process.on('unhandledRejection', (reason) => {
      writeLog(
        logFd,
        `tsgi: unhandled promise rejection in app code (thread ${coreId} of worker ${workerId}): ${(reason as Error)?.stack ?? String(reason)}`,
      );
    });
  }

  let serving: ThreadServer | null = null;
  let stopRequested = false;
  let stopped: (() => void) | null = null;
  const stoppedPromise = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const post = (m: ThreadMessage): void => control.postMessage(m);

  const requestStop = (): void => {
    if (stopRequested) return;
    stopRequested = true;
    if (serving !== null) void serving.stop().then(() => stopped!());
  };
  control.on('message', (m: ControlMessage) => {
    if (m.type === 'stop') requestStop();
    else if (m.type === 'counters')
      post({ type: 'counters', counters: serving !== null ? serving.server.counters() : null });
  });

  const started = process.hrtime.bigint();
  let app: LoadedApp;
  try {
    app = await loadApp({
      wsgiFile: config.appPath ?? config.wsgiFile,
      module: config.module,
      callable: config.callable,
      chdir: config.chdir,
      appType: config.appType,
    });
  } catch (err) {
    const e = err as Error & { code?: unknown };
    const info: LoadFailure = {
      message: e?.message ?? String(err),
      code: typeof e?.code === 'string' ? e.code : undefined,
      stack: e?.stack,
    };
    control.close();
    throw new Error(LOAD_FAILED_PREFIX + JSON.stringify(info));
  }
  if (stopRequested) {
    control.close();
    return { coreId, served: false, requests: 0 };
  }

  const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
  const { scoreboardFd, ...extra } = (task.extraServeOptions ?? {}) as { scoreboardFd?: number };
  const options: ServeOptions = {
    ...extra,
    workerId,
    coreId,
    logFd,
    multiprocess: task.multiprocess,
    multithread: true,
    threadId,
  };
  // A scoreboard handle cannot cross threads: each thread maps the shared region itself.
  if (typeof scoreboardFd === 'number') {
    options.scoreboard = { handle: addon.attachScoreboard(scoreboardFd), workerIndex: workerId - 1, coreIndex: coreId };
  }
  serving = serve(config, app, task.sockets, options);
  post({ type: 'ready', coreId, threadId, loadMs, kind: app.kind });

  await stoppedPromise;
  const requests = serving.server.counters().requests;
  control.close();
  return { coreId, served: true, requests };
}
