// Socket address syntax, as uWSGI accepts it:
//   host:port      TCP; host is a name, an IPv4 address or a bracketed IPv6 address ([::1]:80)
//   :port          TCP on all interfaces (0.0.0.0)
//   /path, ./path  UNIX socket; so is anything without a ':' at all (uWSGI's rule)
//   @name          Linux abstract UNIX socket

import { isIP } from 'node:net';
import type { Address } from './types';

/** sun_path is 108 bytes on Linux, one of them the terminating NUL. */
const MAX_UNIX_PATH = 107;

export class AddressSyntaxError extends Error {}

function parsePort(text: string): number {
  if (!/^\d+$/.test(text)) throw new AddressSyntaxError(`port "${text}" is not a number`);
  const port = Number(text);
  if (port > 65535) throw new AddressSyntaxError(`port ${text} is out of range 0-65535`);
  return port;
}

/**
 * Parses one address. Throws AddressSyntaxError with the cause (no option name: the caller
 * adds it). `warn` receives non-fatal remarks, such as a bare number read as a UNIX path.
 */
export function parseAddress(raw: string, warn?: (msg: string) => void): Address {
  if (raw === '') throw new AddressSyntaxError('address is empty');
  if (/[\s\0]/.test(raw)) throw new AddressSyntaxError('address contains whitespace or NUL');

  if (raw.startsWith('@')) {
    const name = raw.slice(1);
    if (name === '') throw new AddressSyntaxError('abstract socket name is empty');
    if (Buffer.byteLength(name) > MAX_UNIX_PATH) {
      throw new AddressSyntaxError(`abstract socket name is longer than ${MAX_UNIX_PATH} bytes`);
    }
    return { kind: 'abstract', name, raw };
  }

  if (raw.startsWith('/') || raw.startsWith('.') || !raw.includes(':')) {
    if (Buffer.byteLength(raw) > MAX_UNIX_PATH) {
      throw new AddressSyntaxError(`UNIX socket path is longer than ${MAX_UNIX_PATH} bytes`);
    }
    if (/^\d+$/.test(raw) && warn !== undefined) {
      warn(`address "${raw}" is read as a UNIX socket path (did you mean ":${raw}"?)`);
    }
    return { kind: 'unix', path: raw, raw };
  }

  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    if (close < 0) throw new AddressSyntaxError('missing "]" after the IPv6 address');
    const host = raw.slice(1, close);
    if (isIP(host) !== 6) throw new AddressSyntaxError(`"${host}" is not an IPv6 address`);
    if (raw[close + 1] !== ':') throw new AddressSyntaxError('missing ":port" after the IPv6 address');
    return { kind: 'tcp', host, port: parsePort(raw.slice(close + 2)), raw };
  }

  const colon = raw.lastIndexOf(':');
  let host = raw.slice(0, colon);
  const port = parsePort(raw.slice(colon + 1));
  if (host.includes(':')) throw new AddressSyntaxError('IPv6 addresses must be bracketed, e.g. [::1]:8080');
  if (host === '') host = '0.0.0.0';
  else if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    throw new AddressSyntaxError(`"${host}" is not a valid host name or IPv4 address`);
  }
  return { kind: 'tcp', host, port, raw };
}

/** The address as tsgi prints it in logs: host:port, [v6]:port, a path or @name. */
export function formatAddress(addr: Address): string {
  switch (addr.kind) {
    case 'tcp':
      return isIP(addr.host) === 6 ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
    case 'unix':
      return addr.path;
    case 'abstract':
      return `@${addr.name}`;
  }
}
