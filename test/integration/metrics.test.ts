// Prometheus metrics end to end: the real CLI with a master and two workers, requests sent
// to its HTTP socket, and the exposition read from --metrics and from --stats-http. Counts
// are compared exactly once the scoreboard has caught up (polled, never timed), and every
// scrape is checked with `promtool check metrics` (Debian's prometheus package; .ci/run
// installs it). The --metrics listener is also fed garbage, a huge request line and a
// client that never finishes its head, and must keep serving.

import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { STATS_HTTP_HEAD } from '../../src/stats';
import { fcgiPairs, fcgiRequest } from './helpers/cgi';
import { getOnNewConnection, portOf, sleep, tempDir } from './helpers/exchange';
import { APPS, listenerPort, rawExchange, startTsgi, type TsgiHandle, uwsgiPacket } from './helpers/tsgi';

const APP = path.join(APPS, 'metrics-status.js');

interface Scrape {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** name{labels} → value */
  samples: Map<string, number>;
}

function parseSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

function scrape(target: { port: number } | { socketPath: string }, p = '/metrics', method = 'GET'): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const where = 'port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.socketPath };
    const req = http.request({ ...where, path: p, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, samples: parseSamples(body) }),
      );
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error('scrape timed out')));
    req.end();
  });
}

/** Sum of a family's samples whose labels contain `match` (e.g. 'code="404"'). */
function total(s: Map<string, number>, name: string, match = ''): number {
  let n = 0;
  for (const [k, v] of s) if ((k === name || k.startsWith(`${name}{`)) && k.includes(match)) n += v;
  return n;
}

/** Scrapes until `done` holds (the workers count a request as it ends), within 60 s. */
async function scrapeUntil(port: number, done: (s: Map<string, number>) => boolean): Promise<Scrape> {
  const deadline = Date.now() + 60000;
  for (;;) {
    const s = await scrape({ port });
    if (done(s.samples)) return s;
    if (Date.now() > deadline) throw new Error(`metrics never reached the expected state:\n${s.body}`);
    await sleep(50);
  }
}

function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}

/** Sends `n` requests on new connections to `p`; resolves with their statuses. */
async function send(port: number, p: string, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await getOnNewConnection(port, p)).status);
  return statuses;
}

