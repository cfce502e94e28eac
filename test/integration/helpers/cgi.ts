// FastCGI records and SCGI netstrings for the integration tests (fastcgi.test.ts, scgi.test.ts):
// a small builder and parser written from the specifications, independent of native/src/proto,
// plus a conversation helper that reads until a predicate holds or the server closes.

import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Target } from './exchange';

export const FCGI = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
  RESPONDER: 1,
  AUTHORIZER: 2,
  KEEP_CONN: 1,
  REQUEST_COMPLETE: 0,
  CANT_MPX_CONN: 1,
  OVERLOADED: 2,
  UNKNOWN_ROLE: 3,
} as const;

/** One record: version (1 unless told), type, request id, content, padding bytes. */
export function fcgiRecord(type: number, id: number, content: Buffer | string = '', padding = 0, version = 1): Buffer {
  const c = Buffer.isBuffer(content) ? content : Buffer.from(content, 'latin1');
  const h = Buffer.alloc(8);
  h[0] = version;
  h[1] = type;
  h.writeUInt16BE(id, 2);
  h.writeUInt16BE(c.length, 4);
  h[6] = padding;
  return Buffer.concat([h, c, Buffer.alloc(padding, 0xee)]);
}

function fcgiLength(n: number, long: boolean): Buffer {
  if (n < 128 && !long) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0);
  return b;
}

/** Name-value pairs; `long` forces the 4-byte length form for every name and value. */
export function fcgiPairs(pairs: Array<[string, string]>, long = false): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of pairs) {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    parts.push(fcgiLength(kb.length, long), fcgiLength(vb.length, long), kb, vb);
  }
  return Buffer.concat(parts);
}

export function fcgiBegin(id: number, role: number = FCGI.RESPONDER, flags = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(role, 0);
  b[2] = flags;
  return fcgiRecord(FCGI.BEGIN_REQUEST, id, b);
}

/** A stream (PARAMS or STDIN) as records of at most `piece` content bytes, then the empty one. */
export function fcgiStream(type: number, id: number, content: Buffer, piece = 65535, padding = 0): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < content.length; at += piece) {
    parts.push(fcgiRecord(type, id, content.subarray(at, at + piece), padding));
  }
  parts.push(fcgiRecord(type, id));
  return Buffer.concat(parts);
}

export interface FcgiRequestOptions {
  id?: number;
  keepConn?: boolean;
  /** Content bytes per PARAMS record (default: all in one). */
  paramsPiece?: number;
  /** Content bytes per STDIN record (default 65535). */
  stdinPiece?: number;
  /** 4-byte name/value lengths everywhere. */
  longLengths?: boolean;
  padding?: number;
  /** Leave the STDIN stream open (no empty STDIN record). */
  openStdin?: boolean;
}

/** BEGIN_REQUEST, PARAMS, STDIN of one Responder request. */
export function fcgiRequest(
  params: Array<[string, string]>,
  body: Buffer | string = '',
  o: FcgiRequestOptions = {},
): Buffer {
  const id = o.id ?? 1;
  const p = fcgiPairs(params, o.longLengths);
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  const stdin = fcgiStream(FCGI.STDIN, id, b, o.stdinPiece ?? 65535, o.padding ?? 0);
  return Buffer.concat([
    fcgiBegin(id, FCGI.RESPONDER, o.keepConn ? FCGI.KEEP_CONN : 0),
    fcgiStream(FCGI.PARAMS, id, p, o.paramsPiece ?? 65535, o.padding ?? 0),
    o.openStdin ? stdin.subarray(0, stdin.length - 8) : stdin,
  ]);
}

export interface FcgiRecordIn {
  version: number;
  type: number;
  id: number;
  content: Buffer;
  padding: number;
}

