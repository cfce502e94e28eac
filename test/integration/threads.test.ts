// --threads T (docs/threads.md, "How a request is served"): T app threads in one
// process, each with its own native accept loop on the shared listening fds, supervised by
// Piscina (src/process/threads.ts). Checked through the real CLI, and through startThreads()
// in this process for what the CLI cannot reach (terminate(), resourceLimits, back-off).
//
// Timing facts are asserted as orderings with generous bounds (these machines are noisy):
// "finished before two sleeps could have run one after the other", never tight latencies.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Config, isConfig, loadConfig } from '../../src/config';
import { isTsgiError } from '../../src/errors';
import { type BoundSocket, bindAll, closeAll } from '../../src/process/sockets';
import { startThreads, type ThreadExitInfo, type ThreadGroup, type ThreadReadyInfo } from '../../src/process/threads';
import { httpRequest, type OneResponse, rawRequest, sleep, tempDir, waitForText } from './helpers/exchange';
import { APPS, rawExchange, runTsgi, startTsgi, type TsgiHandle } from './helpers/tsgi';

const PROBE = path.join(APPS, 'threads-probe.mjs');
const SLEEP_MS = 200;
const STAGGER_MS = 15;

async function get(port: number, p: string, timeoutMs = 5000): Promise<OneResponse> {
  return rawRequest({ port }, [httpRequest('GET', p)], { timeoutMs });
}

/**
 * Sends n requests, the i-th `staggerMs * i` after the first; resolves with each response
 * and its time since the first was sent.
 *
 * Why the stagger: a thread's accept loop takes every connection waiting in the backlog
 * in one pass (up to 64), even when its app slots are already full; connections arriving
 * within the same microseconds can therefore queue behind a busy thread while another is
 * idle. A few ms between arrivals let the first thread take its slot and stop accepting.
 */
async function concurrently(
  port: number,
  p: string,
  n: number,
  staggerMs = 0,
): Promise<{ total: number; each: Array<{ ms: number; r: OneResponse }> }> {
  const t0 = performance.now();
  const each = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      if (staggerMs > 0 && i > 0) await sleep(staggerMs * i);
      const r = await get(port, p);
      return { ms: performance.now() - t0, r };
    }),
  );
  return { total: performance.now() - t0, each };
}

const coreOf = (body: string): number => Number(/^core (\d+)/.exec(body)?.[1] ?? NaN);

async function withTsgi(
  args: string[],
  fn: (t: TsgiHandle) => Promise<void>,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  const t = await startTsgi(args, { env });
  try {
    await fn(t);
  } finally {
    await t.stop();
  }
}

/** Requests /core (with `parallel` at once, each on a core held by /sleep) until `core` answers. */
async function waitForCore(port: number, core: number, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<number>();
  while (Date.now() < deadline) {
    const { each } = await concurrently(port, '/sleep?ms=50', 4, 5);
    for (const { r } of each) if (r.status === 200) seen.add(coreOf(r.body));
    if (seen.has(core)) return;
  }
  throw new Error(`core ${core} never answered; seen: ${[...seen].join(', ')}`);
}

