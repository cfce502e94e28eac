// The framing check node:http's client cannot make on a fresh connection: after an answer,
// does the same connection carry the next request? A wrong Content-Length, a missing
// chunked terminator or stray bytes after the body leave the second answer garbled or
// missing. The request is written raw, followed at once (pipelined, RFC 9112 §9.3.2) by
// `GET /users/42` with `Connection: close`, and the two answers are split by their framing.

import { parseResponses, rawExchange } from '../integration/helpers/tsgi';
import type { DiffRequest } from './requests';

const FOLLOW_UP = 'GET /users/42 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
const FOLLOW_UP_BODY = '{"id":"42"}';

/** Requests this check applies to: HEAD answers carry no body the splitter could find, and a
 *  gated stream waits for an ack this check does not send. */
export function probesKeepAlive(r: DiffRequest): boolean {
  return r.method !== 'HEAD' && r.gateId === undefined;
}

function rawRequest(r: DiffRequest): Buffer {
  const lines = [`${r.method} ${r.path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(r.headers ?? {})) lines.push(`${k}: ${v}`);
  if (r.body !== undefined) lines.push(`Content-Length: ${r.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), r.body ?? Buffer.alloc(0)]);
}

/** "second answer ok", or what went wrong with it. */
export async function nextOnConnection(port: number, r: DiffRequest): Promise<string> {
  const res = await rawExchange({ port }, [rawRequest(r), FOLLOW_UP], { timeoutMs: 10000 });
  if (!res.closed) return 'no close within 10 s after the follow-up request';
  const answers = parseResponses(res.data);
  if (answers.length < 2) return `${answers.length} answer(s) on the connection, ${res.data.length} bytes`;
  const second = answers[1]!;
  if (second.status !== 200 || second.body !== FOLLOW_UP_BODY) {
    return `second answer: status ${second.status}, body ${JSON.stringify(second.body.slice(0, 40))}`;
  }
  return answers.length === 2 ? 'second answer ok' : `second answer ok, then ${answers.length - 2} more`;
}