describe('metrics of a master with two workers', () => {
  let tsgi: TsgiHandle;
  let httpPort: number;
  let metricsPort: number;
  let statsPort: number;

  before(async () => {
    tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--master',
      '--processes',
      '2',
      '--disable-logging',
      '--stats',
      '127.0.0.1:0',
      '--stats-http',
      '--metrics',
      '127.0.0.1:0',
    ]);
    httpPort = tsgi.ports[0]!;
    metricsPort = await listenerPort(tsgi, 'Metrics');
    statsPort = await listenerPort(tsgi, 'Stats');
    await tsgi.waitFor(/(ready in[\s\S]*){2}/); // both workers (the master never loads the app)
  });
  after(async () => {
    await tsgi?.stop();
  });

  test('after N requests the counters say exactly N, the 404s under code 404, and the histogram counts them all', async () => {
    assert.deepEqual(await send(httpPort, '/ok', 7), [200, 200, 200, 200, 200, 200, 200]);
    assert.deepEqual(await send(httpPort, '/missing', 3), [404, 404, 404]);
    assert.deepEqual(await send(httpPort, '/teapot', 2), [418, 418]);
    const s = (await scrapeUntil(metricsPort, (m) => total(m, 'tsgi_requests_total') >= 12)).samples;
    assert.equal(total(s, 'tsgi_requests_total'), 12);
    assert.equal(total(s, 'tsgi_responses_total', 'code="200"'), 7);
    assert.equal(total(s, 'tsgi_responses_total', 'code="404"'), 3);
    assert.equal(total(s, 'tsgi_responses_total', 'code="418"'), 2);
    assert.equal(total(s, 'tsgi_responses_total'), 12);
    assert.equal(total(s, 'tsgi_request_duration_seconds_count'), 12);
    assert.equal(total(s, 'tsgi_request_duration_seconds_bucket', 'le="+Inf"'), 12);
    assert.ok(total(s, 'tsgi_request_duration_seconds_sum') > 0);
    assert.ok(total(s, 'tsgi_received_bytes_total') > 12 * 'GET /ok HTTP/1.1\r\n\r\n'.length);
    assert.ok(total(s, 'tsgi_sent_bytes_total') > 12 * 'HTTP/1.1 200 OK\r\n\r\n'.length);
    assert.equal(s.get('tsgi_workers_configured'), 2);
    assert.equal(s.get('tsgi_workers_running'), 2);
    assert.equal(s.get('tsgi_reloads_total'), 0);
    assert.equal(s.get(`tsgi_listen_queue_max_length{socket="127.0.0.1:${httpPort}"}`)! > 0, true);
    assert.equal(total(s, 'tsgi_worker_cores', 'state="idle"'), 2);
  });

  test('the values move with more requests', async () => {
    const before = (await scrape({ port: metricsPort })).samples;
    await send(httpPort, '/missing', 4);
    const s = (
      await scrapeUntil(metricsPort, (m) => total(m, 'tsgi_requests_total') >= total(before, 'tsgi_requests_total') + 4)
    ).samples;
    assert.equal(total(s, 'tsgi_requests_total') - total(before, 'tsgi_requests_total'), 4);
    assert.equal(
      total(s, 'tsgi_responses_total', 'code="404"') - total(before, 'tsgi_responses_total', 'code="404"'),
      4,
    );
    assert.equal(
      total(s, 'tsgi_request_duration_seconds_count') - total(before, 'tsgi_request_duration_seconds_count'),
      4,
    );
    assert.ok(total(s, 'tsgi_received_bytes_total') > total(before, 'tsgi_received_bytes_total'));
  });

  test('--metrics and --stats-http both serve the exposition, and promtool accepts it', async () => {
    const viaMetrics = await scrape({ port: metricsPort });
    assert.equal(viaMetrics.status, 200);
    assert.equal(viaMetrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const viaStats = await scrape({ port: statsPort });
    assert.equal(viaStats.status, 200);
    assert.equal(viaStats.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(
      viaStats.samples.get('tsgi_requests_total{worker="1"}'),
      viaMetrics.samples.get('tsgi_requests_total{worker="1"}'),
    );
    for (const text of [viaMetrics.body, viaStats.body]) {
      const r = await promtool(text);
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output.trim(), '', 'no lint finding');
    }
  });

  test('any other request on --stats-http still gets the JSON document with uWSGI head', async () => {
    const r = await rawExchange({ port: statsPort }, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 60000 });
    const text = r.data.toString('utf8');
    assert.ok(text.startsWith(STATS_HTTP_HEAD), text.slice(0, 200));
    const doc = JSON.parse(text.slice(STATS_HTTP_HEAD.length)) as { workers: unknown[] };
    assert.equal(doc.workers.length, 2);
    const other = await rawExchange({ port: statsPort }, ['GET /metricsx HTTP/1.1\r\n\r\n'], { timeoutMs: 60000 });
    assert.ok(other.data.toString('utf8').startsWith(STATS_HTTP_HEAD));
  });

  test('--metrics answers 404 for other paths, 405 for other methods, HEAD without a body, and keeps the connection', async () => {
    assert.equal((await scrape({ port: metricsPort }, '/nope')).status, 404);
    const post = await scrape({ port: metricsPort }, '/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const head = await scrape({ port: metricsPort }, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const two = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const r = await rawExchange({ port: metricsPort }, [two], { timeoutMs: 60000 });
    assert.equal(r.closed, true);
    assert.equal(r.data.toString('utf8').match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 2, 'both answered on one connection');
  });

  test('a graceful reload counts in tsgi_reloads_total and each slot shows one respawn, the request counts kept', async () => {
    const before = (await scrape({ port: metricsPort })).samples;
    tsgi.proc.kill('SIGHUP');
    await tsgi.waitFor(/graceful reload of every worker/);
    const s = (
      await scrapeUntil(
        metricsPort,
        (m) =>
          m.get('tsgi_worker_respawns_total{worker="1"}') === 1 &&
          m.get('tsgi_worker_respawns_total{worker="2"}') === 1,
      )
    ).samples;
    assert.equal(s.get('tsgi_reloads_total'), 1);
    assert.equal(total(s, 'tsgi_requests_total'), total(before, 'tsgi_requests_total'));
    const r = await promtool((await scrape({ port: metricsPort })).body);
    assert.equal(r.code, 0, r.output);
  });
});

