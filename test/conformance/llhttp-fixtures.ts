// Reader for llhttp's markdown fixtures (nodejs/llhttp test/request/*.md, MIT licence), read in
// place from the shared conformance folder. A case is a heading, a `<!-- meta={...} -->`
// comment, an `http` block holding the input and a `log` block holding llhttp's callbacks.
//
// Input encoding, as llhttp's own md runner applies it (test/md-test.ts):
//   1. the block's lines are joined with "\n" (the newline before the closing fence is dropped);
//   2. a backslash at the end of a line removes that line break;
//   3. every remaining line break becomes CRLF;
//   4. the escapes \r \n \t \f, \xHH... and octal \NNN stand for single characters.
// The resulting string is encoded as UTF-8 (uri.md sends raw UTF-8 in a target).
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LlhttpCase {
  name: string; // "<heading> (<file>.md:<line>)"
  file: string;
  line: number; // 1-based line of the heading
  meta: Record<string, unknown>;
  input: Buffer;
  log: string[];
}

export interface ExpectedMessage {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Buffer;
  headersComplete: boolean;
  complete: boolean;
}

export interface ExpectedOutcome {
  messages: ExpectedMessage[];
  // 'error': llhttp refuses the input. 'stopped': llhttp paused on CONNECT/Upgrade or refused
  // bytes after a non-keep-alive message (a server closes or hands the socket over there).
  // 'ok': the input was consumed without complaint (possibly ending mid-message).
  end: 'ok' | 'error' | 'stopped';
  errorCode?: number;
  errorReason?: string;
}

// llhttp error codes that end parsing without the input being malformed.
const HPE_CLOSED_CONNECTION = 5;
const HPE_PAUSED_UPGRADE = 22;
const HPE_PAUSED_H2_UPGRADE = 23;

// Escapes become single characters first and the whole string is then encoded as UTF-8, which
// is what llhttp's runner hands its parser: "\\xff" arrives as the two bytes C3 BF.
function unescapeFixture(text: string): string {
  return text
    .replace(/\\r/g, '\r')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\f/g, '\f')
    .replace(/\\x([0-9a-fA-F]+)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\([0-7]{1,3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function decodeHttpBlock(lines: string[]): Buffer {
  let text = lines.join('\n');
  text = text.replace(/\\(\r\n|\r|\n)/g, '');
  text = text.replace(/\r\n|\r|\n/g, '\r\n');
  return Buffer.from(unescapeFixture(text), 'utf8');
}

// Span values in the log are the raw bytes printed as UTF-8 between quotes (inner quotes and
// backslashes are not escaped); only \t and \f are written as escapes.
function decodeSpanValue(quoted: string): Buffer {
  const inner = quoted.slice(1, -1).replace(/\\t/g, '\t').replace(/\\f/g, '\f');
  return Buffer.from(inner, 'utf8');
}

export function readFixtureFile(dir: string, file: string): LlhttpCase[] {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  const lines = text.split(/\r?\n/);
  const base = file.replace(/\.md$/, '');
  const cases: LlhttpCase[] = [];
  let heading = '';
  let headingLine = 0;
  let meta: Record<string, unknown> | null = null;
  let input: Buffer | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = /^#+\s+(.*)$/.exec(line);
    if (h) {
      heading = h[1].trim();
      headingLine = i + 1;
      meta = null;
      input = null;
      continue;
    }
    // Setext headings ("Title" underlined with === or ---) name groups, not cases.
    if (/^(=+|-+)\s*$/.test(line) && i > 0 && lines[i - 1].trim() !== '') {
      heading = lines[i - 1].trim();
      headingLine = i;
      continue;
    }
    const m = /^<!--\s*meta=(.*)\s*-->\s*$/.exec(line);
    if (m) {
      meta = JSON.parse(m[1]) as Record<string, unknown>;
      continue;
    }
    const fence = /^```(\w+)\s*$/.exec(line);
    if (!fence) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) body.push(lines[j++]);
    i = j;
    if (fence[1] === 'http') {
      input = decodeHttpBlock(body);
    } else if (fence[1] === 'log' && input && meta) {
      cases.push({
        name: `${heading} (${base}.md:${headingLine})`,
        file: base,
        line: headingLine,
        meta,
        input,
        log: body.filter((l) => l.trim() !== ''),
      });
      input = null;
    }
  }
  return cases;
}

export function readFixtures(dir: string): LlhttpCase[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .flatMap((f) => readFixtureFile(dir, f));
}

// Rebuilds what llhttp saw from its callback log: messages with their fields, split spans
// concatenated, and how parsing ended.
export function readLog(log: string[]): ExpectedOutcome {
  const messages: ExpectedMessage[] = [];
  let cur: ExpectedMessage | null = null;
  let field: Buffer[] = [];
  let value: Buffer[] = [];
  let inValue = false;
  const out: ExpectedOutcome = { messages, end: 'ok' };
  const flushHeader = (): void => {
    if (!cur || (field.length === 0 && value.length === 0)) return;
    cur.headers.push([Buffer.concat(field).toString('latin1'), Buffer.concat(value).toString('latin1')]);
    field = [];
    value = [];
    inValue = false;
  };
  for (const line of log) {
    const rest = line.replace(/^off=\d+\s+/, '');
    if (rest === 'message begin') {
      cur = { method: '', url: '', headers: [], body: Buffer.alloc(0), headersComplete: false, complete: false };
      messages.push(cur);
      continue;
    }
    const span = /^len=\d+ span\[(\w+)\]=(".*")$/.exec(rest);
    if (span && cur) {
      const bytes = decodeSpanValue(span[2]);
      switch (span[1]) {
        case 'method':
          cur.method += bytes.toString('latin1');
          break;
        case 'url':
          cur.url += bytes.toString('latin1');
          break;
        case 'header_field':
          if (cur.headersComplete) break; // a trailer field: decoded and discarded by us
          if (inValue) flushHeader();
          field.push(bytes);
          break;
        case 'header_value':
          if (cur.headersComplete) break;
          inValue = true;
          value.push(bytes);
          break;
        case 'body':
          cur.body = Buffer.concat([cur.body, bytes]);
          break;
        default:
          break; // protocol, version, chunk extensions: not compared
      }
      continue;
    }
    if (rest === 'header_value complete') {
      if (cur && !cur.headersComplete) flushHeader();
      continue;
    }
    if (rest.startsWith('headers complete') && cur) {
      flushHeader();
      cur.headersComplete = true;
      continue;
    }
    if (rest === 'message complete' && cur) {
      cur.complete = true;
      continue;
    }
    const err = /^error code=(\d+) reason="(.*)"$/.exec(rest);
    if (err) {
      const code = Number(err[1]);
      out.errorCode = code;
      out.errorReason = err[2];
      const pause = code === HPE_PAUSED_UPGRADE || code === HPE_PAUSED_H2_UPGRADE;
      out.end = pause || code === HPE_CLOSED_CONNECTION ? 'stopped' : 'error';
    }
  }
  return out;
}