describe('--threads through the CLI', () => {
  test('command 4: --threads 3 serves, and concurrent requests are spread over the cores', async () => {
    await withTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '3'], async (t) => {
      assert.match(
        t.output(),
        new RegExp(`^spawned tsgi worker 1 \\(and the only\\) \\(pid: ${t.proc.pid}, cores: 3, threads: 3\\)$`, 'm'),
      );
      assert.match(
        t.output(),
        /^tsgi app 0 \(mountpoint=''\) ready in \d+ seconds .*\(default app, loaded in each of 3 threads\)$/m,
      );
      const one = await get(t.ports[0]!, '/core');
      assert.equal(one.status, 200);
      assert.match(one.body, /^core [012] worker 1 multithread true$/);
      const cores = new Set<number>();
      for (let round = 0; round < 3; round++) {
        const { each } = await concurrently(t.ports[0]!, '/sleep?ms=100', 3, STAGGER_MS);
        for (const { r } of each) {
          assert.equal(r.status, 200, r.body);
          cores.add(coreOf(r.body));
        }
      }
      assert.ok(cores.size > 1, `requests were served by cores ${[...cores].join(', ')} only`);
      for (const c of cores) assert.ok(c >= 0 && c < 3, `core id ${c}`);
    });
  });

  test('--threads 2: two concurrent sleeping requests run at once, a third waits for a free thread', async () => {
    await withTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '2'], async (t) => {
      const two = await concurrently(t.ports[0]!, `/sleep?ms=${SLEEP_MS}`, 2, STAGGER_MS);
      for (const { r } of two.each) assert.equal(r.status, 200);
      assert.ok(
        two.total < 2 * SLEEP_MS,
        `2 requests on 2 threads took ${two.total.toFixed(0)} ms (serialised would be >= ${2 * SLEEP_MS})`,
      );
      assert.deepEqual(new Set(two.each.map(({ r }) => coreOf(r.body))), new Set([0, 1]));

      const three = await concurrently(t.ports[0]!, `/sleep?ms=${SLEEP_MS}`, 3, STAGGER_MS);
      for (const { r } of three.each) assert.equal(r.status, 200);
      const times = three.each.map((e) => e.ms).sort((a, b) => a - b);
      assert.ok(times[0]! < 2 * SLEEP_MS, `the first answer took ${times[0]!.toFixed(0)} ms`);
      assert.ok(
        times[2]! >= 2 * SLEEP_MS - 5,
        `the third request did not wait for a thread: ${times.map((x) => x.toFixed(0)).join(', ')} ms`,
      );
    });
  });

  test('--async 10 --threads 1: ten concurrent sleeping requests run at once on one thread', async () => {
    await withTsgi(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '1', '--async', '10'],
      async (t) => {
        const ten = await concurrently(t.ports[0]!, `/sleep?ms=${SLEEP_MS}`, 10);
        for (const { r } of ten.each) assert.equal(r.body, `core 0 slept ${SLEEP_MS}`);
        assert.ok(ten.total < 2 * SLEEP_MS, `10 requests took ${ten.total.toFixed(0)} ms`);
      },
    );
  });

  test('--threads 1 without --async serialises two sleeping requests (the contrast to the above)', async () => {
    await withTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '1'], async (t) => {
      const two = await concurrently(t.ports[0]!, `/sleep?ms=${SLEEP_MS}`, 2);
      for (const { r } of two.each) assert.equal(r.status, 200);
      assert.ok(two.total >= 2 * SLEEP_MS - 5, `2 requests on 1 core took only ${two.total.toFixed(0)} ms`);
    });
  });

  test('--async 3 --threads 2: six concurrent sleeping requests run at once, on both threads', async () => {
    await withTsgi(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '2', '--async', '3'],
      async (t) => {
        assert.match(t.output(), /cores: 6, threads: 2\)/);
        const six = await concurrently(t.ports[0]!, `/sleep?ms=${SLEEP_MS}`, 6, STAGGER_MS);
        for (const { r } of six.each) assert.equal(r.status, 200);
        assert.ok(six.total < 2 * SLEEP_MS, `6 requests took ${six.total.toFixed(0)} ms`);
        const perCore = [0, 0];
        for (const { r } of six.each) perCore[coreOf(r.body)]!++;
        assert.deepEqual(perCore, [3, 3], 'each thread holds at most --async 3 requests');
      },
    );
  });

  test('a thread killed by an uncaught exception from a timer is replaced; requests on the other threads never fail', async () => {
    await withTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '3'], async (t) => {
      const port = t.ports[0]!;
      // The doomed request holds its thread's only app slot, so that thread accepts nothing
      // else: every other request lands on the two healthy threads.
      const doomed = get(port, '/crash-later?ms=400');
      await sleep(50);
      let ok = 0;
      const failures: string[] = [];
      const deadline = Date.now() + 1500;
      await Promise.all(
        [0, 1].map(async () => {
          while (Date.now() < deadline) {
            const r = await get(port, '/core');
            if (r.status === 200) ok++;
            else failures.push(`status ${r.status} closed=${r.closed} ${r.data.toString('latin1').slice(0, 80)}`);
          }
        }),
      );
      const d = await doomed;
      assert.equal(d.status, 0, 'the request on the dying thread got no response');
      assert.ok(d.closed, 'its connection was closed when the thread died');
      assert.deepEqual(failures, [], `${failures.length} failed requests among ${ok + failures.length}`);
      assert.ok(ok > 10, `only ${ok} requests served during the crash`);
      const line = await t.waitFor(
        /^tsgi: thread (\d) of worker 1 died: uncaught Error: threads-probe: boom from a timer on core (\d); replacing it$/m,
      );
      const [, dead, inApp] = /thread (\d) .* on core (\d)/.exec(line)!;
      assert.equal(dead, inApp, 'the log names the core the app ran on');
      await t.waitFor(
        new RegExp(`^tsgi: thread ${dead} of worker 1 serves again \\(thread id \\d+, app loaded in \\d+ ms\\)$`, 'm'),
      );
      await waitForCore(port, Number(dead));
      assert.equal(t.proc.exitCode, null, 'the process is still running');
    });
  });

  test('a thread dying while it owns connections with requests in flight does not take the process down', async () => {
    await withTsgi(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '2', '--async', '5'],
      async (t) => {
        const port = t.ports[0]!;
        // Sleeping requests on both threads (at most 5 each), one of which throws from a timer 150 ms later.
        const sleepers = Array.from({ length: 8 }, () => get(port, '/sleep?ms=600'));
        await sleep(50);
        const crash = await get(port, '/crash-soon?ms=150');
        assert.equal(crash.status, 200);
        const crashed = coreOf(crash.body);
        const results = await Promise.all(sleepers);
        await t.waitFor(
          new RegExp(
            `^tsgi: thread ${crashed} of worker 1 died: uncaught Error: threads-probe: boom from a timer on core ${crashed}; replacing it$`,
            'm',
          ),
        );
        // Requests the surviving thread held finish normally; those of the dead one are cut.
        for (const r of results) {
          if (r.status === 200)
            assert.notEqual(coreOf(r.body), crashed, 'a request on the dead thread cannot have finished');
          else assert.ok(r.closed && r.status === 0, 'a cut request sees its connection closed');
        }
        assert.ok(
          results.some((r) => r.status === 200),
          'the surviving thread finished its requests',
        );
        await t.waitFor(new RegExp(`^tsgi: thread ${crashed} of worker 1 serves again`, 'm'));
        await waitForCore(port, crashed);
        assert.equal(t.proc.exitCode, null);
        assert.doesNotMatch(t.output(), /Assertion|Aborted|FATAL|core dumped/);
      },
    );
  });

  test('a thread that exits (process.exit in app code) in the middle of a response does not abort the process', async () => {
    await withTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '2'], async (t) => {
      const port = t.ports[0]!;
      // rawExchange, not rawRequest: the response parser of the helpers expects a complete
      // chunked body, and this one is cut on purpose.
      const r = await rawExchange({ port }, [httpRequest('GET', '/exit-mid-response')], { timeoutMs: 5000 });
      assert.ok(r.closed);
      const text = r.data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      const core = coreOf(/\r\n\r\n(?:[0-9a-f]+\r\n)?(core \d+)/.exec(text)?.[1] ?? '');
      assert.ok(core === 0 || core === 1, `first piece came from core ${core}: ${JSON.stringify(text)}`);
      assert.doesNotMatch(text, /\r\n0\r\n\r\n$/, 'the chunked body was cut, not finished');
      await t.waitFor(
        new RegExp(
          `^tsgi: thread ${core} of worker 1 died: the thread exited with code 3 \\(process\\.exit\\(\\) in app code, or terminated\\); replacing it$`,
          'm',
        ),
      );
      await t.waitFor(new RegExp(`^tsgi: thread ${core} of worker 1 serves again`, 'm'));
      await waitForCore(port, core);
      assert.equal(t.proc.exitCode, null);
    });
  });

  test('SIGTERM with threads lets an in-flight request finish, then exits 0', async () => {
    const t = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '2']);
    try {
      const inFlight = get(t.ports[0]!, '/sleep?ms=600');
      await sleep(150);
      const code = t.stop('SIGTERM');
      const r = await inFlight;
      assert.equal(r.status, 200);
      assert.match(r.body, /^core [01] slept 600$/);
      assert.equal(await code, 0);
      assert.match(t.output(), /^tsgi: SIGTERM received, finishing in-flight requests then exiting$/m);
      assert.match(t.output(), /^tsgi: goodbye$/m);
      assert.doesNotMatch(t.output(), /died/);
    } finally {
      await t.stop('SIGKILL');
    }
  });

  test('an app that cannot load exits 22 with one line and the frames in the app file, as with one thread', async () => {
    const r = await runTsgi([
      '--http-socket',
      '127.0.0.1:0',
      '--wsgi-file',
      path.join(APPS, 'throws-on-load.mjs'),
      '--threads',
      '3',
    ]);
    assert.equal(r.code, 22, r.output);
    const lines = r.output
      .split('\n')
      .filter(
        (l) =>
          l.length > 0 &&
          !/^\*\*\* Starting tsgi /.test(l) &&
          !/^tsgi socket \d+ bound to /.test(l) &&
          !/^tsgi: \*\*\* WARNING: you are running tsgi as root/.test(l),
      );
    assert.match(lines[0]!, /^tsgi: loading .*throws-on-load\.mjs failed: Error: boom while loading$/);
    assert.deepEqual(lines.slice(1), ['    at file://' + path.join(APPS, 'throws-on-load.mjs') + ':1:7'], r.output);
  });

  test('a replacement thread that cannot load the app backs off, then serves once the app loads again', async () => {
    const tmp = tempDir();
    const marker = path.join(tmp.dir, 'fail-load');
    try {
      await withTsgi(
        ['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE, '--threads', '2'],
        async (t) => {
          const port = t.ports[0]!;
          await sleep(1100); // the crash below then comes after a stable life, not a fast failure
          fs.writeFileSync(marker, '');
          const crash = await get(port, '/crash-soon?ms=50');
          const core = coreOf(crash.body);
          const re = (ms: number): RegExp =>
            new RegExp(
              `^tsgi: thread ${core} of worker 1 died: the app could not be loaded: .*refusing to load \\(marker file present\\); replacing it in ${ms} ms$`,
              'm',
            );
          await t.waitFor(re(1000), 60000);
          await t.waitFor(re(2000), 60000);
          // Meanwhile the other thread serves.
          const other = await get(port, '/core');
          assert.equal(other.status, 200);
          assert.notEqual(coreOf(other.body), core);
          fs.rmSync(marker);
          await t.waitFor(new RegExp(`^tsgi: thread ${core} of worker 1 serves again`, 'm'), 60000);
          await waitForCore(port, core);
        },
        { THREADS_PROBE_FAIL_LOAD: marker },
      );
    } finally {
      tmp.remove();
    }
  });
});

