// The socket-like object behind `req.socket` / `res.socket` of a node:http app. tsgi's native
// core owns the real connection, so this is a small EventEmitter with the fields and methods
// frameworks read (addresses, `encrypted`, `writable`, `destroy()`, `setTimeout()`, ...),
// created only when the app asks for it. Everything that touches the connection from the
// app's side goes through here, so a later `server.on('upgrade')` has one place to grow.

import { EventEmitter } from 'node:events';
import type { Environ } from '../environ';

/** What the socket needs from the request it belongs to. */
export interface SocketOwner {
  readonly env: Environ;
  /** The app destroyed the socket: close the connection unless the response is complete. */
  destroyFromApp(error?: Error): void;
}

function family(address: string): string {
  return address.includes(':') ? 'IPv6' : 'IPv4';
}

function portOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.length > 0 ? Number(v) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

export class NodeSocket extends EventEmitter {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** true behind TLS (a uwsgi peer that says https), like a tls.TLSSocket; else undefined. */
  readonly encrypted: true | undefined;
  readable = true;
  writable = true;
  destroyed = false;
  timeout = 0;
  readonly readableHighWaterMark = 16384;
  readonly writableHighWaterMark = 16384;
  readonly writableLength = 0;
  readonly writableCorked = 0;
  readonly bytesRead = 0;
  readonly bytesWritten = 0;
  readonly connecting = false;
  readonly pending = false;
  readonly readyState = 'open';

  constructor(private readonly owner: SocketOwner) {
    super();
    const env = owner.env;
    const remote = env['REMOTE_ADDR'];
    this.remoteAddress = typeof remote === 'string' && remote.length > 0 ? remote : undefined;
    this.remotePort = portOf(env['REMOTE_PORT']);
    this.remoteFamily = this.remoteAddress !== undefined ? family(this.remoteAddress) : undefined;
    const local = env['SERVER_ADDR'];
    this.localAddress = typeof local === 'string' && local.length > 0 ? local : undefined;
    this.localPort = portOf(env['SERVER_PORT']);
    this.encrypted = env['tsgi.url_scheme'] === 'https' ? true : undefined;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.localAddress === undefined) return {};
    return { address: this.localAddress, family: family(this.localAddress), port: this.localPort ?? 0 };
  }

  /** Closes the connection (the response, if unfinished, is cut off), as on a net.Socket. */
  destroy(error?: Error): this {
    if (!this.destroyed) this.owner.destroyFromApp(error);
    return this;
  }

  destroySoon(): void {
    this.destroy();
  }

  /** A half-close from the app: the connection ends once the response is complete. */
  end(): this {
    this.destroy();
    return this;
  }

  /** Raw writes would corrupt the framing native code does: refused like a closed socket. */
  write(): boolean {
    return false;
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.timeout = ms;
    if (typeof cb === 'function') this.once('timeout', cb);
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setEncoding(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  cork(): void {}

  uncork(): void {}

  pause(): this {
    return this;
  }

  resume(): this {
    return this;
  }

  /** The connection went away (client abort or destroy): emits 'close' as a net.Socket does. */
  markClosed(hadError: boolean): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    process.nextTick(() => this.emit('close', hadError));
  }
}
