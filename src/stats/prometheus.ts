// The Prometheus text exposition format 0.0.4 of the scoreboard
// (https://prometheus.io/docs/instrumenting/exposition_formats/): one HELP and one TYPE line
// per family, then its samples, no family repeated. Names follow
// https://prometheus.io/docs/practices/naming/ (prefix `tsgi_`, base units in the name,
// `_total` for counters). Every family is listed in docs/stats.md, "Prometheus metrics".

import type { ScoreboardCoreFields, ScoreboardSnapshot } from '../native';
import type { StatsSocket } from './document';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the exposition needs beyond the snapshot; the sockets are the stats document's. */
export interface MetricsContext {
  /** tsgi's version (package.json). */
  version: string;
  /** process.versions.node */
  nodeVersion: string;
  sockets: readonly StatsSocket[];
  /** --processes */
  workersConfigured: number;
  /** Graceful and chain reloads the master performed. */
  reloads: number;
}

type MetricType = 'counter' | 'gauge' | 'histogram';
type Labels = ReadonlyArray<readonly [string, string]>;

interface Sample {
  /** Appended to the family name: `_bucket`, `_sum`, `_count` for a histogram. */
  suffix?: string;
  labels: Labels;
  value: number;
}

/** A label value: backslash, double quote and line feed escaped, as the format requires. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed escaped (quotes stay as they are). */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as Go's ParseFloat reads it: integers in full, `+Inf`, `-Inf`, `NaN`. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

