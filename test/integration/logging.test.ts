// The log: uWSGI's default request line (`uwsgi_logit_simple` in uWSGI's `core/logging.c`), field
// by field; --disable-logging, --logto FILE, --log-micros (docs/config.md, "Logging"); app errors
// and tsgi.errors in the log.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  getVars,
  httpRequest,
  PROBE,
  portOf,
  rawRequest,
  sleep,
  tempDir,
  uwsgiRequest,
  waitForText,
} from './helpers/exchange';
import { CLI, ROOT, runTsgi, startTsgi, type TsgiHandle } from './helpers/tsgi';

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const CTIME = `${DAY} ${MONTH} [ 1-3]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}`;

/** uWSGI's default request line, every field captured. */
function requestLineRe(pid: number, method: string, uri: string, unit = 'msecs'): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(
    `^\\[pid: ${pid}\\|app: 0\\|req: (\\d+)/(\\d+)\\] 127\\.0\\.0\\.1 \\(\\) \\{(\\d+) vars in (\\d+) bytes\\} \\[(${CTIME})\\] ` +
      `${esc(method)} ${esc(uri)} => generated (\\d+) bytes in (\\d+) ${unit} \\((HTTP/1\\.[01]) (\\d{3})\\) (\\d+) headers in (\\d+) bytes ` +
      `\\(1 switches on core 0\\)$`,
    'm',
  );
}

