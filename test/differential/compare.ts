// Compares what the own server and tsgi answered to one request, field by field, and matches
// the differences against a framework's allow-list.

import { createHash } from 'node:crypto';
import type { Observed } from './client';

/** Headers that describe the connection, not the answer (RFC 9110 §7.6.1 hop-by-hop, and the
 *  server's clock): they may differ between two correct servers. Transfer-Encoding is NOT
 *  here: chunked or Content-Length framing is part of what a client acts on. */
const IGNORED_HEADERS = new Set(['date', 'connection', 'keep-alive']);

export interface Difference {
  request: string;
  field: string;
  own: string;
  tsgi: string;
}

export interface Allowed {
  /** The request name(s) from requests.ts, or '*' for every request. */
  request: string | string[];
  /** 'status', 'status text', 'header NAME', 'body', 'error', 'first part before ack',
   *  'next request on the connection'. */
  field: string;
  /** Why this difference is not a tsgi bug (the same text is in docs/app-contract.md). */
  reason: string;
}

function show(values: string[] | undefined): string {
  return values === undefined ? '(absent)' : JSON.stringify(values.length === 1 ? values[0] : values);
}

function showBody(b: Buffer): string {
  if (b.length === 0) return '0 bytes';
  const head = b
    .subarray(0, 48)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '.');
  const hash = createHash('sha256').update(b).digest('hex').slice(0, 12);
  return `${b.length} bytes sha256:${hash} "${head}${b.length > 48 ? '…' : ''}"`;
}

export function compare(request: string, own: Observed, tsgi: Observed): Difference[] {
  const out: Difference[] = [];
  const add = (field: string, a: string, b: string): void => {
    if (a !== b) out.push({ request, field, own: a, tsgi: b });
  };
  add('error', own.error ?? '(none)', tsgi.error ?? '(none)');
  add('status', String(own.status ?? '(none)'), String(tsgi.status ?? '(none)'));
  add('status text', JSON.stringify(own.statusText ?? null), JSON.stringify(tsgi.statusText ?? null));
  const names = new Set([...Object.keys(own.headers), ...Object.keys(tsgi.headers)]);
  for (const name of [...names].sort()) {
    if (IGNORED_HEADERS.has(name)) continue;
    add(`header ${name}`, show(own.headers[name]), show(tsgi.headers[name]));
  }
  if (!own.body.equals(tsgi.body))
    out.push({ request, field: 'body', own: showBody(own.body), tsgi: showBody(tsgi.body) });
  add('first part before ack', String(own.firstPartBeforeAck ?? '-'), String(tsgi.firstPartBeforeAck ?? '-'));
  add('next request on the connection', own.nextOnConnection ?? '-', tsgi.nextOnConnection ?? '-');
  return out;
}

export function isAllowed(d: Difference, allow: Allowed[]): Allowed | undefined {
  const covers = (a: Allowed): boolean =>
    Array.isArray(a.request) ? a.request.includes(d.request) : a.request === '*' || a.request === d.request;
  return allow.find((a) => covers(a) && a.field === d.field);
}

export function formatDifference(framework: string, d: Difference): string {
  return `${framework} | ${d.request} | ${d.field} | own: ${d.own} | tsgi: ${d.tsgi}`;
}