/** The whole records at the start of `data` (a cut last record is left out). */
export function parseRecords(data: Buffer): FcgiRecordIn[] {
  const out: FcgiRecordIn[] = [];
  let at = 0;
  while (at + 8 <= data.length) {
    const len = data.readUInt16BE(at + 4);
    const padding = data[at + 6]!;
    if (at + 8 + len + padding > data.length) break;
    out.push({
      version: data[at]!,
      type: data[at + 1]!,
      id: data.readUInt16BE(at + 2),
      content: data.subarray(at + 8, at + 8 + len),
      padding,
    });
    at += 8 + len + padding;
  }
  return out;
}

/** Name-value pairs of a GET_VALUES_RESULT (or PARAMS) content. */
export function parsePairs(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  const len = (): number => {
    if (b[at]! < 128) return b[at++]!;
    const n = b.readUInt32BE(at) & 0x7fffffff;
    at += 4;
    return n;
  };
  while (at < b.length) {
    const kl = len();
    const vl = len();
    const k = b.subarray(at, at + kl).toString('latin1');
    at += kl;
    out[k] = b.subarray(at, at + vl).toString('latin1');
    at += vl;
  }
  return out;
}

export interface CgiResponse {
  status: number;
  headers: Record<string, string>;
  /** Header lines in order, as sent. */
  head: string[];
  body: Buffer;
}

/** A CGI-style response ("Status: 200 OK" head, blank line, body). */
export function parseCgi(data: Buffer): CgiResponse {
  const text = data.toString('latin1');
  let end = text.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) {
    end = text.indexOf('\n\n');
    sep = 2;
  }
  if (end < 0) return { status: 0, headers: {}, head: [], body: data };
  const head = text.slice(0, end).split(/\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of head) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const status = headers.status ? Number(headers.status.split(' ')[0]) : 200;
  return { status, headers, head, body: data.subarray(end + sep) };
}

export interface FcgiAnswer {
  records: FcgiRecordIn[];
  /** STDOUT content of request `id`, joined. */
  stdout: Buffer;
  stderr: string;
  end?: { appStatus: number; protocolStatus: number };
  cgi: CgiResponse;
}

/** What the server said about request `id` in `records`. */
export function answerOf(records: FcgiRecordIn[], id = 1): FcgiAnswer {
  const mine = records.filter((r) => r.id === id);
  const stdout = Buffer.concat(mine.filter((r) => r.type === FCGI.STDOUT).map((r) => r.content));
  const stderr = Buffer.concat(mine.filter((r) => r.type === FCGI.STDERR).map((r) => r.content)).toString('latin1');
  const e = mine.find((r) => r.type === FCGI.END_REQUEST);
  return {
    records: mine,
    stdout,
    stderr,
    end: e ? { appStatus: e.content.readUInt32BE(0), protocolStatus: e.content[4]! } : undefined,
    cgi: parseCgi(stdout),
  };
}

export interface Conversation {
  /** Everything received so far. */
  data(): Buffer;
  records(): FcgiRecordIn[];
  write(b: Buffer | string): void;
  /** Resolves when `pred(records)` holds, or rejects after timeoutMs. */
  until(pred: (r: FcgiRecordIn[]) => boolean, timeoutMs?: number): Promise<FcgiRecordIn[]>;
  /** Resolves when the server closed the connection (true) or after timeoutMs (false). */
  closed(timeoutMs?: number): Promise<boolean>;
  end(): void;
  destroy(): void;
  /** The local port of the client side (to count connections). */
  localPort(): number;
}

