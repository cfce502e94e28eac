// Binding the listening sockets named by the configuration. Sockets are bound once, here,
// by the process that starts first, so that later worker processes can inherit the fds
// (the uWSGI model: the master binds, workers accept).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Address, Config, SocketProtocol } from '../config';
import { formatAddress } from '../config/address';
import { SocketError } from '../errors';
import { addon, type ListenerOptions } from '../native';
import { logLine } from './log';

export interface BoundSocket {
  address: Address;
  protocol: SocketProtocol;
  fd: number;
  /** The actual TCP port (differs from the configured one for port 0). */
  port: number;
  /** UNIX socket path to unlink on exit with --vacuum. */
  unixPath?: string;
}

/** `index` numbers worker sockets in the log; null marks a router socket (logged as uWSGI does). */
function bindOne(
  address: Address,
  protocol: SocketProtocol,
  config: Config,
  index: number | null,
  cwd: string,
): BoundSocket {
  const unixPath = address.kind === 'unix' ? path.resolve(cwd, address.path) : undefined;
  const r = addon.bindSocket(
    address.kind === 'tcp'
      ? {
          unix: false,
          host: address.host,
          port: address.port,
          backlog: config.listen,
          deferAccept: config.socketTimeout,
        }
      : {
          unix: true,
          path: address.kind === 'unix' ? unixPath : '@' + address.name,
          backlog: config.listen,
          chmod: config.chmodSocket,
        },
  );
  if (r.error !== undefined) {
    const where = formatAddress(address);
    if (r.error === 'EADDRINUSE') {
      throw new SocketError('TSGI_ERR_ADDRESS_IN_USE', `cannot bind ${where}: address already in use`);
    }
    throw new SocketError('TSGI_ERR_BIND_FAILED', `cannot ${r.step} ${where}: ${r.message} (${r.error})`);
  }
  if (r.somaxconn > 0 && r.backlog < config.listen) {
    logLine(`tsgi: --listen ${config.listen} is above net.core.somaxconn (${r.somaxconn}); using ${r.backlog}`);
  }
  const kind = address.kind === 'tcp' ? 'TCP' : 'UNIX';
  const shown =
    address.kind === 'tcp'
      ? `${address.host.includes(':') ? `[${address.host}]` : address.host}:${r.port}`
      : formatAddress(address);
  if (index === null) logLine(`tsgi http bound on ${shown} fd ${r.fd}`);
  else logLine(`tsgi socket ${index} bound to ${kind} address ${shown} (${protocol}) fd ${r.fd}`);
  return { address, protocol, fd: r.fd, port: r.port, unixPath };
}

/** Binds each address in order, closing what was bound if one fails. */
function bindList(
  items: Array<[Address, SocketProtocol]>,
  router: boolean,
  config: Config,
  cwd: string,
): BoundSocket[] {
  const bound: BoundSocket[] = [];
  try {
    for (const [a, protocol] of items) bound.push(bindOne(a, protocol, config, router ? null : bound.length, cwd));
  } catch (err) {
    closeAll(bound, false);
    throw err;
  }
  return bound;
}

/**
 * Binds every --http-socket, --socket (speaking --protocol, uwsgi by default), --fastcgi-socket
 * and --scgi-socket, in that order. Throws SocketError on failure.
 */
export function bindAll(config: Config, cwd: string): BoundSocket[] {
  const items: Array<[Address, SocketProtocol]> = [
    ...config.httpSocket.map((a): [Address, SocketProtocol] => [a, 'http']),
    ...config.socket.map((a): [Address, SocketProtocol] => [a, config.protocol]),
    ...config.fastcgiSocket.map((a): [Address, SocketProtocol] => [a, 'fastcgi']),
    ...config.scgiSocket.map((a): [Address, SocketProtocol] => [a, 'scgi']),
  ];
  return bindList(items, false, config, cwd);
}

/** Binds every --http (router) address. Throws SocketError on failure. */
export function bindRouterSockets(config: Config, cwd: string): BoundSocket[] {
  return bindList(
    config.http.map((a): [Address, 'http'] => [a, 'http']),
    true,
    config,
    cwd,
  );
}

/**
 * The router's worker socket when no --socket is given: a UNIX socket in the abstract
 * namespace, named after this master. uWSGI makes 127.0.0.1:0 here; a UNIX socket saves the
 * router a TCP handshake per request (~1.4x the requests per second, docs/router.md), and an
 * abstract one leaves no file behind, whatever the user (--uid) or the way the master ends.
 * Like a 127.0.0.1 port, any local process can connect to it, so the name needs to be unique,
 * not secret: the pid and the clock make it so without node:crypto, which alone would add
 * ~5 MiB to the master's memory (OpenSSL's start-up).
 */
export function bindRouterWorkerSocket(config: Config, index: number): BoundSocket {
  const name = `tsgi-router-${process.pid}-${process.hrtime.bigint().toString(36)}`;
  return bindOne({ kind: 'abstract', name, raw: `@${name}` }, 'uwsgi', config, index, process.cwd());
}

export function listenerOptions(sockets: BoundSocket[]): ListenerOptions[] {
  return sockets.map((s) => ({
    fd: s.fd,
    protocol: s.protocol,
    unix: s.address.kind !== 'tcp',
    host: s.address.kind === 'tcp' ? s.address.host : '',
    port: s.address.kind === 'tcp' ? String(s.port) : '',
  }));
}

/** Sockets whose fd this process closed: a second close could hit a reused fd number. */
const closedSockets = new WeakSet<BoundSocket>();

/** The fds of the sockets not closed yet, now someone else's to close (closeAll skips them). */
export function handOver(sockets: BoundSocket[]): number[] {
  const fds: number[] = [];
  for (const s of sockets) {
    if (closedSockets.has(s)) continue;
    closedSockets.add(s);
    fds.push(s.fd);
  }
  return fds;
}

/**
 * Closes the fds (each once, however often asked); with vacuum, removes UNIX socket files
 * (uWSGI's --vacuum). A stopping process closes them early (a native Server accepts on
 * duplicates of its own: native/src/loop/server.cc, CloseListeners) and again at exit.
 */
export function closeAll(sockets: BoundSocket[], vacuum: boolean): void {
  for (const s of sockets) {
    if (!closedSockets.has(s)) {
      closedSockets.add(s);
      addon.closeFd(s.fd);
    }
    if (vacuum && s.unixPath !== undefined) {
      try {
        fs.unlinkSync(s.unixPath);
      } catch {
        // Already gone.
      }
    }
  }
}
