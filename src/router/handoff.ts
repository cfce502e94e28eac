// What the master tells the router process it spawns: the router's listening sockets
// (inherited fds), the worker socket to forward to, and the router options. Crosses the
// process boundary as JSON in one environment variable, like the worker handoff.

import type { Config } from '../config';
import { SocketError } from '../errors';
import type { RouterBackendOptions, RouterOptions } from '../native';
import { FIRST_INHERITED_FD } from '../process/handoff';
import { type BoundSocket, listenerOptions } from '../process/sockets';
import { processTitle } from '../process/title';

export const ROUTER_HANDOFF_ENV = 'TSGI_INTERNAL_ROUTER';

/** Messages on the IPC channel. */
export type RouterMessage = { type: 'ready' };

/**
 * The worker socket the router forwards to: the first uwsgi socket (the master adds an
 * abstract UNIX one when there is none). A wildcard address is reached through loopback; an
 * abstract name travels with its leading NUL.
 */
export function routerBackend(sockets: BoundSocket[]): RouterBackendOptions {
  const s = sockets.find((b) => b.protocol === 'uwsgi');
  if (s === undefined) throw new SocketError('TSGI_ERR_BIND_FAILED', '--http has no uwsgi worker socket to forward to');
  const a = s.address;
  if (a.kind === 'tcp') {
    const host = a.host === '0.0.0.0' || a.host === '' ? '127.0.0.1' : a.host === '::' ? '::1' : a.host;
    const name = host.includes(':') ? `[${host}]:${s.port}` : `${host}:${s.port}`;
    return { unix: false, host, port: s.port, name };
  }
  if (a.kind === 'unix' && s.unixPath !== undefined) return { unix: true, path: s.unixPath, name: s.unixPath };
  if (a.kind === 'abstract') return { unix: true, path: `\0${a.name}`, name: a.raw };
  throw new SocketError('TSGI_ERR_BIND_FAILED', `--http cannot forward to ${a.raw}`);
}

/** The handoff JSON for a router process that inherits `sockets` as fds 4, 5, ... */
export function encodeRouterHandoff(config: Config, sockets: BoundSocket[], backend: RouterBackendOptions): string {
  const listeners = listenerOptions(sockets).map((l, i) => ({ ...l, fd: FIRST_INHERITED_FD + i }));
  const options: RouterOptions = {
    listeners,
    backend,
    bufferSize: config.bufferSize,
    timeoutMs: config.httpTimeout * 1000,
    keepaliveMs: config.httpTimeout * 1000,
    keepalive: config.httpKeepalive > 0,
    maxChunkedBody: config.httpMaxChunkedBody,
    modifier1: config.httpModifier1,
    modifier2: config.httpModifier2,
    logFd: 2,
    backlog: config.listen,
    logDate: typeof config.logDate === 'string' ? config.logDate : undefined,
  };
  // With --shutdown-delay a SIGTERM sent to the whole process group is the master's to act
  // on: the router keeps serving until the master asks it to stop.
  const extra = {
    processTitle: processTitle(config, 'router', 'tsgi http router'),
    masterStops: config.shutdownDelay > 0,
  };
  return JSON.stringify({ ...options, ...extra });
}

/** The router's options, the name it takes in `ps` (src/process/title.ts), and whether a
 *  SIGTERM waits for the master's "stop" (--shutdown-delay). */
export function decodeRouterHandoff(raw: string): RouterOptions & { processTitle: string; masterStops: boolean } {
  const o = JSON.parse(raw) as RouterOptions & { processTitle?: string; masterStops?: boolean };
  if (!Array.isArray(o.listeners) || typeof o.backend !== 'object') throw new Error(`malformed ${ROUTER_HANDOFF_ENV}`);
  return { ...o, processTitle: o.processTitle ?? 'tsgi http router', masterStops: o.masterStops === true };
}