describe('the --metrics listener on a UNIX socket under bad clients', () => {
  let tsgi: TsgiHandle;
  const tmp = tempDir('tsgi-metrics-');
  const sock = path.join(tmp.dir, 'metrics.sock');

  before(async () => {
    tsgi = await startTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--master',
      '--processes',
      '2',
      '--disable-logging',
      '--socket-timeout',
      '2',
      '--metrics',
      sock,
    ]);
    await tsgi.waitFor(/Metrics server enabled on /);
  });
  after(async () => {
    await tsgi?.stop();
    tmp.remove();
  });

  test('garbage gets 400 and a close', async () => {
    const r = await rawExchange(
      { path: sock },
      [Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 'latin1')],
      {
        timeoutMs: 60000,
      },
    );
    assert.equal(r.closed, true);
    assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  test('a request line longer than the head limit gets 431 and a close', async () => {
    const r = await rawExchange({ path: sock }, [`GET /${'a'.repeat(20000)} HTTP/1.1\r\n\r\n`], { timeoutMs: 60000 });
    assert.equal(r.closed, true);
    assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 431 /);
  });

  test('a client that never finishes its head is closed by --socket-timeout, one that drips bytes too', async () => {
    const idle = await rawExchange({ path: sock }, ['GET /metr'], { timeoutMs: 60000 });
    assert.equal(idle.closed, true);
    assert.equal(idle.data.length, 0, 'nothing is answered to half a request line');
    // One byte every 300 ms never lets the socket go idle; the head deadline still closes it.
    const drip = ['GET /metrics HTTP/1.1\r\n', ...'X-Slow: '.padEnd(200, 'x').split('')];
    const slow = await rawExchange({ path: sock }, drip, { timeoutMs: 60000, gapMs: 300 });
    assert.equal(slow.closed, true);
    assert.equal(slow.data.length, 0);
  });

  test('a hundred pipelined scrapes are all answered on one connection, the answers held back while the client does not read', async () => {
    const one = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
    const last = 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const data = await new Promise<string>((resolve, reject) => {
      const c = net.connect(sock);
      let got = '';
      c.on('data', (d: Buffer) => (got += d.toString('latin1')));
      c.on('close', () => resolve(got));
      c.on('error', reject);
      // Not reading for a while lets far more than the listener's 64 KiB of answers pile up.
      c.pause();
      c.write(one.repeat(99) + last);
      setTimeout(() => c.resume(), 500);
    });
    assert.equal(data.match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 100);
    assert.equal(data.match(/^# TYPE tsgi_build_info gauge$/gm)?.length, 100, 'every body whole');
  });

  test('after all that it still serves the exposition', async () => {
    const s = await scrape({ socketPath: sock });
    assert.equal(s.status, 200);
    assert.equal(s.samples.get('tsgi_workers_configured'), 2);
    const r = await promtool(s.body);
    assert.equal(r.code, 0, r.output);
  });
});

describe('received bytes over the gateway protocols', () => {
  let tsgi: TsgiHandle;
  let metricsPort: number;

  before(async () => {
    tsgi = await startTsgi([
      '--socket',
      '127.0.0.1:0',
      '--scgi-socket',
      '127.0.0.1:0',
      '--fastcgi-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      APP,
      '--master',
      '--processes',
      '2',
      '--disable-logging',
      '--metrics',
      '127.0.0.1:0',
    ]);
    metricsPort = await listenerPort(tsgi, 'Metrics');
  });
  after(async () => {
    await tsgi?.stop();
  });

  test('a uwsgi packet, an SCGI request and a FastCGI request count what docs/stats.md says, and their status', async () => {
    const cgi = (p: string): Array<[string, string]> => [
      ['REQUEST_METHOD', 'POST'],
      ['REQUEST_URI', p],
      ['PATH_INFO', p],
      ['QUERY_STRING', ''],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['SERVER_NAME', 'x'],
      ['SERVER_PORT', '80'],
    ];
    const packet = uwsgiPacket([['CONTENT_LENGTH', '5'], ...cgi('/missing')], 'hello');
    const u = await rawExchange({ port: portOf(tsgi.output(), 'uwsgi') }, [packet], { timeoutMs: 60000 });
    assert.match(u.data.toString('latin1'), /^HTTP\/1\.1 404 /);
    const block = [['CONTENT_LENGTH', '3'], ['SCGI', '1'], ...cgi('/teapot')].map(([k, v]) => `${k}\0${v}\0`).join('');
    const scgi = Buffer.from(`${block.length}:${block},abc`, 'latin1');
    const r = await rawExchange({ port: portOf(tsgi.output(), 'scgi') }, [scgi], { timeoutMs: 60000 });
    assert.match(r.data.toString('latin1'), /^Status: 418 /);
    // FastCGI: the FCGI_PARAMS content and the FCGI_STDIN content, without record framing.
    const params: Array<[string, string]> = [['CONTENT_LENGTH', '4'], ...cgi('/missing')];
    const f = await rawExchange({ port: portOf(tsgi.output(), 'fastcgi') }, [fcgiRequest(params, 'four')], {
      timeoutMs: 60000,
    });
    assert.match(f.data.toString('latin1'), /Status: 404 /);
    const s = (await scrapeUntil(metricsPort, (m) => total(m, 'tsgi_requests_total') >= 3)).samples;
    assert.equal(total(s, 'tsgi_requests_total'), 3);
    assert.equal(
      total(s, 'tsgi_received_bytes_total'),
      packet.length + scgi.length + fcgiPairs(params).length + 'four'.length,
    );
    assert.equal(total(s, 'tsgi_responses_total', 'code="404"'), 2);
    assert.equal(total(s, 'tsgi_responses_total', 'code="418"'), 1);
  });
});
