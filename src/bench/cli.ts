// `tsgi bench`: benchmark an app under every configuration of a matrix, side by side with
// node:http, node:cluster, uWebSockets.js and uWSGI on the same app logic. See bench/README.md.
import * as os from 'node:os';
import * as path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type AppSpec, benchApp, benchAppsMissing, customApp } from './apps';
import { comparePoints, loadReport, renderComparison } from './compare';
import {
  BENCH_APPS,
  defaultMatrix,
  expandMatrix,
  FRAMEWORK_APPS,
  formatMatrix,
  type Matrix,
  MatrixError,
  parseMatrix,
  selectOnly,
} from './matrix';
import { nginxMissing } from './nginx';
import { baselinePoints, type PointDef, tsgiPoint } from './points';
import { Progress } from './progress';
import { renderMarkdown, writeReport } from './report';
import { pointFailed, type RunSettings, runSession } from './run';

export const USAGE = `usage: tsgi bench [options]
       tsgi bench --compare OLD.json NEW.json
       tsgi bench --report RESULTS.json      (print a results file's Markdown report again)

The app (default: the bench app "hello"):
  --app NAMES               built-in bench apps, comma-separated: ${BENCH_APPS.join(', ')};
                            framework apps (each also on its own server): ${FRAMEWORK_APPS.join(', ')}
  --wsgi-file FILE          your own app (tsgi points only; any 2xx answer counts)
  --module NAME[:CALLABLE]  your own app by module name
  --callable NAME           the export to serve

What to measure:
  --matrix TERM...          NAME=V1,V2 terms, cartesian product, e.g.
                            --matrix processes=1,2 threads=1,2 async=1,100 protocol=http,uwsgi
                            (dimensions: app, processes, threads, async, protocol;
                            protocols: http, uwsgi, fastcgi, scgi (nginx uwsgi_pass,
                            fastcgi_pass with kept connections, scgi_pass in front),
                            router (--http))
  --standard                the standard matrix: every bench app, processes=1,2 threads=1,2
                            async=1,100 protocol=http,uwsgi
  --frameworks              the framework apps (${FRAMEWORK_APPS.join(', ')}) under tsgi,
                            1 process, HTTP, each beside the server its users run (own/APP:
                            @hono/node-server, node:http, app.listen(), fastify.listen());
                            the report compares server CPU per request
  --quick                   a smoke run (< 60 s): hello, 1 process, 1 and 2 threads, HTTP and
                            uwsgi, 1 round x 2 s after a 1 s warm-up, no pipelined twins;
                            exits 1 if any point errors
  --only TERMS              only the points whose id contains one of the comma-separated terms
  --no-baselines            no node:http / cluster / uWS / uWSGI points
  --list                    print the points and exit

How:
  --duration S              seconds per round [10; quick 2]
  --rounds N                interleaved rounds [3; quick 1]
  --warmup S                warm-up seconds per point, not counted [5; quick 1]
  --connections N           keep-alive connections [100]
  --pipelining N            requests in flight per connection [1]
  --workers N               autocannon worker threads [0: autocannon on the main thread]
  --no-push                 do not raise pipelining to 10 for a point whose warm-up pegs the client
  --no-wrk-check            do not cross-check one point with wrk
  --logging                 keep tsgi's request log on (off by default, like the baselines)
  --pin auto|off            pin autocannon to the first CPU and the servers to the others [auto]
  --max-other CPUS          a run during which other work used more CPU is repeated [0.15]
  --retries N               repeats of a disturbed run [2; quick 0]
  --quiet-wait S            wait up to S seconds for a quiet machine before each run [60; quick 0]

Output:
  --out DIR                 where bench-<time>.{json,md,svg} go [${path.join(os.tmpdir(), 'tsgi-bench-results')}]
  --no-write                print the table only
`;

export interface BenchOptions {
  help: boolean;
  list: boolean;
  compare: [string, string] | null;
  report: string | null;
  apps: string[] | null;
  wsgiFile: string | null;
  module: string | null;
  callable: string | null;
  matrixTerms: string[];
  standard: boolean;
  frameworks: boolean;
  quick: boolean;
  only: string | null;
  baselines: boolean;
  duration: number | null;
  rounds: number | null;
  warmup: number | null;
  connections: number;
  pipelining: number | null;
  workers: number;
  push: boolean;
  wrkCheck: boolean;
  logging: boolean;
  pin: 'auto' | 'off';
  maxOther: number;
  retries: number | null;
  quietWait: number | null;
  out: string | null;
  write: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function intArg(name: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined || !/^\d+$/.test(v))
    throw new UsageError(`${name} needs a whole number, got ${JSON.stringify(v ?? '')}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${name} ${v}: must be from ${min} to ${max}`);
  return n;
}

