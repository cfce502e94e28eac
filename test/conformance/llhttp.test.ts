// Runs llhttp's request fixtures (nodejs/llhttp test/request/*.md at commit 01e105a, MIT licence,
// vendored in test/fixtures/llhttp/) against our native HTTP/1.1 parser and chunked decoder.
//
// Kept: cases whose meta type is "request" (llhttp's strict request mode), with or without
// "noScan" (we split every case anyway: our parser re-parses from the start).
// Excluded, and why:
//   - "request-lenient-*": llhttp's opt-in leniency flags (bare LF, spaces after chunk size,
//     relaxed header values, ...). We have no such flags: strict is the only mode.
//   - "request-finish": checks llhttp_finish() at EOF, a call with no equivalent here (the
//     socket layer decides what a close mid-message means).
//   - cases with "pause" or "skipBody": they test callback return values (pausing in a
//     callback, skipping a body), which a pull parser does not have.
//   - response fixtures and url.md: we parse requests only; URL parsing is the uri module's.
//
// For each kept case the verdict comes from the log: an `error code=` line means we must
// refuse, except llhttp's pause on CONNECT/Upgrade and its "Data after Connection: close",
// which end the HTTP conversation rather than refuse it. Accepted messages must match in
// method, URL, header names and values (llhttp keeps trailing whitespace in a value, we
// strip it as RFC 9112 5 says) and body. The socket layer is emulated: a head, then
// Content-Length bytes or the chunked decoder, then the next pipelined request, stopping
// after a message that does not keep the connection alive or asks for an upgrade, and right
// after a CONNECT head (what follows is tunnel data, as llhttp also assumes).
// Host is not required here (option requireHost: false): llhttp never checks it and most
// fixtures omit it.
//
// Each case runs whole and cut at every byte: a prefix may only yield the same messages
// (or fewer) and "incomplete", or the same error; chunked bodies are also fed to a stateful
// decoder in two pieces at every split. Deliberate differences live in llhttp-overrides.json
// keyed by test name with a reason and our expected outcome ("accept" or an error name).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';

import { type ExpectedMessage, type ExpectedOutcome, type LlhttpCase, readFixtures, readLog } from './llhttp-fixtures';

const repoRoot = path.resolve(__dirname, '..', '..');
const fixtureDir = path.join(__dirname, '..', 'fixtures', 'llhttp', 'request');

interface ParsedHead {
  consumed: number;
  method?: string;
  target?: string;
  headers?: Array<[string, string]>;
  framing?: 'none' | 'length' | 'chunked';
  contentLength?: number | bigint;
  keepAlive?: boolean;
  upgrade?: boolean;
  error?: string;
  status?: number;
}

interface ChunkedResult {
  status: 'done' | 'needMore' | 'error';
  data: Uint8Array;
  consumed: number;
  error?: string;
}

interface Native {
  _parseHttpRequest(bytes: Uint8Array, opts?: Record<string, unknown>): ParsedHead;
  _decodeChunked(bytes: Uint8Array): ChunkedResult;
  _chunkedDecoder(): { feed(bytes: Uint8Array): ChunkedResult };
}

