// What the master gives the native router thread (--http): its listening sockets, the worker
// socket to forward to, and the router options from the configuration.

import type { Config } from '../config';
import { SocketError } from '../errors';
import type { RouterBackendOptions, RouterOptions } from '../native';
import { type BoundSocket, listenerOptions } from '../process/sockets';

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

/**
 * The router's options: it listens on `sockets` (the master's fds; the native side takes
 * duplicates of its own) and logs to `logFd`, the master's log fd, which --log-reopen and
 * --log-maxsize re-point in place, so the router follows them without being told.
 */
export function routerOptions(
  config: Config,
  sockets: BoundSocket[],
  backend: RouterBackendOptions,
  logFd: number,
): RouterOptions {
  return {
    listeners: listenerOptions(sockets),
    backend,
    bufferSize: config.bufferSize,
    timeoutMs: config.httpTimeout * 1000,
    keepaliveMs: config.httpTimeout * 1000,
    keepalive: config.httpKeepalive > 0,
    maxChunkedBody: config.httpMaxChunkedBody,
    modifier1: config.httpModifier1,
    modifier2: config.httpModifier2,
    logFd,
    backlog: config.listen,
    logDate: typeof config.logDate === 'string' ? config.logDate : undefined,
  };
}
