// The one place that loads the addon. Everything else imports the typed surface from here.

import * as path from 'node:path';
import type { NativeCallbacks } from './types';

export interface ListenerOptions {
  fd: number;
  protocol: 'http' | 'uwsgi';
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
  keepaliveTimeoutMs: number;
  /** Requests handed to the app at once (--async N, or 1); 0 = unlimited. */
  maxInflight: number;
  maxVars: number;
  logging: boolean;
  logMicros: boolean;
  logFd: number;
  coreId: number;
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
}

/** The native Server (native/src/binding/server_wrap.cc). */
export interface NativeServer {
  /** Shared var offsets, 4 per var; valid only during onRequest. */
  readonly meta: Uint32Array;
  respond(id: number, status: string, headers: string, flags: number, body?: string | Uint8Array): boolean;
  writeHead(id: number, status: string, headers: string, flags: number): boolean;
  write(id: number, chunk: string | Uint8Array): boolean;
  end(id: number, chunk?: string | Uint8Array): boolean;
  abort(id: number): boolean;
  pauseInput(id: number): boolean;
  resumeInput(id: number): boolean;
  log(line: string): void;
  stop(): void;
  destroy(): void;
  counters(): ServerCounters;
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

interface Addon {
  Server: new (options: ServerOptions, callbacks: ServerCallbacks) => NativeServer;
  bindSocket(options: BindOptions): BindResult;
  closeFd(fd: number): number;
  errorCatalogue(): Record<number, NativeErrorInfo>;
}

// dist/native/index.js and src/native/index.ts are both two levels below the root.
const addonPath = path.resolve(__dirname, '..', '..', 'build', 'Release', 'tsgi_native.node');

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const addon: Addon = require(addonPath) as Addon;