interface Override {
  reason: string;
  ours: string; // "accept" or the error name we answer with
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const native = require(path.join(repoRoot, 'build', 'Release', 'tsgi_native.node')) as Native;
const overrides = JSON.parse(fs.readFileSync(path.join(__dirname, 'llhttp-overrides.json'), 'utf8')) as Record<
  string,
  Override
>;

const parseOpts = { requireHost: false, maxHeadSize: 1 << 20, maxTargetLen: 1 << 20 };

interface OurMessage {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Buffer;
  chunked?: Buffer; // the raw chunked body, for the split-decoder check
}

interface OurOutcome {
  messages: OurMessage[];
  end: 'clean' | 'incomplete' | 'error' | 'stopped';
  error?: string;
}

// Emulates the socket layer over one buffer: heads, bodies and pipelined requests.
function runStream(input: Buffer): OurOutcome {
  const messages: OurMessage[] = [];
  let off = 0;
  for (;;) {
    if (off === input.length) return { messages, end: 'clean' };
    const head = native._parseHttpRequest(input.subarray(off), parseOpts);
    if (head.error) return { messages, end: 'error', error: head.error };
    if (head.consumed === 0) return { messages, end: 'incomplete' };
    off += head.consumed;
    const msg: OurMessage = {
      method: head.method!,
      url: head.target!,
      headers: head.headers!,
      body: Buffer.alloc(0),
    };
    if (head.method === 'CONNECT') {
      // The bytes after a CONNECT head belong to the tunnel, whatever the head says.
      messages.push(msg);
      return { messages, end: off === input.length ? 'clean' : 'stopped' };
    }
    if (head.framing === 'length') {
      const n = Number(head.contentLength);
      if (input.length - off < n) return { messages, end: 'incomplete' };
      msg.body = input.subarray(off, off + n);
      off += n;
    } else if (head.framing === 'chunked') {
      const r = native._decodeChunked(input.subarray(off));
      if (r.status === 'error') return { messages, end: 'error', error: r.error };
      if (r.status === 'needMore') return { messages, end: 'incomplete' };
      msg.body = Buffer.from(r.data);
      msg.chunked = input.subarray(off, off + r.consumed);
      off += r.consumed;
    }
    messages.push(msg);
    if (!head.keepAlive || head.upgrade || head.method === 'CONNECT') {
      return { messages, end: off === input.length ? 'clean' : 'stopped' };
    }
  }
}

const trimOws = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');

function sameMessage(ours: OurMessage, theirs: ExpectedMessage, where: string): void {
  assert.equal(ours.method, theirs.method, `${where}: method`);
  assert.equal(ours.url, theirs.url, `${where}: url`);
  assert.deepEqual(
    ours.headers,
    theirs.headers.map(([n, v]) => [n, trimOws(v)]),
    `${where}: headers`,
  );
  assert.equal(ours.body.toString('latin1'), theirs.body.toString('latin1'), `${where}: body`);
}

function agreeWithLlhttp(ours: OurOutcome, expected: ExpectedOutcome): void {
  const complete = expected.messages.filter((m) => m.complete);
  if (expected.end === 'error') {
    assert.equal(ours.end, 'error', `llhttp refuses (${expected.errorReason}); we ended ${ours.end}`);
  } else {
    assert.notEqual(ours.end, 'error', `llhttp accepts; we refused with ${ours.error}`);
    const partial = expected.messages.some((m) => !m.complete);
    if (partial && expected.end === 'ok') assert.equal(ours.end, 'incomplete', 'input ends mid-message');
  }
  assert.equal(ours.messages.length, complete.length, 'number of complete messages');
  ours.messages.forEach((m, i) => {
    sameMessage(m, complete[i], `message ${i + 1}`);
  });
}

function agreeWithOverride(ours: OurOutcome, o: Override): void {
  if (o.ours === 'accept') {
    assert.notEqual(ours.end, 'error', `we refused with ${ours.error}`);
  } else {
    assert.equal(ours.error, o.ours);
  }
}

// Cutting the input anywhere must never change what was already decided.
function splitsAgree(input: Buffer, whole: OurOutcome): void {
  for (let k = 0; k < input.length; k++) {
    const part = runStream(input.subarray(0, k));
    if (part.end === 'error') {
      assert.equal(whole.end, 'error', `prefix of ${k} bytes refused, whole input was not`);
      assert.equal(part.error, whole.error, `prefix of ${k} bytes: error`);
    }
    assert.ok(part.messages.length <= whole.messages.length, `prefix of ${k} bytes: messages`);
    part.messages.forEach((m, i) => {
      assert.equal(m.url, whole.messages[i].url);
      assert.deepEqual(m.headers, whole.messages[i].headers);
      assert.deepEqual(m.body, whole.messages[i].body);
    });
  }
  for (const m of whole.messages) {
    if (!m.chunked) continue;
    for (let k = 0; k <= m.chunked.length; k++) {
      const d = native._chunkedDecoder();
      const a = d.feed(m.chunked.subarray(0, k));
      const b = d.feed(m.chunked.subarray(k));
      assert.equal(b.status, 'done', `chunked body split at ${k}`);
      assert.equal(a.consumed + b.consumed, m.chunked.length);
      assert.deepEqual(Buffer.concat([a.data, b.data]), m.body, `chunked body split at ${k}`);
    }
  }
}

function kept(c: LlhttpCase): boolean {
  return c.meta.type === 'request' && c.meta.pause === undefined && c.meta.skipBody === undefined;
}

const cases = readFixtures(fixtureDir);
const counts = { run: 0, agree: 0, overridden: 0, excluded: 0 };
const usedOverrides = new Set<string>();

describe('llhttp request fixtures', () => {
  for (const c of cases) {
    if (!kept(c)) {
      counts.excluded++;
      continue;
    }
    counts.run++;
    const override = overrides[c.name];
    if (override) {
      counts.overridden++;
      usedOverrides.add(c.name);
    } else {
      counts.agree++;
    }
    test(c.name, () => {
      const ours = runStream(c.input);
      if (override) agreeWithOverride(ours, override);
      else agreeWithLlhttp(ours, readLog(c.log));
      splitsAgree(c.input, ours);
    });
  }

  test('every override names an existing strict case', () => {
    const stale = Object.keys(overrides).filter((k) => !usedOverrides.has(k));
    assert.deepEqual(stale, []);
  });
});

after(() => {
  console.log(
    `# llhttp: ${counts.run} cases run, ${counts.agree} compared with llhttp, ` +
      `${counts.overridden} overridden, ${counts.excluded} excluded by type`,
  );
});
