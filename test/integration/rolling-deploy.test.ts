// Rolling deploys across three tsgi hosts behind one nginx, under steady load (docs/deploy-rolling.md).
// Each host is a tsgi master with 2 workers in its own network namespace, at its own address
// in 127.0.0.0/8; nginx runs in a front namespace with an `upstream` over the three
// (src/bench/rolling/netns.ts). The load client (4 GET loops, keep-alive unless a test says
// otherwise) reaches nginx over its UNIX socket. A deploy rewrites a host's app from version 1
// to 2 and reloads that host, one host after the other. Needs root (network namespaces), iproute2 and nginx (.ci/run installs both).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { describe, type TestContext, test } from 'node:test';
import { Cluster, type ClusterOptions, type ReloadKind, workerPids } from '../../src/bench/rolling/cluster';
import { formatSummary, ok, type Sample, startLoad, summarize } from '../../src/bench/rolling/load';

const CONCURRENCY = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function goodIn(samples: Sample[], from: number, to: number): number {
  return samples.filter((s) => s.start >= from && s.start < to && ok(s)).length;
}

interface Rollout {
  /** Mark each host `down` in nginx (and reload nginx) for the time of its reload. */
  drain?: boolean;
  /** Run POST loops beside the GET loops, both on a new connection per request. */
  posts?: boolean;
}

/** Deploys version 2 host by host under load and checks every answer and every host. */
async function rollingDeploy(t: TestContext, opts: ClusterOptions, kind: ReloadKind, r: Rollout = {}): Promise<void> {
  const c = await Cluster.start(opts);
  const keepAlive = !r.posts;
  const load = startLoad({ socketPath: c.nginxSocket, concurrency: CONCURRENCY, keepAlive });
  const posts = r.posts
    ? startLoad({ socketPath: c.nginxSocket, concurrency: 2, method: 'POST', keepAlive })
    : undefined;
  const samples = (): Sample[] => [...load.samples, ...(posts?.samples ?? [])];
  try {
    await load.waitGood(0, 50);
    await posts?.waitGood(0, 10);
    for (const h of c.hosts) {
      assert.deepEqual(await c.direct(h.ns.index), Array(6).fill(`v1 h${h.ns.index}`), 'every host starts on v1');
    }
    const from = performance.now();
    for (const h of c.hosts) {
      const i = h.ns.index;
      if (r.drain) await c.setDown(i, true);
      const start = performance.now();
      await c.deploy(i, 2, kind);
      const done = performance.now();
      assert.deepEqual(await c.direct(i), Array(6).fill(`v2 h${i}`), `host ${i} serves v2, asked directly`);
      assert.ok(goodIn(load.samples, start, done) > 0, `requests were answered while host ${i} was reloading`);
      if (r.drain) {
        const leaked = samples().filter((s) => s.start >= start && s.start < done && s.body.trim().endsWith(` h${i}`));
        assert.equal(leaked.length, 0, `host ${i} got no request while marked down`);
        await c.setDown(i, false);
      }
      // The next host only once nginx sends load to this one again (nginx's fail_timeout passed).
      await load.waitGood(start, 20, (s) => s.body.trim() === `v2 h${i}`);
    }
    const to = performance.now();
    await load.waitGood(to, 30);
    // Every host answers again through nginx (one that failed an attempt is skipped for
    // nginx's fail_timeout first, so this waits instead of expecting it in the first answers).
    for (const h of c.hosts) await load.waitGood(to, 1, (s) => s.body.trim() === `v2 h${h.ns.index}`);
    await load.stop();
    await posts?.stop();
    const during = summarize(load.samples, from, to);
    t.diagnostic(formatSummary(`GETs before the deploy`, summarize(load.samples, 0, from)));
    t.diagnostic(formatSummary(`GETs during the deploy (${kind}${r.drain ? ', drained' : ''}, 3 hosts)`, during));
    if (posts) t.diagnostic(formatSummary('POSTs during the deploy', summarize(posts.samples, from, to)));
    t.diagnostic(`nginx [error] lines (upstream attempts that failed, then retried): ${c.nginxErrors().length}`);
    for (const line of c.nginxErrors().filter((l) => l.includes('POST'))) t.diagnostic(`nginx: ${line}`);
    const all = summarize(samples());
    assert.equal(all.failed, 0, `failed requests: ${all.failures.join('; ')}`);
    const after = load.samples.filter((s) => s.start >= to);
    assert.ok(after.length >= 30 && after.every((s) => s.body.startsWith('v2 ')), 'after the deploy only v2 answers');
  } finally {
    await load.stop();
    await posts?.stop();
    await c.stop();
  }
}

