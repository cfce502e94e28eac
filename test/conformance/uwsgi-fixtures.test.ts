// Replays every uwsgi packet fixture in test/fixtures/uwsgi/*.md (format: README.md there)
// through the addon's test-only _parseUwsgi. Each case is checked three ways: the expected
// result; every strict prefix of the packet is incomplete (or already the same error, when the
// header alone decides it); and, for accepted packets, _encodeUwsgi of the parsed vars gives
// back the exact header and vars bytes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');
const fixturesDir = join(root, 'test', 'fixtures', 'uwsgi');

interface ParseOk {
  modifier1: number;
  modifier2: number;
  datasize: number;
  vars: [string, string][];
  bodyOffset: number;
  contentLength?: number | bigint;
}
type ParseResult = ParseOk | { incomplete: true } | { error: string; status: number };

interface UwsgiTestApi {
  _parseUwsgi(bytes: Uint8Array, opts?: { bufferSize?: number; maxVars?: number }): ParseResult;
  _encodeUwsgi(modifier1: number, modifier2: number, vars: [string, string][]): Uint8Array;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const native: UwsgiTestApi = require(join(root, 'build', 'Release', 'tsgi_native.node'));

type Expect =
  | { kind: 'incomplete' }
  | { kind: 'error'; name: string }
  | {
      kind: 'vars';
      vars: [string, string][];
      modifier1: number;
      modifier2: number;
      body: number;
      contentLength?: bigint;
    };

interface Case {
  heading: string;
  file: string;
  line: number;
  meta: { bufferSize?: number; maxVars?: number };
  hex?: string[];
  expect?: string[];
}

/** Splits a fixture file into cases: a `## heading` starts one; fenced blocks belong to it. */
function readCases(file: string): Case[] {
  const lines = readFileSync(join(fixturesDir, file), 'utf8').split('\n');
  const cases: Case[] = [];
  let current: Case | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('## ')) {
      current = { heading: line.slice(3).trim(), file, line: i + 1, meta: {} };
      cases.push(current);
      continue;
    }
    const meta = /^<!--\s*meta=(\{.*\})\s*-->$/.exec(line.trim());
    if (meta && current) current.meta = JSON.parse(meta[1]);
    const fence = /^```(hex|expect)\s*$/.exec(line);
    if (fence && current) {
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
      if (fence[1] === 'hex') current.hex = body;
      else current.expect = body;
    }
  }
  return cases;
}

/** Hex pairs, whitespace ignored, `#` comments, `XX{N}` repeats. */
function parseHex(lines: string[]): Uint8Array {
  const out: number[] = [];
  for (const raw of lines) {
    const text = raw.replace(/#.*/, '').trim();
    if (!text) continue;
    for (const tok of text.split(/\s+/)) {
      const m = /^([0-9a-fA-F]{2})(?:\{(\d+)\})?$/.exec(tok);
      if (!m) throw new Error(`bad hex token ${JSON.stringify(tok)}`);
      const byte = parseInt(m[1], 16);
      const count = m[2] === undefined ? 1 : Number(m[2]);
      for (let k = 0; k < count; k++) out.push(byte);
    }
  }
  return Uint8Array.from(out);
}

/** `\xNN`, `\xNN{N}` and `\\` escapes into a latin1 string (one char per byte). */
function unescapeFixture(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out += s[i];
      continue;
    }
    if (s[i + 1] === '\\') {
      out += '\\';
      i++;
      continue;
    }
    const m = /^x([0-9a-f]{2})(?:\{(\d+)\})?/.exec(s.slice(i + 1));
    if (!m) throw new Error(`bad escape in ${JSON.stringify(s)}`);
    out += String.fromCharCode(parseInt(m[1], 16)).repeat(m[2] === undefined ? 1 : Number(m[2]));
    i += m[0].length;
  }
  return out;
}

function parseExpect(lines: string[]): Expect {
  const rows = lines.map((l) => l.trimEnd()).filter((l) => l !== '');
  if (rows.length === 1 && rows[0] === 'incomplete') return { kind: 'incomplete' };
  if (rows.length === 1 && rows[0].startsWith('error=')) return { kind: 'error', name: rows[0].slice(6) };
  if (rows[0] !== 'vars:') throw new Error(`expect block must start with vars:, error= or incomplete`);
  const last = rows[rows.length - 1];
  const fields = Object.fromEntries(last.split(/\s+/).map((kv) => kv.split('=') as [string, string]));
  for (const f of ['modifier1', 'modifier2', 'body']) {
    if (fields[f] === undefined) throw new Error(`expect line ${JSON.stringify(last)} lacks ${f}`);
  }
  const vars = rows.slice(1, -1).map((row): [string, string] => {
    const eq = row.indexOf('=');
    if (eq <= 0) throw new Error(`bad var line ${JSON.stringify(row)}`);
    return [unescapeFixture(row.slice(0, eq)), unescapeFixture(row.slice(eq + 1))];
  });
  return {
    kind: 'vars',
    vars,
    modifier1: Number(fields.modifier1),
    modifier2: Number(fields.modifier2),
    body: Number(fields.body),
    contentLength: fields.content_length === undefined ? undefined : BigInt(fields.content_length),
  };
}

/** JSON for messages; BigInt lengths printed as digits, long values cut. */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)).slice(0, 300);
}

function checkCase(c: Case): void {
  assert.ok(c.hex, 'case has a hex block');
  assert.ok(c.expect, 'case has an expect block');
  const bytes = parseHex(c.hex);
  const want = parseExpect(c.expect);
  const got = native._parseUwsgi(bytes, c.meta);

  if (want.kind === 'incomplete') {
    assert.deepEqual(got, { incomplete: true });
    return;
  }
  if (want.kind === 'error') {
    assert.ok('error' in got, `expected error ${want.name}, got ${show(got)}`);
    assert.equal(got.error, want.name);
    assert.equal(typeof got.status, 'number');
  } else {
    assert.ok('vars' in got, `expected vars, got ${show(got)}`);
    assert.equal(got.modifier1, want.modifier1, 'modifier1');
    assert.equal(got.modifier2, want.modifier2, 'modifier2');
    assert.equal(got.bodyOffset, 4 + got.datasize, 'bodyOffset');
    assert.equal(bytes.length - got.bodyOffset, want.body, 'body length');
    assert.deepEqual(got.vars, want.vars);
    if (want.contentLength !== undefined) {
      assert.notEqual(got.contentLength, undefined, 'contentLength present');
      assert.equal(BigInt(got.contentLength!), want.contentLength, 'contentLength');
    }
    const encoded = native._encodeUwsgi(got.modifier1, got.modifier2, got.vars);
    assert.ok(Buffer.from(encoded).equals(Buffer.from(bytes.subarray(0, got.bodyOffset))), 'encode(parse(p)) == p');
  }

  // Prefixes: the parser must never judge a packet before it has the bytes that decide it.
  const end = 'vars' in got ? got.bodyOffset : bytes.length;
  for (let len = 0; len < end; len++) {
    const part = native._parseUwsgi(bytes.subarray(0, len), c.meta);
    if ('incomplete' in part) continue;
    assert.ok(len >= 4 && 'error' in got, `prefix of ${len} bytes was judged: ${show(part)}`);
    assert.deepEqual(part, got, `prefix of ${len} bytes`);
  }
}

const files = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .sort();

test('the uwsgi fixture folder holds cases', () => {
  assert.ok(files.length >= 4, `found ${files.join(', ')}`);
});

for (const file of files) {
  for (const c of readCases(file)) {
    test(`${c.heading} (${c.file}:${c.line})`, () => checkCase(c));
  }
}