describe('startThreads() in this process', () => {
  let config: Config;
  let sockets: BoundSocket[];
  let port: number;
  const logs = tempDir();
  const logFile = path.join(logs.dir, 'requests.log');
  let logFd: number;

  before(() => {
    const c = loadConfig(['--http-socket', '127.0.0.1:0', '--wsgi-file', PROBE], process.env, process.cwd());
    assert.ok(isConfig(c));
    config = c;
    sockets = bindAll(config, process.cwd());
    port = sockets[0]!.port;
    logFd = fs.openSync(logFile, 'a');
  });
  after(() => {
    closeAll(sockets, false);
    fs.closeSync(logFd);
    logs.remove();
  });

  async function withGroup(
    extra: Partial<Parameters<typeof startThreads>[0]>,
    fn: (g: ThreadGroup, exits: ThreadExitInfo[], readies: ThreadReadyInfo[]) => Promise<void>,
  ): Promise<void> {
    const g = await startThreads({ config, sockets, workerId: 7, threads: 2, logFd, multiprocess: false, ...extra });
    const exits: ThreadExitInfo[] = [];
    const readies: ThreadReadyInfo[] = [];
    g.onThreadExit = (i) => exits.push(i);
    g.onThreadReady = (i) => readies.push(i);
    try {
      await fn(g, exits, readies);
    } finally {
      await g.stop();
    }
  }

  const until = async (cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };

  test('terminate() of a thread that owns a held request: the request is cut, the thread replaced, this process unharmed', async () => {
    await withGroup({}, async (g, exits, readies) => {
      assert.equal(g.threads, 2);
      assert.equal(g.app.kind, 'gateway');
      const held = get(port, '/hold', 10000);
      await sleep(100);
      // With one app slot per thread, the holding thread accepts nothing else.
      const other = coreOf((await get(port, '/core')).body);
      const holding = 1 - other;
      const before = await g.counters();
      assert.equal(before.inflight, 1);
      assert.equal(await g.terminateThread(holding), true);
      const r = await held;
      assert.equal(r.status, 0);
      assert.ok(r.closed);
      await until(() => readies.some((x) => x.core === holding && x.respawned), 'the replacement');
      assert.equal(exits.length, 1);
      assert.equal(exits[0]!.core, holding);
      assert.match(exits[0]!.cause, /^the thread exited with code 1 /);
      assert.equal(exits[0]!.respawnInMs, 0);
      await waitForCore(port, holding);
      const after = await g.counters();
      assert.equal(after.inflight, 0);
    });
  });

  test('a thread above its resourceLimits heap dies with ERR_WORKER_OUT_OF_MEMORY and is replaced', async () => {
    await withGroup({ resourceLimits: { maxOldGenerationSizeMb: 32 } }, async (g, exits, readies) => {
      const r = await get(port, '/oom', 20000);
      assert.equal(r.status, 0);
      await until(() => exits.length === 1, 'the thread exit');
      assert.equal((exits[0]!.error as { code?: string }).code, 'ERR_WORKER_OUT_OF_MEMORY');
      assert.match(exits[0]!.cause, /^out of memory \(resourceLimits\)/);
      await until(() => readies.some((x) => x.core === exits[0]!.core && x.respawned), 'the replacement');
      assert.equal((await get(port, '/core')).status, 200);
    });
  });

  test('a thread that keeps crashing right after it starts is respawned with a growing delay, then recovers', async () => {
    const tmp = tempDir();
    const marker = path.join(tmp.dir, 'crash-at-start');
    const saved = process.env.THREADS_PROBE_CRASH_AT_START;
    process.env.THREADS_PROBE_CRASH_AT_START = marker; // read by the threads at load
    try {
      await withGroup({ threads: 1, backoffMs: { base: 150, max: 300 } }, async (g, exits, readies) => {
        await sleep(1100); // a life long enough that the first failure is not a fast one
        fs.writeFileSync(marker, '');
        await get(port, '/crash-soon?ms=10');
        await until(() => exits.length >= 5, '5 exits', 10000);
        // The first failure came after a long enough life; then two fast ones are respawned
        // at once, and from the third fast failure in a row the delay doubles up to the cap.
        assert.deepEqual(
          exits.slice(0, 5).map((e) => e.respawnInMs),
          [0, 0, 0, 150, 300],
        );
        for (const e of exits) assert.equal(e.core, 0);
        fs.rmSync(marker);
        await waitForCore(port, 0);
        const settled = exits.length;
        await sleep(300);
        assert.equal(exits.length, settled, 'the thread keeps running once the app starts cleanly');
        assert.equal((await get(port, '/core')).body, 'core 0 worker 7 multithread true');
      });
    } finally {
      if (saved === undefined) delete process.env.THREADS_PROBE_CRASH_AT_START;
      else process.env.THREADS_PROBE_CRASH_AT_START = saved;
      tmp.remove();
    }
  });

  test('stop() resolves only after an in-flight request finished', async () => {
    const g = await startThreads({ config, sockets, workerId: 7, threads: 2, logFd, multiprocess: false });
    const inFlight = get(port, '/sleep?ms=400');
    await sleep(100);
    let answered = false;
    const r = inFlight.then((x) => {
      answered = true;
      return x;
    });
    await g.stop();
    assert.ok(answered, 'stop() resolved before the in-flight request was answered');
    assert.match((await r).body, /^core [01] slept 400$/);
    // After stop() nobody accepts on the socket any more: a new request is never answered.
    const late = await get(port, '/core', 300);
    assert.equal(late.status, 0);
  });

  test('startThreads() rejects with the TsgiError when the app cannot load', async () => {
    const c = loadConfig(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', path.join(APPS, 'throws-on-load.mjs')],
      process.env,
      process.cwd(),
    );
    assert.ok(isConfig(c));
    await assert.rejects(
      startThreads({ config: c, sockets, workerId: 1, threads: 2, logFd, multiprocess: false }),
      (err: unknown) => {
        assert.ok(isTsgiError(err), String(err));
        assert.equal(err.code, 'TSGI_ERR_APP_LOAD_FAILED');
        assert.equal(err.exitCode, 22);
        assert.match(err.message, /boom while loading/);
        return true;
      },
    );
  });

  test('request log lines from every thread go to the given log fd with their core', async () => {
    await withGroup({}, async () => {
      await concurrently(port, '/sleep?ms=50', 4, STAGGER_MS);
      const read = (): string => fs.readFileSync(logFile, 'latin1');
      await waitForText(read, /GET \/sleep\?ms=50 => generated \d+ bytes .* on core 0\)/);
      await waitForText(read, /GET \/sleep\?ms=50 => generated \d+ bytes .* on core 1\)/);
    });
  });
});