/** A POST through nginx: the status and body, or the connection error. */
function post(socketPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      { socketPath, method: 'POST', path: '/hold', agent: false, headers: { 'content-length': 5 } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end('hello');
  });
}

/** Gone, or a zombie nobody reaped yet: either way it serves nothing. */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(50);
  }
}

describe('rolling deploys across three hosts behind nginx, under steady load', () => {
  test('uwsgi_pass: a SIGHUP host by host puts every host on the new code without one failed request', async (t) => {
    await rollingDeploy(t, { pass: 'uwsgi' }, 'sighup');
  });

  test('proxy_pass to --http-socket with upstream keepalive: a chain reload host by host puts every host on the new code without one failed request', async (t) => {
    await rollingDeploy(t, { pass: 'http', chain: true }, 'chain');
  });

  test('fastcgi_pass with fastcgi_keep_conn and upstream keepalive: a SIGHUP host by host puts every host on the new code without one failed request', async (t) => {
    await rollingDeploy(t, { pass: 'fastcgi' }, 'sighup');
  });

  test('uwsgi_pass: a full restart host by host (SIGTERM, then a new master) loses no GET, nginx passing the refused connections to the other hosts', async (t) => {
    // POSTs are not asserted here: a connection whose handshake is still in progress when the
    // last descriptor of a stopping host's socket closes is reset by the kernel, and nginx does
    // not resend a POST (docs/deploy-rolling.md); the drained restart below loses none.
    await rollingDeploy(t, { pass: 'uwsgi' }, 'restart');
  });

  test('uwsgi_pass with GET and POST loops: a host marked down in nginx (reload) before its full restart gets no request meanwhile, and no GET or POST fails', async (t) => {
    await rollingDeploy(t, { pass: 'uwsgi' }, 'restart', { drain: true, posts: true });
  });

  test('a host whose master is killed with SIGKILL loses its workers; nginx passes every GET to the other hosts, but answers 502 to a POST that host held, without sending it to another', async (t) => {
    const c = await Cluster.start({ pass: 'uwsgi' });
    const load = startLoad({ socketPath: c.nginxSocket, concurrency: CONCURRENCY });
    try {
      await load.waitGood(0, 50);
      const held = post(c.nginxSocket);
      await until('a host holds the POST', () => fs.readdirSync(c.marks).length > 0);
      const [mark] = fs.readdirSync(c.marks);
      const victim = c.hosts[Number(mark!.slice('post-h'.length)) - 1]!;
      const workers = workerPids(victim.proc.output());
      const killedAt = performance.now();
      victim.proc.signal('SIGKILL');
      await victim.proc.waitExit();
      await until(`the workers ${workers.join(', ')} exit after their master`, () => workers.every(gone));
      const deadAt = performance.now();
      const answer = await held;
      assert.equal(answer.status, 502, `the POST held by ${victim.ns.ns} is not retried: ${JSON.stringify(answer)}`);
      assert.deepEqual(fs.readdirSync(c.marks), [mark], 'no other host received the POST');
      assert.ok(
        c.nginxErrors().some((l) => l.includes('request: "POST /hold')),
        `nginx logged the POST's upstream error:\n${c.nginxErrors().join('\n')}`,
      );
      await load.waitGood(deadAt, 100);
      await load.stop();
      t.diagnostic(formatSummary('GETs from the SIGKILL on', summarize(load.samples, killedAt)));
      const all = summarize(load.samples);
      assert.equal(all.failed, 0, `failed GETs: ${all.failures.join('; ')}`);
      const victimName = `h${victim.ns.index}`;
      assert.ok(
        load.samples.filter((s) => s.start >= deadAt).every((s) => !s.body.trim().endsWith(` ${victimName}`)),
        'nothing is answered by the dead host',
      );
    } finally {
      await load.stop();
      await c.stop();
    }
  });
});
