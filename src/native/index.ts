// The one place that loads the addon. Everything else imports the typed surface from here.

import * as path from 'node:path';
import type { NativeCallbacks } from './types';

export interface ListenerOptions {
  fd: number;
  protocol: 'http' | 'uwsgi' | 'fastcgi' | 'scgi';
  unix: boolean;
  /** Default SERVER_NAME when a request carries no Host. */
  host: string;
  /** SERVER_PORT ("" for UNIX sockets). */
  port: string;
}

export interface ServerOptions {
  listeners: ListenerOptions[];
  bufferSize: number;
  limitPost: number;
  socketTimeoutMs: number;
  /** --post-buffering in bytes (0 = dispatch at the head). */
  postBuffering?: number;
  /** --min-body-rate in bytes per second (0 = none). */
  minBodyRate?: number;
  /** Open connections this Server keeps (0 = no cap). */
  maxConnections?: number;
  /** Serving threads sharing the process's descriptors (for the default maxConnections). */
  servingThreads?: number;
  keepaliveTimeoutMs: number;
  /** Requests handed to the app at once (--async N, or 1); 0 = unlimited. */
  maxInflight: number;
  maxVars: number;
  logging: boolean;
  logMicros: boolean;
  /** --log-format compiled (src/config/logformat.ts); absent = uWSGI's default line. */
  logFormat?: Array<{ lit: string } | { var: string } | { capture: string }>;
  /** 1-based worker id, for %(wid). */
  workerId?: number;
  /** --log-date: '' = uWSGI's default date prefix, else a strftime format; absent = none. */
  logDate?: string;
  /** Requests logged even when `logging` is off (uWSGI's --log-4xx, --log-5xx, --log-slow,
   *  --log-big, --log-zero); 0 / false = that condition is off. */
  logWhen?: { status4xx: boolean; status5xx: boolean; slowMs: number; bigBytes: number; zero: boolean };
  logFd: number;
  coreId: number;
  /** This Server's slot in the shared scoreboard (a handle from attachScoreboard). */
  scoreboard?: ScoreboardHandle;
  /** 0-based worker slot and core (thread) index in the scoreboard. */
  workerIndex?: number;
  coreIndex?: number;
  /** --harakiri in milliseconds; 0 = off. */
  harakiriMs?: number;
  /** worker_threads.threadId of the serving thread (harakiri stops that thread). */
  threadId?: number;
  /**
   * HTTP requests also carry their raw header lines (RequestFlags.RawHeaders), for a
   * node:http app's `req.rawHeaders`; other app kinds leave it off and pay nothing.
   */
  rawHeaders?: boolean;
  /**
   * `Expect: 100-continue` is the app's to answer (a node:http server with 'checkContinue'
   * listeners): no interim 100 from the core, RequestFlags.ExpectContinue instead.
   */
  continueByApp?: boolean;
  /**
   * A body with a Content-Length up to this many bytes that is not all here at dispatch is
   * read into one buffer of its length (RequestFlags.BodyWhole); 0 or absent: every body
   * streams as chunks (what a node:http app's request stream takes).
   */
  wholeBodyMax?: number;
}

/** An opaque mapping of the shared scoreboard (native/src/scoreboard/scoreboard.h). */
export interface ScoreboardHandle {
  readonly __scoreboard: unique symbol;
}

/** Worker slot fields as stored; `status` holds ScoreboardStatus bits (1 cheap, 2 pause). */
export interface ScoreboardWorkerFields {
  pid: number;
  accepting: number;
  status: number;
  lastSpawn: number;
  respawnCount: number;
  harakiriCount: number;
  /** Sum of the slot's core requests when the current process spawned (delta_requests base). */
  requestsBase: number;
  rss: number;
  vsz: number;
  signals: number;
}

export interface ScoreboardCoreFields {
  requests: number;
  tx: number;
  /** Microseconds spent in requests. */
  runningTime: number;
  /** Microseconds, uWSGI's (avg_rt + rt) / 2. */
  avgRt: number;
  exceptions: number;
  readErrors: number;
  writeErrors: number;
  /** Request bytes read: each head as framed on the wire + its body payload (docs/stats.md). */
  rx: number;
  /**
   * Finished requests per duration bucket, not cumulative: entry i counts durations in
   * (durationBoundsUs[i-1], durationBoundsUs[i]] µs; the last entry is the +Inf bucket.
   */
  durationBuckets: number[];
  /** Finished requests by response status ("200": n; "other" outside 100..599); only codes seen. */
  statusCounts: Record<string, number>;
  /** Requests of this core in the app now (more than 1 with --async). */
  inflight: number;
  inRequest: number;
  /** Unix seconds the tracked in-flight request started (0 = none). */
  requestStart: number;
  /** CLOCK_MONOTONIC ms of the same, comparable with ScoreboardSnapshot.nowMs (harakiri). */
  requestStartMs: number;
  /** "KEY=VALUE" of the tracked in-flight request, packet order (empty when none). */
  vars: string[];
}

export interface ScoreboardSnapshot {
  /** CLOCK_MONOTONIC ms when the snapshot was taken. */
  nowMs: number;
  /** Unix seconds the region was created. */
  created: number;
  /** Upper bounds (µs, inclusive) of the duration buckets; one more bucket (+Inf) follows. */
  durationBoundsUs: number[];
  workers: ScoreboardWorkerFields[];
  /** cores[w][c]. */
  cores: ScoreboardCoreFields[][];
}

export interface ServerCallbacks extends NativeCallbacks {
  /** After stop(): every connection has finished and closed. */
  onClosed?(): void;
}

