// A steady, bounded load: C loops, each sending one request at a time over a keep-alive agent
// to nginx's UNIX socket (filesystem UNIX sockets are not bound to a network namespace, so a
// client in any namespace reaches nginx in the front one), until stop(). Every answer is kept:
// start time, latency, status, body, or the connection error.
import http from 'node:http';

export interface Sample {
  /** performance.now() when the request was sent. */
  start: number;
  ms: number;
  status: number;
  body: string;
  error?: string;
}

/** An answer from one of the rolling-deploy hosts: `v<N> h<i>` (the app's version and host). */
export const ANSWER = /^v\d+ h\d+$/;

export function ok(s: Sample): boolean {
  return s.status === 200 && ANSWER.test(s.body.trim());
}

export interface Load {
  samples: Sample[];
  /** Resolves once `n` good answers arrived after `since` (performance.now()), or rejects after timeoutMs. */
  waitGood(since: number, n: number, pred?: (s: Sample) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface LoadOptions {
  socketPath: string;
  concurrency: number;
  path?: string;
  /** GET (default), or POST with a 5-byte body. */
  method?: 'GET' | 'POST';
  /** Keep connections to nginx open between requests (default true); false: one per request. */
  keepAlive?: boolean;
  /** Per-request bound: a request unanswered after it counts as failed. */
  timeoutMs?: number;
}

function one(agent: http.Agent | false, o: LoadOptions): Promise<Sample> {
  const start = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number, body: string, error?: string): void => {
      if (done) return;
      done = true;
      resolve({ start, ms: performance.now() - start, status, body, error });
    };
    const method = o.method ?? 'GET';
    const headers = method === 'POST' ? { 'content-length': '5' } : {};
    const req = http.request({ socketPath: o.socketPath, path: o.path ?? '/', method, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => finish(res.statusCode ?? 0, body));
      res.on('error', (e) => finish(res.statusCode ?? 0, body, e.message));
    });
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error('request timeout')));
    req.on('error', (e) => finish(0, '', e.message));
    req.end(method === 'POST' ? 'hello' : undefined);
  });
}

export function startLoad(o: LoadOptions): Load {
  const agent = o.keepAlive === false ? false : new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const samples: Sample[] = [];
  let running = true;
  const waiters = new Set<() => void>();
  const loop = async (): Promise<void> => {
    while (running) {
      samples.push(await one(agent, o));
      for (const w of [...waiters]) w();
    }
  };
  const loops = Array.from({ length: o.concurrency }, loop);
  return {
    samples,
    waitGood: (since, n, pred = () => true, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`load: fewer than ${n} matching good answers within ${timeoutMs} ms`));
        }, timeoutMs);
        function check(): void {
          let k = 0;
          for (let i = samples.length - 1; i >= 0 && samples[i]!.start >= since; i--) {
            if (ok(samples[i]!) && pred(samples[i]!)) k++;
          }
          if (k >= n) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        }
        waiters.add(check);
        check();
      }),
    stop: async () => {
      running = false;
      await Promise.all(loops);
      if (agent) agent.destroy();
    },
  };
}

export interface Summary {
  requests: number;
  failed: number;
  /** Up to 5 failures, described. */
  failures: string[];
  p50: number;
  p99: number;
  max: number;
}

/** `status 502`, `status 0 socket hang up`, or a 200 with an unexpected body and that body. */
function describe(s: Sample): string {
  if (s.error) return `status ${s.status} ${s.error}`;
  return s.status === 200 ? `status 200 ${JSON.stringify(s.body.slice(0, 80))}` : `status ${s.status}`;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The requests sent in [from, to) (performance.now() times). */
export function summarize(samples: Sample[], from = -Infinity, to = Infinity): Summary {
  const inWindow = samples.filter((s) => s.start >= from && s.start < to);
  const bad = inWindow.filter((s) => !ok(s));
  const ms = inWindow.map((s) => s.ms).sort((a, b) => a - b);
  return {
    requests: inWindow.length,
    failed: bad.length,
    failures: bad.slice(0, 5).map(describe),
    p50: pct(ms, 50),
    p99: pct(ms, 99),
    max: ms.length ? ms[ms.length - 1]! : NaN,
  };
}

export function formatSummary(label: string, s: Summary): string {
  const f = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(1));
  return `${label}: ${s.requests} requests, ${s.failed} failed, p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms, max ${f(s.max)} ms`;
}