/** Opens a connection for a multi-step exchange. */
export function converse(target: Target): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host ?? '127.0.0.1');
    const parts: Buffer[] = [];
    let isClosed = false;
    const waiters = new Set<() => void>();
    const wake = (): void => {
      for (const w of [...waiters]) w();
    };
    sock.on('data', (d) => {
      parts.push(d);
      wake();
    });
    sock.on('close', () => {
      isClosed = true;
      wake();
    });
    sock.on('error', () => {
      isClosed = true;
      wake();
    });
    const data = (): Buffer => Buffer.concat(parts);
    const conv: Conversation = {
      data,
      records: () => parseRecords(data()),
      write: (b) => sock.write(b),
      until: (pred, timeoutMs = 15000) =>
        new Promise((res, rej) => {
          const check = (): void => {
            const recs = parseRecords(data());
            if (pred(recs)) {
              done();
              res(recs);
            } else if (isClosed) {
              done();
              rej(new Error(`connection closed; records: ${JSON.stringify(recs.map((r) => [r.type, r.id]))}`));
            }
          };
          const timer = setTimeout(() => {
            done();
            rej(new Error(`timed out; received: ${data().toString('latin1').slice(0, 2000)}`));
          }, timeoutMs);
          const done = (): void => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        }),
      closed: (timeoutMs = 15000) =>
        new Promise((res) => {
          const timer = setTimeout(() => {
            waiters.delete(check);
            res(false);
          }, timeoutMs);
          const check = (): void => {
            if (!isClosed) return;
            clearTimeout(timer);
            waiters.delete(check);
            res(true);
          };
          waiters.add(check);
          check();
        }),
      end: () => sock.end(),
      destroy: () => sock.destroy(),
      localPort: () => sock.localPort ?? 0,
    };
    sock.once('connect', () => resolve(conv));
    sock.once('error', (e) => reject(e));
  });
}

/** True once request `id` got its FCGI_END_REQUEST. */
export const endedFor =
  (id = 1) =>
  (recs: FcgiRecordIn[]): boolean =>
    recs.some((r) => r.type === FCGI.END_REQUEST && r.id === id);

/** One SCGI request: the netstring of the headers (CONTENT_LENGTH first, then SCGI=1 unless
 *  given), then the body. */
export function scgiRequest(vars: Array<[string, string]>, body: Buffer | string = ''): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  const all: Array<[string, string]> = vars.some(([k]) => k === 'CONTENT_LENGTH')
    ? vars
    : [['CONTENT_LENGTH', String(b.length)], ['SCGI', '1'], ...vars];
  return Buffer.concat([scgiNetstring(all), b]);
}

/** The netstring "LEN:k\0v\0...," of the pairs exactly as given. */
export function scgiNetstring(vars: Array<[string, string]>): Buffer {
  const block = Buffer.concat(vars.map(([k, v]) => Buffer.from(`${k}\0${v}\0`, 'latin1')));
  return Buffer.concat([Buffer.from(`${block.length}:`), block, Buffer.from(',')]);
}

/** Sends `bytes` to the abstract UNIX socket `name` and reads until the server closes. Node 20
 *  cannot connect to abstract names (libuv stops at the leading NUL), so python3 does it. */
export function abstractExchange(name: string, bytes: Buffer): Promise<Buffer> {
  const script =
    'import socket,sys\n' +
    's=socket.socket(socket.AF_UNIX)\n' +
    's.settimeout(30)\n' +
    "s.connect('\\0'+sys.argv[1])\n" +
    's.sendall(sys.stdin.buffer.read())\n' +
    'while True:\n' +
    '  d=s.recv(65536)\n' +
    '  if not d: break\n' +
    '  sys.stdout.buffer.write(d)\n';
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', script, name], { stdio: ['pipe', 'pipe', 'inherit'] });
    const parts: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => parts.push(d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(parts)) : reject(new Error(`python3 exited ${code}`))));
    p.stdin.end(bytes);
  });
}

/** xorshift32: the same sequence on every run, so a failing case reproduces. */
export function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** `input` with 1-4 random byte changes, deletions or duplications, or random bytes (1 in 5). */
export function mutated(r: () => number, input: Buffer): Buffer {
  if (r() < 0.2) return Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256)));
  let b = Buffer.from(input);
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n && b.length > 0; i++) {
    const at = Math.floor(r() * b.length);
    const op = r();
    if (op < 0.5) b[at] = Math.floor(r() * 256);
    else if (op < 0.75) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else b = Buffer.concat([b.subarray(0, at), Buffer.from([b[at]!]), b.subarray(at)]);
  }
  return b;
}