describe('the default request line', () => {
  let t: TsgiHandle;
  before(async () => {
    t = await startTsgi(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--wsgi-file', PROBE]);
  });
  after(async () => {
    await t.stop();
  });

  test("matches uWSGI's format exactly, every field", async () => {
    const mark = t.output().length;
    const startedAt = Date.now();
    const r = await rawRequest({ port: portOf(t.output(), 'http') }, [httpRequest('GET', '/path?q')]);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello GET /path');
    const re = requestLineRe(t.proc.pid!, 'GET', '/path?q');
    await waitForText(() => t.output().slice(mark), re);
    const m = re.exec(t.output().slice(mark))!;
    const [, reqWorker, reqTotal, vars, pktsize, when, bytes, msecs, proto, status, nheaders, hbytes] = m;
    assert.equal(reqWorker, reqTotal);
    assert.equal(Number(reqWorker) >= 1, true);
    assert.equal(Number(vars) % 2, 0, 'vars are counted as uWSGI counts iovecs: two per var');
    assert.ok(Number(vars) >= 2 * 10, `nginx-equivalent vars expected, got ${vars}`);
    assert.ok(Number(pktsize) > 0);
    const logged = new Date(when!.replace(/ +/g, ' ')).getTime();
    assert.ok(Math.abs(logged - startedAt) < 5000, `log time ${when} is not now`);
    assert.equal(Number(bytes), Buffer.byteLength('hello GET /path'));
    assert.ok(Number(msecs) < 5000);
    assert.equal(proto, 'HTTP/1.1');
    assert.equal(status, '200');
    const head = r.data.toString('latin1').slice(0, r.data.toString('latin1').indexOf('\r\n\r\n') + 4);
    const headerLines = head.split('\r\n').slice(1, -2);
    assert.equal(Number(nheaders), headerLines.length, `headers counted: ${JSON.stringify(headerLines)}`);
    assert.equal(Number(hbytes), Buffer.byteLength(head), 'header bytes = the whole response head as sent');
  });

  test('req counts go up by one per request', async () => {
    const mark = t.output().length;
    const port = portOf(t.output(), 'http');
    await rawRequest({ port }, [httpRequest('GET', '/one')]);
    await rawRequest({ port }, [httpRequest('GET', '/two')]);
    const re1 = requestLineRe(t.proc.pid!, 'GET', '/one');
    const re2 = requestLineRe(t.proc.pid!, 'GET', '/two');
    await waitForText(() => t.output().slice(mark), re2);
    const n1 = Number(re1.exec(t.output().slice(mark))![1]);
    const n2 = Number(re2.exec(t.output().slice(mark))![1]);
    assert.equal(n2, n1 + 1);
  });

  test('a uwsgi request logs its var count, packet size and SERVER_PROTOCOL', async () => {
    const mark = t.output().length;
    const vars = getVars('/via-uwsgi?x=1', [['QUERY_STRING', 'x=1']]);
    vars[2] = ['PATH_INFO', '/via-uwsgi'];
    const r = await uwsgiRequest({ port: portOf(t.output(), 'uwsgi') }, vars);
    assert.equal(r.status, 200);
    const re = requestLineRe(t.proc.pid!, 'GET', '/via-uwsgi?x=1');
    await waitForText(() => t.output().slice(mark), re);
    const m = re.exec(t.output().slice(mark))!;
    const block = vars.reduce((n, [k, v]) => n + 4 + k.length + v.length, 0);
    assert.equal(m[3], String(vars.length * 2));
    assert.equal(m[4], String(block));
    assert.equal(m[6], String(Buffer.byteLength('hello GET /via-uwsgi')));
    assert.equal(m[8], 'HTTP/1.1');
    assert.equal(m[9], '200');
  });

  test('a 500 is logged with status 500', async () => {
    const mark = t.output().length;
    await rawRequest({ port: portOf(t.output(), 'http') }, [httpRequest('GET', '/throw')]);
    const re = requestLineRe(t.proc.pid!, 'GET', '/throw');
    await waitForText(() => t.output().slice(mark), re);
    assert.equal(re.exec(t.output().slice(mark))![9], '500');
  });

  test("an app error's stack goes to the log", async () => {
    const mark = t.output().length;
    await rawRequest({ port: portOf(t.output(), 'http') }, [httpRequest('GET', '/throw')]);
    const text = await waitForText(
      () => t.output().slice(mark),
      /^tsgi: GET \/throw: app error before the response started; answered 500\nError: probe: thrown before the response\n {4}at .*probe\.mjs.*$/m,
    );
    assert.ok(text.length > 0);
  });

  test('tsgi.errors.write() goes to the log, one line per line', async () => {
    const mark = t.output().length;
    const r = await rawRequest({ port: portOf(t.output(), 'http') }, [httpRequest('GET', '/errors')]);
    assert.equal(r.body, 'logged');
    await waitForText(() => t.output().slice(mark), /^probe: first error line\nprobe: second error line\n/m);
  });
});

test('--disable-logging prints no request lines, but still logs app errors', async () => {
  const t = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--disable-logging']);
  try {
    const port = t.ports[0]!;
    for (const p of ['/a', '/b', '/errors', '/throw']) await rawRequest({ port }, [httpRequest('GET', p)]);
    await waitForText(() => t.output(), /app error before the response started/);
    await sleep(100);
    assert.doesNotMatch(t.output(), /^\[pid: /m);
    assert.match(t.output(), /^probe: first error line$/m);
  } finally {
    await t.stop();
  }
});

describe("uWSGI's conditional request logging with --disable-logging", () => {
  /** Sends the requests in order, then `marker`, which is logged, and returns the log after it. */
  async function logOf(args: string[], paths: string[], marker: string): Promise<string> {
    const t = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--disable-logging', ...args]);
    try {
      const port = t.ports[0]!;
      for (const p of [...paths, marker]) await rawRequest({ port }, [httpRequest('GET', p)]);
      // One process, one thread: lines come in request order, so once the marker's is there,
      // every earlier request that was going to be logged is too.
      await waitForText(() => t.output(), new RegExp(`GET ${marker.replace('?', '\\?')} =>`));
      return t.output();
    } finally {
      await t.stop();
    }
  }
  const logged = (out: string, p: string): boolean => out.includes(`GET ${p} =>`);

  test('--log-4xx and --log-big log only 4xx answers and big bodies', async () => {
    const out = await logOf(
      ['--log-4xx', '--log-big', '5000'],
      ['/a', '/status?404', '/status?503', '/big?n=6000', '/big?n=100'],
      '/status?400',
    );
    assert.deepEqual(
      ['/a', '/status?404', '/status?503', '/big?n=6000', '/big?n=100'].map((p) => logged(out, p)),
      [false, true, false, true, false],
    );
  });

  test('--log-5xx, --log-slow and --log-zero log 5xx answers, slow requests and empty bodies', async () => {
    const out = await logOf(
      ['--log-5xx', '--log-slow', '300', '--log-zero'],
      ['/a', '/status?503', '/throw', '/slow?400', '/status?204', '/status?404'],
      '/status?500',
    );
    assert.deepEqual(
      ['/a', '/status?503', '/throw', '/slow?400', '/status?204', '/status?404'].map((p) => logged(out, p)),
      [false, true, true, true, true, false],
    );
  });
});

test("--log-format writes uWSGI's %(name) variables, request headers included", async () => {
  const format =
    '%(addr) - %(user) "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)" id=%(var.HTTP_X_ID) wid=%(wid) pid=%(pid) rsize=%(rsize) cl=%(cl)';
  const t = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--logformat', format]);
  try {
    await rawRequest({ port: t.ports[0]! }, [
      httpRequest(
        'POST',
        '/fmt?q=1',
        [
          ['User-Agent', 'probe/1'],
          ['Referer', 'http://r/'],
          ['X-Id', '42'],
        ],
        'abc',
      ),
    ]);
    const line = await waitForText(() => t.output(), /^127\.0\.0\.1 - .*$/m);
    assert.equal(
      line,
      `127.0.0.1 -  "POST /fmt?q=1 HTTP/1.1" 200 15 "http://r/" "probe/1" id=42 wid=1 pid=${t.proc.pid} rsize=3 cl=3`,
    );
    assert.doesNotMatch(t.output(), /^\[pid: /m);
  } finally {
    await t.stop();
  }
});

test('--log-format with an unknown variable stops the start with one line', async () => {
  const r = await runTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--log-format', '%(method) %(bogus)']);
  assert.equal(r.code, 1);
  assert.match(r.output, /^tsgi: --log-format: unknown variable %\(bogus\) \(known: /);
});

test('--log-micros reports request times in micros', async () => {
  const t = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--log-micros']);
  try {
    await rawRequest({ port: t.ports[0]! }, [httpRequest('GET', '/micro')]);
    await waitForText(() => t.output(), requestLineRe(t.proc.pid!, 'GET', '/micro', 'micros'));
    assert.doesNotMatch(t.output(), / msecs /);
  } finally {
    await t.stop();
  }
});

test('--logto FILE puts the startup lines and the request lines in FILE', async () => {
  const tmp = tempDir();
  const logFile = path.join(tmp.dir, 'tsgi.log');
  const proc = spawn(
    process.execPath,
    [CLI, '--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--logto', logFile],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let console = '';
  proc.stdout.on('data', (d: Buffer) => (console += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (console += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const read = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'latin1') : '');
  try {
    await waitForText(read, /^spawned tsgi worker 1 /m, 10000);
    const text = read();
    assert.match(text, /^\*\*\* Starting tsgi /m);
    assert.match(text, /^tsgi app 0 \(mountpoint=''\) ready/m);
    const port = portOf(text, 'http');
    await rawRequest({ port }, [httpRequest('GET', '/to-file')]);
    await rawRequest({ port }, [httpRequest('GET', '/errors')]);
    await waitForText(read, requestLineRe(proc.pid!, 'GET', '/to-file'));
    await waitForText(read, /^probe: first error line$/m);
    assert.equal(console, '', 'nothing goes to stdout/stderr');
  } finally {
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.kill('SIGTERM');
    await exited;
    clearTimeout(t);
    tmp.remove();
  }
});

test('--logto appends to an existing file', async () => {
  const tmp = tempDir();
  const logFile = path.join(tmp.dir, 'tsgi.log');
  fs.writeFileSync(logFile, 'earlier line\n');
  const proc = spawn(
    process.execPath,
    [CLI, '--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--logto', logFile],
    { cwd: ROOT, stdio: 'ignore' },
  );
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  try {
    await waitForText(() => fs.readFileSync(logFile, 'latin1'), /^spawned tsgi worker 1 /m, 10000);
    assert.match(fs.readFileSync(logFile, 'latin1'), /^earlier line\n\*\*\* Starting tsgi /);
  } finally {
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.kill('SIGTERM');
    await exited;
    clearTimeout(t);
    tmp.remove();
  }
});
