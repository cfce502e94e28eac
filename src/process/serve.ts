// Serving on the current thread: one native Server over the bound sockets, whose request
// callbacks go straight into the app dispatcher (no hop between threads or processes).

import { createDispatcher, type LoadedApp, WHOLE_BODY_MAX } from '../app';
import type { Config } from '../config';
import { compileLogFormat } from '../config/logformat';
import { addon, type NativeServer, type ScoreboardHandle } from '../native';
import type { Transport } from '../native/types';
import { type BoundSocket, listenerOptions } from './sockets';

export interface ServeOptions {
  workerId: number;
  coreId: number;
  logFd: number;
  multiprocess: boolean;
  multithread: boolean;
  /** node:worker_threads' threadId of this thread (0 on a process's main thread), passed in
   *  so the main thread need not load node:worker_threads for it. */
  threadId?: number;
  /** This core's slot in the shared scoreboard (src/stats; native/src/scoreboard). */
  scoreboard?: { handle: ScoreboardHandle; workerIndex: number; coreIndex: number };
}

/** One native Server on this thread: the part of a serving unit each app thread runs. */
export interface ThreadServer {
  server: NativeServer;
  /** Stops accepting; resolves once in-flight requests finished and connections closed. */
  /** `giveUp`: fds of the listening sockets handed to the native Server to close. */
  stop(giveUp?: number[]): Promise<void>;
  /** Drops everything now. */
  destroy(): void;
}

/** Adapts the native Server to the Transport the app layer speaks. `get` returns the
 *  Server, which is created after the dispatcher (each needs the other). */
function transportFor(get: () => NativeServer): Transport {
  return {
    respond: (id, status, headers, flags, body) => {
      get().respond(id, status, headers, flags, body);
    },
    writeHead: (id, status, headers, flags) => {
      get().writeHead(id, status, headers, flags);
    },
    write: (id, chunk) => get().write(id, chunk),
    end: (id, chunk, trailers) => {
      get().end(id, chunk, trailers);
    },
    abort: (id) => {
      get().abort(id);
    },
    writeContinue: (id) => {
      get().writeContinue(id);
    },
    pauseInput: (id) => {
      get().pauseInput(id);
    },
    resumeInput: (id) => {
      get().resumeInput(id);
    },
    log: (line) => get().log(line),
    countException: () => get().countException(),
  };
}

export function serve(config: Config, app: LoadedApp, sockets: BoundSocket[], opts: ServeOptions): ThreadServer {
  let onClosed: (() => void) | null = null;
  let server: NativeServer | null = null;
  const dispatcher = createDispatcher(
    app,
    transportFor(() => server!),
    {
      workerId: opts.workerId,
      coreId: opts.coreId,
      multithread: opts.multithread,
      multiprocess: opts.multiprocess,
    },
  );
  // The dispatcher's callbacks are plain closures, handed to native code as they are so a
  // request costs one JS call.
  const started = new addon.Server(
    {
      listeners: listenerOptions(sockets),
      bufferSize: config.bufferSize,
      limitPost: config.limitPost,
      socketTimeoutMs: config.socketTimeout * 1000,
      postBuffering: config.postBuffering,
      minBodyRate: config.minBodyRate,
      maxConnections: config.maxConnections,
      servingThreads: config.threads,
      keepaliveTimeoutMs: config.httpKeepaliveTimeout * 1000,
      maxInflight: config.async,
      maxVars: config.maxVars,
      logging: !config.disableLogging,
      logMicros: config.logMicros,
      logFormat: config.logFormat === undefined ? undefined : compileLogFormat(config.logFormat),
      workerId: opts.workerId,
      logDate: typeof config.logDate === 'string' ? config.logDate : undefined,
      logWhen: {
        status4xx: config.log4xx,
        status5xx: config.log5xx,
        slowMs: config.logSlow,
        bigBytes: config.logBig,
        zero: config.logZero,
      },
      logFd: opts.logFd,
      coreId: opts.coreId,
      scoreboard: opts.scoreboard?.handle,
      workerIndex: opts.scoreboard?.workerIndex,
      coreIndex: opts.scoreboard?.coreIndex,
      harakiriMs: config.harakiri * 1000,
      threadId: opts.threadId ?? 0,
      rawHeaders: app.kind === 'node',
      wholeBodyMax: app.kind === 'node' ? 0 : WHOLE_BODY_MAX,
      // node:http emits 'checkContinue' instead of answering 100 itself when the server has
      // listeners for it (lib/_http_server.js); they are looked at once, at start.
      continueByApp: app.kind === 'node' && app.server !== undefined && app.server.listenerCount('checkContinue') > 0,
    },
    {
      onRequest: dispatcher.onRequest,
      onData: dispatcher.onData,
      onDrain: dispatcher.onDrain,
      onAbort: dispatcher.onAbort,
      onClosed: () => onClosed?.(),
    },
  );
  server = started;
  dispatcher.setMeta(started.meta);
  return {
    server: started,
    stop: (giveUp?: number[]) =>
      new Promise<void>((resolve) => {
        onClosed = resolve;
        started.stop(giveUp);
      }),
    destroy: () => started.destroy(),
  };
}