/** Options that take no value. */
const FLAGS: Record<string, (o: BenchOptions) => void> = {
  help: (o) => {
    o.help = true;
  },
  list: (o) => {
    o.list = true;
  },
  standard: (o) => {
    o.standard = true;
  },
  frameworks: (o) => {
    o.frameworks = true;
  },
  quick: (o) => {
    o.quick = true;
  },
  'no-baselines': (o) => {
    o.baselines = false;
  },
  'no-push': (o) => {
    o.push = false;
  },
  'no-wrk-check': (o) => {
    o.wrkCheck = false;
  },
  logging: (o) => {
    o.logging = true;
  },
  'no-write': (o) => {
    o.write = false;
  },
};

/** Options that take one value; `name` is the option as written, for messages. */
const VALUED: Record<string, (o: BenchOptions, v: string, name: string) => void> = {
  report: (o, v) => {
    o.report = v;
  },
  app: (o, v) => {
    o.apps = v.split(',').map((s) => s.trim());
  },
  'wsgi-file': (o, v) => {
    o.wsgiFile = v;
  },
  file: (o, v) => {
    o.wsgiFile = v;
  },
  module: (o, v) => {
    o.module = v;
  },
  callable: (o, v) => {
    o.callable = v;
  },
  only: (o, v) => {
    o.only = v;
  },
  duration: (o, v, n) => {
    o.duration = intArg(n, v, 1, 3600);
  },
  rounds: (o, v, n) => {
    o.rounds = intArg(n, v, 1, 100);
  },
  warmup: (o, v, n) => {
    o.warmup = intArg(n, v, 0, 600);
  },
  connections: (o, v, n) => {
    o.connections = intArg(n, v, 1, 100_000);
  },
  pipelining: (o, v, n) => {
    o.pipelining = intArg(n, v, 1, 1000);
  },
  workers: (o, v, n) => {
    o.workers = intArg(n, v, 0, 256);
  },
  pin: (o, v) => {
    if (v !== 'auto' && v !== 'off') throw new UsageError(`--pin ${v}: auto or off`);
    o.pin = v;
  },
  'max-other': (o, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--max-other needs a number of CPUs ≥ 0`);
    o.maxOther = n;
  },
  retries: (o, v, n) => {
    o.retries = intArg(n, v, 0, 20);
  },
  'quiet-wait': (o, v, n) => {
    o.quietWait = intArg(n, v, 0, 3600);
  },
  out: (o, v) => {
    o.out = v;
  },
};

/** --matrix takes the NAME=V terms that follow it; --compare the two files that follow it. */
const MATRIX_TERM = /^[a-z]+=/;

const PARSE_OPTIONS: ParseArgsConfig['options'] = {
  ...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'boolean' as const }])),
  ...Object.fromEntries(Object.keys(VALUED).map((k) => [k, { type: 'string' as const }])),
  help: { type: 'boolean', short: 'h' },
  module: { type: 'string', short: 'w' },
  matrix: { type: 'string' },
  compare: { type: 'string' },
};

function defaults(): BenchOptions {
  return {
    help: false,
    list: false,
    compare: null,
    report: null,
    apps: null,
    wsgiFile: null,
    module: null,
    callable: null,
    matrixTerms: [],
    standard: false,
    frameworks: false,
    quick: false,
    only: null,
    baselines: true,
    duration: null,
    rounds: null,
    warmup: null,
    connections: 100,
    pipelining: null,
    workers: 0,
    push: true,
    wrkCheck: true,
    logging: false,
    pin: 'auto',
    maxOther: 0.15,
    retries: null,
    quietWait: null,
    out: null,
    write: true,
  };
}

/** The value of a valued option token; a following option (`--x --y`) is not a value. */
function tokenValue(t: { rawName: string; value?: string; inlineValue?: boolean }): string {
  if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--')))
    throw new UsageError(`${t.rawName} needs a value`);
  return t.value;
}

/**
 * Parse `tsgi bench` arguments (`--opt value` or `--opt=value`) with node:util parseArgs. Its
 * tokens keep the order, which --matrix and --compare need: their extra values are the
 * positionals that follow them. Throws UsageError.
 */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const o = defaults();
  const { tokens } = parseArgs({
    args: argv,
    options: PARSE_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let takes: 'matrix' | 'compare' | null = null;
  for (const t of tokens) {
    if (t.kind === 'positional') {
      if (takes === 'matrix' && MATRIX_TERM.test(t.value)) {
        o.matrixTerms.push(t.value);
        continue;
      }
      if (takes === 'compare') {
        o.compare = [o.compare![0], t.value];
        takes = null;
        continue;
      }
      throw new UsageError(`unknown option ${t.value}`);
    }
    if (takes === 'compare') throw new UsageError('--compare needs two files: OLD.json NEW.json');
    takes = null;
    if (t.kind === 'option-terminator') throw new UsageError('unknown option --');
    if (t.name === 'matrix') {
      if (t.value === undefined || !MATRIX_TERM.test(t.value)) throw new UsageError('--matrix needs NAME=V1,V2 terms');
      o.matrixTerms.push(t.value);
      takes = 'matrix';
    } else if (t.name === 'compare') {
      if (t.value === undefined) throw new UsageError('--compare needs two files: OLD.json NEW.json');
      o.compare = [t.value, ''];
      takes = 'compare';
    } else if (Object.hasOwn(FLAGS, t.name)) {
      if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
      FLAGS[t.name]!(o);
    } else if (Object.hasOwn(VALUED, t.name)) {
      VALUED[t.name]!(o, tokenValue(t), t.rawName);
    } else {
      throw new UsageError(`unknown option ${t.rawName}`);
    }
  }
  if (takes === 'compare') throw new UsageError('--compare needs two files: OLD.json NEW.json');
  if (o.wsgiFile && o.module) throw new UsageError('give --wsgi-file or --module, not both');
  if ((o.wsgiFile || o.module) && o.apps)
    throw new UsageError('--app picks a built-in bench app; it cannot be combined with --wsgi-file/--module');
  const presets = [o.standard && '--standard', o.quick && '--quick', o.frameworks && '--frameworks'].filter(Boolean);
  if (presets.length > 1) throw new UsageError(`${presets.join(' and ')} exclude each other`);
  if (o.frameworks && (o.wsgiFile || o.module))
    throw new UsageError('--frameworks runs the framework bench apps; it cannot be combined with --wsgi-file/--module');
  if (o.callable && !o.wsgiFile && !o.module) throw new UsageError('--callable needs --wsgi-file or --module');
  return o;
}

/** The standard matrix of bench/RESULTS.md. */
export const STANDARD_MATRIX = `app=${BENCH_APPS.join(',')} processes=1,2 threads=1,2 async=1,100 protocol=http,uwsgi`;
/**
 * The --quick matrix: only configurations tsgi runs today (CI fails on any error). Add
 * processes=1,2 once `--processes` is part of what CI holds tsgi to.
 */
export const QUICK_MATRIX = 'app=hello processes=1 threads=1,2 async=1 protocol=http,uwsgi';

/** The framework apps on one tsgi configuration, each beside its own server (npm run bench:apps). */
export const FRAMEWORKS_MATRIX = `app=${FRAMEWORK_APPS.join(',')} processes=1 threads=1 async=1 protocol=http`;

/** The matrix and the points it expands to (tsgi configurations, then baselines per app). */
export function planPoints(o: BenchOptions): { matrix: Matrix; points: PointDef[]; apps: AppSpec[] } {
  const custom = o.wsgiFile || o.module;
  let base = defaultMatrix();
  if (o.standard) base = parseMatrix([STANDARD_MATRIX]);
  if (o.quick) base = parseMatrix([QUICK_MATRIX]);
  if (o.frameworks) base = parseMatrix([FRAMEWORKS_MATRIX]);
  if (o.apps) base = parseMatrix([`app=${o.apps.join(',')}`], base);
  const matrix = o.matrixTerms.length ? parseMatrix(o.matrixTerms, base) : base;
  if (custom && o.matrixTerms.some((t) => /(^|\s)app=/.test(t)))
    throw new MatrixError('app= in --matrix picks built-in bench apps; not with --wsgi-file/--module');
  let apps: AppSpec[];
  if (custom) {
    const args = o.wsgiFile ? ['--wsgi-file', o.wsgiFile] : ['--module', o.module!];
    if (o.callable) args.push('--callable', o.callable);
    apps = [customApp(args, `your app (${args.join(' ')})`)];
    matrix.app = ['custom'];
  } else {
    const missing = benchAppsMissing();
    if (missing) throw new UsageError(`${missing}: give your app with --wsgi-file or --module`);
    apps = matrix.app.map((n) => benchApp(n));
  }
  const points: PointDef[] = [];
  for (const app of apps) {
    for (const c of expandMatrix({ ...matrix, app: [app.name] }))
      points.push(tsgiPoint(c, app, { logging: o.logging, nginxMissing }));
    if (o.baselines) points.push(...baselinePoints(app, matrix, nginxMissing));
  }
  return { matrix, points: selectOnly(points, o.only ?? undefined), apps };
}

/**
 * Where the results files go: --out, else a directory under the system's temporary directory,
 * so a run never adds files to the checkout or project it was started in unless asked to
 * (--out bench/results keeps a run beside the recorded ones).
 */
export function resultsDir(o: Pick<BenchOptions, 'out'>): string {
  return o.out ?? path.join(os.tmpdir(), 'tsgi-bench-results');
}

/** A path relative to the cwd when it lies inside it, else absolute. */
function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(p) : rel;
}

export async function main(argv: string[]): Promise<number> {
  let o: BenchOptions;
  try {
    o = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`tsgi bench: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (o.report) {
    try {
      process.stdout.write(renderMarkdown(loadReport(o.report)));
      return 0;
    } catch (e) {
      process.stderr.write(`tsgi bench --report: ${(e as Error).message}\n`);
      return 2;
    }
  }
  if (o.compare) {
    try {
      const [a, b] = o.compare;
      const oldR = loadReport(a);
      const newR = loadReport(b);
      process.stdout.write(renderComparison(a, b, oldR, newR, comparePoints(oldR, newR)));
      return 0;
    } catch (e) {
      process.stderr.write(`tsgi bench --compare: ${(e as Error).message}\n`);
      return 2;
    }
  }
  let plan: ReturnType<typeof planPoints>;
  try {
    plan = planPoints(o);
  } catch (e) {
    if (e instanceof MatrixError || e instanceof UsageError) {
      process.stderr.write(`tsgi bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (o.list) {
    for (const p of plan.points) process.stdout.write(`${p.id}\t${p.label}\n`);
    return 0;
  }
  const settings: RunSettings = {
    quick: o.quick,
    rounds: o.rounds ?? (o.quick ? 1 : 3),
    durationS: o.duration ?? (o.quick ? 2 : 10),
    warmupS: o.warmup ?? (o.quick ? 1 : 5),
    connections: o.connections,
    pipelining: o.pipelining ?? 1,
    pipeliningGiven: o.pipelining !== null,
    workers: o.workers,
    push: o.push && !o.quick,
    logging: o.logging,
    pin: o.pin === 'auto',
    wrkCheck: o.wrkCheck,
    maxOther: o.maxOther,
    retries: o.retries ?? (o.quick ? 0 : 2),
    quietWaitS: o.quietWait ?? (o.quick ? 0 : 60),
    matrix: formatMatrix(plan.matrix),
    only: o.only,
    command: ['tsgi', 'bench', ...argv].map((s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s}'`)).join(' '),
    apps: plan.apps.map((a) => ({ name: a.name, description: a.description })),
  };
  const report = await runSession(plan.points, settings, new Progress());
  if (o.write) {
    const w = writeReport(report, resultsDir(o));
    process.stdout.write(w.markdown);
    process.stderr.write(`tsgi bench: wrote ${shownPath(w.json)}, .md and .svg\n`);
  } else {
    process.stdout.write(renderMarkdown(report));
  }
  const failed = report.points.filter(pointFailed);
  if (failed.length) {
    process.stderr.write(
      `tsgi bench: ${failed.length} point(s) failed: ${failed.map((p) => `${p.id} (${p.reason ?? 'errors during the run'})`).join('; ')}\n`,
    );
    return 1;
  }
  return 0;
}
