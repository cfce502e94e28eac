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

/**
 * An EventEmitter by prototype (`instanceof EventEmitter` holds), but its constructor skips
 * EventEmitter's: node's emitter methods create `_events` on first use, and most requests
 * never listen on their socket. Addresses are read from the environ when asked for.
 */
export interface NodeSocket extends EventEmitter {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: EventEmitter's methods are mixed in at run time (see above)
export class NodeSocket {
  readable = true;
  writable = true;
  destroyed = false;
  timeout = 0;

  constructor(private readonly owner: SocketOwner) {}

  get remoteAddress(): string | undefined {
    const v = this.owner.env['REMOTE_ADDR'];
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  }

  get remotePort(): number | undefined {
    return portOf(this.owner.env['REMOTE_PORT']);
  }

  get remoteFamily(): string | undefined {
    const a = this.remoteAddress;
    return a !== undefined ? family(a) : undefined;
  }

  get localAddress(): string | undefined {
    const v = this.owner.env['SERVER_ADDR'];
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  }

  get localPort(): number | undefined {
    return portOf(this.owner.env['SERVER_PORT']);
  }

  /** true behind TLS (a uwsgi peer that says https), like a tls.TLSSocket; else undefined. */
  get encrypted(): true | undefined {
    return this.owner.env['tsgi.url_scheme'] === 'https' ? true : undefined;
  }

  get readableHighWaterMark(): number {
    return 16384;
  }

  get writableHighWaterMark(): number {
    return 16384;
  }

  get writableLength(): number {
    return 0;
  }

  get writableCorked(): number {
    return 0;
  }

  get bytesRead(): number {
    return 0;
  }

  get bytesWritten(): number {
    return 0;
  }

  get connecting(): boolean {
    return false;
  }

  get pending(): boolean {
    return false;
  }

  get readyState(): string {
    return this.destroyed ? 'closed' : 'open';
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
Object.setPrototypeOf(NodeSocket.prototype, EventEmitter.prototype);
