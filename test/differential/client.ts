// Sends one DiffRequest with node:http (a new connection each time, so no keep-alive state
// leaks between requests) and records what a client acts on: status, raw header list, body
// bytes, and for gated streams whether the first part arrived before the app was told to
// produce the second.

import http from 'node:http';
import type { DiffRequest } from './requests';

export interface Observed {
  status?: number;
  statusText?: string;
  /** Lower-cased name -> values in arrival order (every repeat kept). */
  headers: Record<string, string[]>;
  body: Buffer;
  /** A client-side failure: a parse error, a reset, or the deadline. */
  error?: string;
  /** Gated streams only: the first body bytes arrived while the app still waited for the ack. */
  firstPartBeforeAck?: boolean;
  /** keep-alive.ts: whether the same connection then carried a pipelined request. */
  nextOnConnection?: string;
}

/** How long a gated stream's first part may take before the client acks anyway (a failure
 *  deadline on loopback, not a timing assumption: the app cannot go on without the ack). */
const FIRST_PART_DEADLINE_MS = 3000;
export const REQUEST_DEADLINE_MS = 10000;
export const DEADLINE_ERROR = `no complete answer within ${REQUEST_DEADLINE_MS} ms`;

function ackGate(port: number, id: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: `/ack/${id}`, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
  });
}

export function send(port: number, r: DiffRequest): Promise<Observed> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const seen: Observed = { headers: {}, body: Buffer.alloc(0) };
    let done = false;
    let acked: Promise<void> | undefined;
    let gateTimer: NodeJS.Timeout | undefined;
    const finish = async (error?: string): Promise<void> => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(gateTimer);
      if (error !== undefined) seen.error = error;
      seen.body = Buffer.concat(parts);
      if (acked !== undefined) await acked;
      resolve(seen);
    };
    const deadline = setTimeout(() => {
      req.destroy();
      void finish(DEADLINE_ERROR);
    }, REQUEST_DEADLINE_MS);
    const ack = (before: boolean): void => {
      if (r.gateId === undefined || acked !== undefined) return;
      seen.firstPartBeforeAck = before;
      acked = ackGate(port, r.gateId);
    };

    const headers: Record<string, string> = { ...r.headers };
    if (r.body !== undefined && r.chunkedParts === undefined) headers['content-length'] = String(r.body.length);
    const req = http.request(
      { host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent: false },
      (res) => {
        seen.status = res.statusCode;
        seen.statusText = res.statusMessage;
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!.toLowerCase();
          (seen.headers[name] ??= []).push(res.rawHeaders[i + 1]!);
        }
        res.on('data', (d: Buffer) => {
          parts.push(d);
          ack(true);
        });
        res.on('end', () => void finish());
        res.on('error', (e: NodeJS.ErrnoException) => void finish(e.code ?? e.message));
        res.on('aborted', () => void finish('response aborted'));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => void finish(e.code ?? e.message));
    if (r.gateId !== undefined) gateTimer = setTimeout(() => ack(false), FIRST_PART_DEADLINE_MS);
    if (r.body !== undefined && r.chunkedParts !== undefined) {
      const step = Math.ceil(r.body.length / r.chunkedParts);
      for (let off = 0; off < r.body.length; off += step) req.write(r.body.subarray(off, off + step));
      req.end();
    } else {
      req.end(r.body);
    }
  });
}