function renderFamily(out: string[], name: string, type: MetricType, help: string, samples: Sample[]): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  for (const s of samples) {
    const labels =
      s.labels.length === 0 ? '' : `{${s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
    out.push(`${name}${s.suffix ?? ''}${labels} ${formatValue(s.value)}`);
  }
}

function sum(cores: readonly ScoreboardCoreFields[], pick: (c: ScoreboardCoreFields) => number): number {
  let s = 0;
  for (const c of cores) s += pick(c);
  return s;
}

/** A `le` label value: the bound in seconds (500 µs → "0.0005"). */
export function leLabel(boundUs: number): string {
  return String(boundUs / 1e6);
}

/**
 * The histogram samples of one worker: the cores' buckets added up, then made cumulative
 * (the scoreboard stores each bucket on its own), so `+Inf` and `_count` are the same number.
 */
function durationSamples(
  worker: string,
  boundsUs: readonly number[],
  cores: readonly ScoreboardCoreFields[],
): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i <= boundsUs.length; i++) {
    cumulative += sum(cores, (c) => c.durationBuckets[i] ?? 0);
    const le = i < boundsUs.length ? leLabel(boundsUs[i]!) : '+Inf';
    samples.push({
      suffix: '_bucket',
      labels: [
        ['worker', worker],
        ['le', le],
      ],
      value: cumulative,
    });
  }
  // running_time is the sum of the same durations (µs), added by the same call.
  samples.push({ suffix: '_sum', labels: [['worker', worker]], value: sum(cores, (c) => c.runningTime) / 1e6 });
  samples.push({ suffix: '_count', labels: [['worker', worker]], value: cumulative });
  return samples;
}

/** Status codes in numeric order, "other" last. */
function statusCodes(cores: readonly ScoreboardCoreFields[]): string[] {
  const codes = new Set<string>();
  for (const c of cores) for (const code of Object.keys(c.statusCounts)) codes.add(code);
  return [...codes].sort((a, b) => (a === 'other' ? 1 : b === 'other' ? -1 : Number(a) - Number(b)));
}

/** Renders the whole exposition (ends with a line feed, as the format requires). */
export function renderMetrics(snapshot: ScoreboardSnapshot, ctx: MetricsContext): string {
  const out: string[] = [];
  const workers = snapshot.workers.map((w, i) => ({ w, id: String(i + 1), cores: snapshot.cores[i] ?? [] }));
  const perWorker = (f: (x: (typeof workers)[number]) => number): Sample[] =>
    workers.map((x) => ({ labels: [['worker', x.id]], value: f(x) }));

  renderFamily(out, 'tsgi_build_info', 'gauge', 'tsgi and Node.js versions of the serving instance; always 1.', [
    {
      labels: [
        ['version', ctx.version],
        ['node_version', ctx.nodeVersion],
      ],
      value: 1,
    },
  ]);
  renderFamily(out, 'tsgi_workers_configured', 'gauge', 'Worker slots (--processes).', [
    { labels: [], value: ctx.workersConfigured },
  ]);
  renderFamily(out, 'tsgi_workers_running', 'gauge', 'Worker slots with a process running.', [
    { labels: [], value: workers.filter((x) => x.w.pid !== 0).length },
  ]);
  renderFamily(out, 'tsgi_reloads_total', 'counter', 'Graceful and chain reloads performed by the master.', [
    { labels: [], value: ctx.reloads },
  ]);
  renderFamily(
    out,
    'tsgi_requests_total',
    'counter',
    'Requests finished by the worker slot, aborted ones included.',
    perWorker((x) => sum(x.cores, (c) => c.requests)),
  );
  renderFamily(
    out,
    'tsgi_exceptions_total',
    'counter',
    'App exceptions counted by the worker slot.',
    perWorker((x) => sum(x.cores, (c) => c.exceptions)),
  );
  renderFamily(
    out,
    'tsgi_harakiri_total',
    'counter',
    'Harakiri kills of the worker slot.',
    perWorker((x) => x.w.harakiriCount),
  );
  renderFamily(
    out,
    'tsgi_worker_respawns_total',
    'counter',
    'Processes started in the worker slot after its first one (respawns, reloads, recycling).',
    perWorker((x) => Math.max(0, x.w.respawnCount - 1)),
  );
  renderFamily(
    out,
    'tsgi_worker_rss_bytes',
    'gauge',
    'Resident memory of the worker process, read from /proc for this scrape.',
    perWorker((x) => x.w.rss),
  );
  renderFamily(
    out,
    'tsgi_worker_cores',
    'gauge',
    'Cores (serving threads) of the worker by state: busy while a request is in the app.',
    workers.flatMap((x) => {
      const busy = x.cores.filter((c) => c.inRequest !== 0).length;
      return [
        { labels: [['worker', x.id] as const, ['state', 'busy'] as const], value: busy },
        { labels: [['worker', x.id] as const, ['state', 'idle'] as const], value: x.cores.length - busy },
      ];
    }),
  );
  renderFamily(
    out,
    'tsgi_received_bytes_total',
    'counter',
    'Request bytes read by the worker slot: each head as framed on the wire plus its body.',
    perWorker((x) => sum(x.cores, (c) => c.rx)),
  );
  renderFamily(
    out,
    'tsgi_sent_bytes_total',
    'counter',
    'Response bytes (head and body) of the requests the worker slot finished.',
    perWorker((x) => sum(x.cores, (c) => c.tx)),
  );
  renderFamily(
    out,
    'tsgi_read_errors_total',
    'counter',
    'Requests that failed reading from the client (body cut short, timeout, reset).',
    perWorker((x) => sum(x.cores, (c) => c.readErrors)),
  );
  renderFamily(
    out,
    'tsgi_write_errors_total',
    'counter',
    'Requests that failed writing to the client (reset, write timeout).',
    perWorker((x) => sum(x.cores, (c) => c.writeErrors)),
  );
  renderFamily(
    out,
    'tsgi_responses_total',
    'counter',
    'Responses by the status code the app sent (codes seen so far; "other" outside 100..599).',
    workers.flatMap((x) =>
      statusCodes(x.cores).map((code) => ({
        labels: [['worker', x.id] as const, ['code', code] as const],
        value: sum(x.cores, (c) => c.statusCounts[code] ?? 0),
      })),
    ),
  );
  renderFamily(
    out,
    'tsgi_request_duration_seconds',
    'histogram',
    'Time from dispatching a request to the app until its response ended, aborted requests included.',
    workers.flatMap((x) => durationSamples(x.id, snapshot.durationBoundsUs, x.cores)),
  );
  renderFamily(
    out,
    'tsgi_listen_queue_length',
    'gauge',
    'Connections waiting in the accept queue of the listening socket (TCP_INFO; 0 for UNIX sockets).',
    ctx.sockets.map((s) => ({ labels: [['socket', s.name]], value: s.queue })),
  );
  renderFamily(
    out,
    'tsgi_listen_queue_max_length',
    'gauge',
    'The accept queue limit (backlog) of the listening socket (0 for UNIX sockets).',
    ctx.sockets.map((s) => ({ labels: [['socket', s.name]], value: s.maxQueue })),
  );
  return out.join('\n') + '\n';
}
