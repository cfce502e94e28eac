// The requests every real-app fixture (test/fixtures/real-apps/) is asked, in order. Each is
// sent to the app under its own server and under tsgi, and the answers are compared.

import { createHash } from 'node:crypto';

export interface DiffRequest {
  /** "METHOD /path" plus a note when two requests share them; names the request in reports. */
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Send the body in these many writes without Content-Length (chunked request framing). */
  chunkedParts?: number;
  /** A gated stream: the app writes its first part and waits for GET /ack/<id>. */
  gateId?: string;
  /** The status every framework answers (checked under the own server: the fixture works);
   *  absent where frameworks differ (HEAD without a GET fallback, 404 or 405, 400 or 500). */
  expect?: number;
}

/** 1 MiB upload whose bytes are not a repeating short pattern. */
function uploadBytes(): Buffer {
  const out = Buffer.alloc(1024 * 1024);
  let seed = createHash('sha256').update('tsgi differential upload').digest();
  for (let off = 0; off < out.length; off += seed.length) {
    seed.copy(out, off);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

const BOUNDARY = '----tsgiDifferentialBoundary7MA4YWxkTrZu0gW';
function multipart(): Buffer {
  const file = Buffer.from('col1,col2\n' + 'x,y\n'.repeat(2000));
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nQuarterly report\r\n`),
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="data.csv"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const big = uploadBytes();

export const REQUESTS: DiffRequest[] = [
  { name: 'GET /', method: 'GET', path: '/', expect: 200 },
  { name: 'HEAD /', method: 'HEAD', path: '/' },
  { name: 'GET /users/42', method: 'GET', path: '/users/42', expect: 200 },
  { name: 'HEAD /users/42', method: 'HEAD', path: '/users/42' },
  { name: 'GET /users/42/posts/hello-world', method: 'GET', path: '/users/42/posts/hello-world', expect: 200 },
  { name: 'DELETE /users/42', method: 'DELETE', path: '/users/42', expect: 204 },
  { name: 'POST /users/42 (no such route)', method: 'POST', path: '/users/42' },
  { name: 'OPTIONS /users/42', method: 'OPTIONS', path: '/users/42' },
  { name: 'GET /search?q&tag&tag', method: 'GET', path: '/search?q=hello%20world&tag=a&tag=b', expect: 200 },
  { name: 'GET /search?q=café', method: 'GET', path: '/search?q=caf%C3%A9', expect: 200 },
  {
    name: 'POST /json',
    method: 'POST',
    path: '/json',
    expect: 200,
    headers: { 'content-type': 'application/json' },
    body: json({ name: 'Ada', tags: ['x', 'y'], n: 1.5 }),
  },
  {
    name: 'PUT /json',
    method: 'PUT',
    path: '/json',
    expect: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: json({ unicode: 'héllo ✓' }),
  },
  {
    name: 'POST /json (malformed)',
    method: 'POST',
    path: '/json',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"name": '),
  },
  {
    name: 'POST /form',
    method: 'POST',
    path: '/form',
    expect: 200,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from('name=Ada+Lovelace&lang=en&lang=fr&note=a%26b'),
  },
  {
    name: 'POST /upload (multipart)',
    method: 'POST',
    path: '/upload',
    expect: 200,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: multipart(),
  },
  {
    name: 'GET /cookies',
    method: 'GET',
    path: '/cookies',
    headers: { cookie: 'session=abc123; theme=dark; note=a%20b' },
    expect: 200,
  },
  { name: 'GET /set-cookies', method: 'GET', path: '/set-cookies', expect: 200 },
  { name: 'GET /redirect', method: 'GET', path: '/redirect', expect: 302 },
  { name: 'GET /moved', method: 'GET', path: '/moved', expect: 301 },
  {
    name: 'POST /submit (303)',
    method: 'POST',
    path: '/submit',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from('a=1'),
    expect: 303,
  },
  { name: 'GET /stream (gated)', method: 'GET', path: '/stream/s1', gateId: 's1', expect: 200 },
  {
    name: 'GET /sse (gated)',
    method: 'GET',
    path: '/sse/e1',
    gateId: 'e1',
    headers: { accept: 'text/event-stream' },
    expect: 200,
  },
  { name: 'GET /error', method: 'GET', path: '/error', expect: 500 },
  { name: 'GET /async-error', method: 'GET', path: '/async-error', expect: 500 },
  { name: 'GET /nope', method: 'GET', path: '/nope', expect: 404 },
  { name: 'GET /download (1 MiB)', method: 'GET', path: '/download', expect: 200 },
  { name: 'HEAD /download', method: 'HEAD', path: '/download' },
  {
    name: 'POST /hash (1 MiB)',
    method: 'POST',
    path: '/hash',
    expect: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: big,
  },
  {
    name: 'POST /hash (1 MiB, chunked)',
    method: 'POST',
    path: '/hash',
    expect: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: big,
    chunkedParts: 16,
  },
  {
    name: 'POST /echo (1 MiB)',
    method: 'POST',
    path: '/echo',
    expect: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: big,
  },
  { name: 'GET /teapot', method: 'GET', path: '/teapot', expect: 418 },
  {
    name: 'GET /headers',
    method: 'GET',
    path: '/headers',
    expect: 200,
    headers: { 'user-agent': 'tsgi-differential/1.0', 'x-request-id': 'req-7f3a', accept: 'application/json' },
  },
  { name: 'GET /auth', method: 'GET', path: '/auth', expect: 401 },
  { name: 'GET /cached', method: 'GET', path: '/cached', expect: 200 },
  { name: 'GET /report.csv', method: 'GET', path: '/report.csv', expect: 200 },
  { name: 'GET /unicode', method: 'GET', path: '/unicode', expect: 200 },
];
