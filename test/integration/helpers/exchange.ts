// Small request helpers shared by the integration tests: one uwsgi packet or one raw HTTP
// request per connection, answered by one parsed response; plus fixture paths and temp dirs.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { APPS, parseResponses, rawExchange, uwsgiPacket } from './tsgi';

export type Target = { port: number; host?: string } | { path: string };

export interface OneResponse {
  status: number;
  statusLine: string;
  headers: Record<string, string>;
  body: string;
  /** Every byte the server sent. */
  data: Buffer;
  /** How many complete responses the bytes hold. */
  count: number;
  closed: boolean;
}

export const PROBE = path.join(APPS, 'probe.mjs');

function one(r: { data: Buffer; closed: boolean }): OneResponse {
  const all = parseResponses(r.data);
  const first = all[0];
  const text = r.data.toString('latin1');
  return {
    status: first?.status ?? 0,
    statusLine: text.slice(0, Math.max(0, text.indexOf('\r\n'))),
    headers: first?.headers ?? {},
    body: first?.body ?? '',
    data: r.data,
    count: all.length,
    closed: r.closed,
  };
}

/** Sends one uwsgi packet (plus optional extra bytes) and reads until the server closes. */
export async function uwsgiRequest(
  target: Target,
  vars: Array<[string, string]>,
  body: string | Buffer = '',
  modifier1 = 0,
  opts: { timeoutMs?: number } = {},
): Promise<OneResponse> {
  return one(await rawExchange(target, [uwsgiPacket(vars, body, modifier1)], { timeoutMs: opts.timeoutMs ?? 5000 }));
}

/** Sends raw bytes, reads until the server closes, parses the first response. */
export async function rawRequest(
  target: Target,
  chunks: Array<string | Buffer>,
  opts: { timeoutMs?: number; endInput?: boolean } = {},
): Promise<OneResponse> {
  return one(await rawExchange(target, chunks, { timeoutMs: opts.timeoutMs ?? 5000, endInput: opts.endInput }));
}

/** An HTTP/1.1 request with `Connection: close` (so the exchange ends when the server closes). */
export function httpRequest(method: string, target: string, headers: Array<[string, string]> = [], body = ''): string {
  const lines = [
    `${method} ${target} HTTP/1.1`,
    'Host: localhost',
    ...headers.map(([k, v]) => `${k}: ${v}`),
    'Connection: close',
  ];
  if (body.length > 0 && !headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) {
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The vars nginx would send for `GET path`, minimal form. */
export function getVars(pathInfo: string, extra: Array<[string, string]> = []): Array<[string, string]> {
  return [
    ['REQUEST_METHOD', 'GET'],
    ['REQUEST_URI', pathInfo],
    ['PATH_INFO', pathInfo],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ...extra,
  ];
}

/** A fresh private directory under the system temp dir, removed by the returned function. */
export function tempDir(prefix = 'tsgi-it-'): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Resolves when `re` matches text that appears in `read()` after `from` characters. */
export async function waitForText(read: () => string, re: RegExp, timeoutMs = 60000, from = 0): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(read().slice(from));
    if (m) return m[0];
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; text:\n${read().slice(from)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Listens on 127.0.0.1:0 with a plain net server; resolves with the port and a closer. */
export function occupyPort(): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      resolve({ port, close: () => new Promise<void>((r) => s.close(() => r())) });
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The TCP port of the n-th socket of `proto` ("http", "uwsgi", ...) in a startup log. */
export function portOf(output: string, proto: string, n = 0): number {
  const ports = [...output.matchAll(/tsgi socket \d+ bound to TCP address \S+:(\d+) \((\w+)\)/g)]
    .filter((m) => m[2] === proto)
    .map((m) => Number(m[1]));
  if (ports[n] === undefined) throw new Error(`no ${proto} socket #${n} in the startup log:\n${output}`);
  return ports[n]!;
}

/** One GET on a new connection (no keep-alive, so consecutive ones may reach any worker). */
export function getOnNewConnection(port: number, p = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: p, agent: false, headers: { Connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error('request timed out')));
  });
}

/** The --stats server's JSON document (it sends one and closes). */
export function readStats<T = { workers: Array<{ id: number; pid: number; status: string }> }>(
  port: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('end', () => {
      try {
        resolve(JSON.parse(data) as T);
      } catch (err) {
        reject(err);
      }
    });
    sock.on('error', reject);
  });
}
