// `tsgi bench`: benchmark an app under every configuration of a matrix, side by side with
// node:http, node:cluster, uWebSockets.js and uWSGI on the same app logic. See bench/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BENCH_APPS, FRAMEWORK_APPS, MatrixError, defaultMatrix, expandMatrix, formatMatrix, parseMatrix, selectOnly, type Matrix } from './matrix';
import { ROOT, benchApp, benchAppsMissing, customApp, type AppSpec } from './apps';
import { comparePoints, loadReport, renderComparison } from './compare';
import { nginxMissing } from './nginx';
import { baselinePoints, tsgiPoint, type PointDef } from './points';
import { Progress } from './progress';
import { writeReport, renderMarkdown } from './report';
import { pointFailed, runSession, type RunSettings } from './run';

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
                            protocols: http, uwsgi (nginx in front), router (--http))
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
  --out DIR                 where bench-<time>.{json,md,svg} go [bench/results]
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
  if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${name} needs a whole number, got ${JSON.stringify(v ?? '')}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${name} ${v}: must be from ${min} to ${max}`);
  return n;
}

/** Parse `tsgi bench` arguments (`--opt value` or `--opt=value`). Throws UsageError. */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    help: false, list: false, compare: null, report: null, apps: null, wsgiFile: null, module: null, callable: null, matrixTerms: [], standard: false,
    frameworks: false, quick: false, only: null, baselines: true, duration: null, rounds: null, warmup: null, connections: 100, pipelining: null,
    workers: 0, push: true, wrkCheck: true, logging: false, pin: 'auto', maxOther: 0.15, retries: null, quietWait: null, out: null, write: true,
  };
  const args = [...argv];
  while (args.length) {
    let a = args.shift()!;
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { inline = a.slice(eq + 1); a = a.slice(0, eq); }
    const value = (): string => {
      const v = inline ?? args.shift();
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-h': case '--help': o.help = true; break;
      case '--list': o.list = true; break;
      case '--compare': {
        const x = inline ?? args.shift();
        const y = args.shift();
        if (!x || !y) throw new UsageError('--compare needs two files: OLD.json NEW.json');
        o.compare = [x, y];
        break;
      }
      case '--report': o.report = value(); break;
      case '--app': o.apps = value().split(',').map((s) => s.trim()); break;
      case '--wsgi-file': case '--file': o.wsgiFile = value(); break;
      case '-w': case '--module': o.module = value(); break;
      case '--callable': o.callable = value(); break;
      case '--matrix': {
        if (inline !== undefined) o.matrixTerms.push(inline);
        while (args.length && /^[a-z]+=/.test(args[0]!)) o.matrixTerms.push(args.shift()!);
        if (!o.matrixTerms.length) throw new UsageError('--matrix needs NAME=V1,V2 terms');
        break;
      }
      case '--standard': o.standard = true; break;
      case '--frameworks': o.frameworks = true; break;
      case '--quick': o.quick = true; break;
      case '--only': o.only = value(); break;
      case '--no-baselines': o.baselines = false; break;
      case '--duration': o.duration = intArg(a, value(), 1, 3600); break;
      case '--rounds': o.rounds = intArg(a, value(), 1, 100); break;
      case '--warmup': o.warmup = intArg(a, value(), 0, 600); break;
      case '--connections': o.connections = intArg(a, value(), 1, 100_000); break;
      case '--pipelining': o.pipelining = intArg(a, value(), 1, 1000); break;
      case '--workers': o.workers = intArg(a, value(), 0, 256); break;
      case '--no-push': o.push = false; break;
      case '--no-wrk-check': o.wrkCheck = false; break;
      case '--logging': o.logging = true; break;
      case '--pin': {
        const v = value();
        if (v !== 'auto' && v !== 'off') throw new UsageError(`--pin ${v}: auto or off`);
        o.pin = v;
        break;
      }
      case '--max-other': {
        const v = Number(value());
        if (!Number.isFinite(v) || v < 0) throw new UsageError(`--max-other needs a number of CPUs ≥ 0`);
        o.maxOther = v;
        break;
      }
      case '--retries': o.retries = intArg(a, value(), 0, 20); break;
      case '--quiet-wait': o.quietWait = intArg(a, value(), 0, 3600); break;
      case '--out': o.out = value(); break;
      case '--no-write': o.write = false; break;
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  if (o.wsgiFile && o.module) throw new UsageError('give --wsgi-file or --module, not both');
  if ((o.wsgiFile || o.module) && o.apps) throw new UsageError('--app picks a built-in bench app; it cannot be combined with --wsgi-file/--module');
  const presets = [o.standard && '--standard', o.quick && '--quick', o.frameworks && '--frameworks'].filter(Boolean);
  if (presets.length > 1) throw new UsageError(`${presets.join(' and ')} exclude each other`);
  if (o.frameworks && (o.wsgiFile || o.module)) throw new UsageError('--frameworks runs the framework bench apps; it cannot be combined with --wsgi-file/--module');
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
  if (custom && o.matrixTerms.some((t) => /(^|\s)app=/.test(t))) throw new MatrixError('app= in --matrix picks built-in bench apps; not with --wsgi-file/--module');
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
    for (const c of expandMatrix({ ...matrix, app: [app.name] })) points.push(tsgiPoint(c, app, { logging: o.logging, nginxMissing }));
    if (o.baselines) points.push(...baselinePoints(app, matrix, nginxMissing));
  }
  return { matrix, points: selectOnly(points, o.only ?? undefined), apps };
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
    const dir = o.out ?? (fs.existsSync(path.join(ROOT, 'bench')) ? path.join(ROOT, 'bench', 'results') : 'bench-results');
    const w = writeReport(report, dir);
    process.stdout.write(w.markdown);
    process.stderr.write(`tsgi bench: wrote ${path.relative(process.cwd(), w.json)}, .md and .svg\n`);
  } else {
    process.stdout.write(renderMarkdown(report));
  }
  const failed = report.points.filter(pointFailed);
  if (failed.length) {
    process.stderr.write(`tsgi bench: ${failed.length} point(s) failed: ${failed.map((p) => `${p.id} (${p.reason ?? 'errors during the run'})`).join('; ')}\n`);
    return 1;
  }
  return 0;
}