export interface ServerCounters {
  requests: number;
  tx: number;
  badRequests: number;
  connections: number;
  inflight: number;
  open: number;
  /** countException() calls on this Server (absent in aggregates built by JS). */
  exceptions?: number;
}

/** The native Server (native/src/binding/server_wrap.cc). */
export interface NativeServer {
  /** Shared var offsets, 4 per var; valid only during onRequest. */
  readonly meta: Uint32Array;
  respond(id: number, status: string, headers: string, flags: number, body?: string | Uint8Array): boolean;
  writeHead(id: number, status: string, headers: string, flags: number): boolean;
  write(id: number, chunk: string | Uint8Array): boolean;
  end(id: number, chunk?: string | Uint8Array, trailers?: string): boolean;
  abort(id: number): boolean;
  writeContinue(id: number): boolean;
  pauseInput(id: number): boolean;
  resumeInput(id: number): boolean;
  log(line: string): void;
  /** Stops accepting; `giveUp`: other fds of the listening sockets, which the Server closes
   *  (before its last accept when it has descriptors of its own: native/src/loop/server.cc). */
  stop(giveUp?: number[]): void;
  destroy(): void;
  counters(): ServerCounters;
  /** The app threw or rejected while serving a request of this core (stats `exceptions`). */
  countException(): void;
}

export interface BindOptions {
  unix: boolean;
  host?: string;
  port?: number;
  path?: string;
  backlog: number;
  chmod?: number;
  /** TCP_DEFER_ACCEPT seconds (TCP only); 0 = off. */
  deferAccept?: number;
}

export type BindResult =
  | { fd: number; port: number; backlog: number; somaxconn: number; error?: undefined }
  | { error: string; message: string; step: string; fd?: undefined };

export interface NativeErrorInfo {
  name: string;
  status: number;
  reason: string;
}

/** Where the router forwards: the worker socket (TCP address or UNIX path). */
export interface RouterBackendOptions {
  unix: boolean;
  host?: string;
  port?: number;
  path?: string;
  /** As shown in log lines. */
  name: string;
}

/** The native HTTP router (native/src/router/, binding/router_wrap.cc). The listeners' fds
 *  stay the caller's: the router thread listens on duplicates of its own. */
export interface RouterOptions {
  listeners: ListenerOptions[];
  backend: RouterBackendOptions;
  /** The workers' --buffer-size: larger uwsgi vars blocks are answered 431 by the router. */
  bufferSize: number;
  timeoutMs: number;
  keepaliveMs: number;
  keepalive: boolean;
  maxChunkedBody: number;
  modifier1: number;
  modifier2: number;
  logFd: number;
  backlog: number;
  /** --log-date, as for the Server. */
  logDate?: string;
}

/** The router running on a native thread with its own libuv loop; methods are called from
 *  the thread that created it. */
export interface NativeRouterThread {
  /** Stop accepting; idle connections close now, busy ones after their response; the
   *  thread's loop then ends by itself. Returns at once. */
  stop(): void;
  /** The router's loop has ended: every connection is closed. */
  stopped(): boolean;
  /** Client connections still open (as of the router loop's last iteration). */
  active(): number;
  counters(): { sessions: number; requests: number; errors: number; active: number };
  /** Closes every connection now and joins the thread; after stopped() it only joins. */
  destroy(): void;
}

interface Addon {
  /** Starts the router thread and returns once it listens; throws if it cannot. */
  RouterThread: new (
    options: RouterOptions,
  ) => NativeRouterThread;
  Server: new (options: ServerOptions, callbacks: ServerCallbacks) => NativeServer;
  bindSocket(options: BindOptions): BindResult;
  closeFd(fd: number): number;
  /** One datagram to systemd's notification socket ($NOTIFY_SOCKET); null, or why it failed. */
  sdNotify(socketPath: string, message: string): string | null;
  /** dup2(2); null, or why it failed. */
  dup2(oldfd: number, newfd: number): string | null;
  /** strftime(3) in local time. */
  strftime(format: string, epochSeconds: number): string;
  errorCatalogue(): Record<number, NativeErrorInfo>;
  /** Called on the main thread when harakiri must stop a worker thread. */
  setHarakiriHandler(fn: (threadId: number, coreId: number) => void): void;
  /** Master: creates the shared region; `fd` is inheritable (not close-on-exec). */
  createScoreboard(workers: number, cores: number): { fd: number; size: number; handle: ScoreboardHandle };
  /** Maps a region by fd (a worker process or thread); throws (code EINVAL) on a bad region. */
  attachScoreboard(fd: number): ScoreboardHandle;
  scoreboardSnapshot(handle: ScoreboardHandle): ScoreboardSnapshot;
  /** Before (re)spawning slot w: clears in-flight state, pid, accepting, rss/vsz; sets requestsBase. */
  scoreboardResetWorker(handle: ScoreboardHandle, worker: number): void;
  /** Right after spawning slot w: pid, lastSpawn = now, respawnCount + 1. */
  scoreboardWorkerSpawned(handle: ScoreboardHandle, worker: number, pid: number): void;
  /** Sets the given worker fields (numbers; others untouched). */
  scoreboardSetWorker(handle: ScoreboardHandle, worker: number, fields: Partial<ScoreboardWorkerFields>): void;
  scoreboardCountException(handle: ScoreboardHandle, worker: number, core: number): void;
  /** A listening TCP socket's accept queue and backlog (TCP_INFO); 0, 0 for UNIX sockets. */
  listenQueue(fd: number): { queue: number; maxQueue: number };
}

// dist/native/index.js and src/native/index.ts are both two levels below the root.
const addonPath = path.resolve(__dirname, '..', '..', 'build', 'Release', 'tsgi_native.node');

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const addon: Addon = require(addonPath) as Addon;
