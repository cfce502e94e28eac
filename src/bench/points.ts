// The points of a run: tsgi for every matrix configuration, and the baselines (node:http,
// node:cluster, uWebSockets.js, uWSGI behind nginx) on the same app logic.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AppSpec, appPackagesMissing, ROOT, SERVERS_DIR } from './apps';
import { type Matrix, type Protocol, type TsgiConfig, tsgiPointId } from './matrix';
import { type NginxPass, startNginx } from './nginx';
import { freePort, groupPids, type ServerHandle, sleep, startServer, which } from './proc';

export type PointKind = 'tsgi' | 'node-http' | 'node-cluster' | 'uws' | 'uwsgi' | 'own';

export interface Started {
  url: string;
  handles: { name: string; handle: ServerHandle }[];
  commands: string[];
  nginxConf?: string;
}

export interface StartContext {
  cpu: number[] | null;
  scratch: string;
}

export interface PointDef {
  id: string;
  kind: PointKind;
  label: string;
  app: AppSpec;
  processes: number;
  threads: number;
  async: number;
  protocol: Protocol;
  /** Why this point cannot run here, or null. */
  missing(): string | null;
  start(ctx: StartContext): Promise<Started>;
  /** After start: why the server is not running the configuration asked for, or null. */
  honoured?(s: Started): Promise<string | null>;
}

/** Shell-quoted command line for the report. */
export const shellQuote = (a: string[]): string =>
  a.map((s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)).join(' ');

const TSGI_BIN = path.join(ROOT, 'bin', 'tsgi.js');
const NODE = 'node';

function scratchDir(ctx: StartContext, id: string): string {
  const d = path.join(ctx.scratch, id.replaceAll('/', '_'));
  fs.mkdirSync(d, { recursive: true });
  return d;
}

async function direct(ctx: StartContext, id: string, argvOf: (port: number) => string[]): Promise<Started> {
  const port = await freePort();
  const h = await startServer({
    argv: argvOf(port),
    cwd: ROOT,
    cpu: ctx.cpu,
    logFile: path.join(scratchDir(ctx, id), 'server.log'),
    ready: { host: '127.0.0.1', port },
  });
  return { url: `http://127.0.0.1:${port}/`, handles: [{ name: 'server', handle: h }], commands: [shellQuote(h.argv)] };
}

async function viaNginx(
  ctx: StartContext,
  id: string,
  argvOf: (port: number) => string[],
  pass: NginxPass = 'uwsgi',
): Promise<Started> {
  const port = await freePort();
  const dir = scratchDir(ctx, id);
  const backend = await startServer({
    argv: argvOf(port),
    cwd: ROOT,
    cpu: ctx.cpu,
    logFile: path.join(dir, 'backend.log'),
    ready: { host: '127.0.0.1', port },
  });
  try {
    const nginx = await startNginx({
      prefix: path.join(dir, 'nginx'),
      upstream: `127.0.0.1:${port}`,
      cpu: ctx.cpu,
      pass,
    });
    return {
      url: `http://127.0.0.1:${nginx.port}/`,
      handles: [
        { name: 'backend', handle: backend },
        { name: 'nginx', handle: nginx },
      ],
      commands: [shellQuote(backend.argv), `${shellQuote(nginx.argv)}   # config: nginxConf in the JSON`],
      nginxConf: fs.readFileSync(nginx.confPath, 'utf8'),
    };
  } catch (e) {
    await backend.stop();
    throw e;
  }
}

export function tsgiMissing(): string | null {
  if (!fs.existsSync(TSGI_BIN)) return `${TSGI_BIN} does not exist`;
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) return 'dist/ is not built (npm run build:ts)';
  return null;
}

/** tsgi's arguments for one configuration (the socket option comes first). */
export function tsgiArgv(c: TsgiConfig, app: AppSpec, port: number, logging: boolean): string[] {
  const sock = {
    http: '--http-socket',
    uwsgi: '--socket',
    fastcgi: '--fastcgi-socket',
    scgi: '--scgi-socket',
    router: '--http',
  }[c.protocol];
  const a = [NODE, path.relative(ROOT, TSGI_BIN), sock, `127.0.0.1:${port}`, ...app.tsgiArgs];
  if (c.processes > 1) a.push('--processes', String(c.processes));
  if (c.threads > 1) a.push('--threads', String(c.threads));
  if (c.async > 1) a.push('--async', String(c.async));
  if (!logging) a.push('--disable-logging');
  return a;
}

/**
 * Did tsgi start the configuration asked for? It logs one `spawned tsgi worker N … (pid: P,
 * cores: C)` line per worker process; C is the requests one worker may hold in flight
 * (threads × async, as uWSGI counts cores). Options tsgi accepts but does not yet act on would
 * otherwise be measured as if they did.
 */
export function checkSpawnLog(log: string, c: Pick<TsgiConfig, 'processes' | 'threads' | 'async'>): string | null {
  const lines = log.split('\n').filter((l) => /spawned tsgi worker/.test(l));
  if (!lines.length) return 'no "spawned tsgi worker" line in the server log';
  const pids = new Set(lines.map((l) => /pid:\s*(\d+)/.exec(l)?.[1]).filter(Boolean));
  if (pids.size < c.processes) {
    return `asked for --processes ${c.processes}, tsgi spawned ${pids.size} worker process${pids.size === 1 ? '' : 'es'}`;
  }
  const want = c.threads * c.async;
  const cores = lines.map((l) => Number(/cores:\s*(\d+)/.exec(l)?.[1] ?? NaN));
  const bad = cores.find((n) => n !== want);
  if (bad !== undefined) {
    return `asked for --threads ${c.threads} --async ${c.async} (${want} cores per worker), tsgi reported cores: ${Number.isNaN(bad) ? '?' : bad}`;
  }
  return null;
}

/** The nginx module in front of a protocol, or null when clients connect to tsgi directly. */
function behindNginx(p: Protocol): NginxPass | null {
  return p === 'uwsgi' || p === 'fastcgi' || p === 'scgi' ? p : null;
}

export function tsgiPoint(
  c: TsgiConfig,
  app: AppSpec,
  opts: { logging: boolean; nginxMissing: () => string | null },
): PointDef {
  const id = tsgiPointId(c);
  const conf = `${c.processes} proc × ${c.threads} thr × async ${c.async}`;
  return {
    id,
    kind: 'tsgi',
    ...c,
    app,
    label: {
      http: `tsgi ${conf}, HTTP`,
      uwsgi: `nginx → tsgi ${conf}, uwsgi`,
      fastcgi: `nginx → tsgi ${conf}, FastCGI (kept connections)`,
      scgi: `nginx → tsgi ${conf}, SCGI`,
      router: `tsgi --http router → ${conf}`,
    }[c.protocol],
    missing: () => tsgiMissing() ?? appPackagesMissing(app) ?? (behindNginx(c.protocol) ? opts.nginxMissing() : null),
    start: (ctx) => {
      const argvOf = (p: number): string[] => tsgiArgv(c, app, p, opts.logging);
      const pass = behindNginx(c.protocol);
      return pass ? viaNginx(ctx, id, argvOf, pass) : direct(ctx, id, argvOf);
    },
    async honoured(s) {
      const h = s.handles[0]!.handle;
      let why: string | null = 'no log';
      // Workers may be spawned a moment after the socket is bound.
      for (let i = 0; i < 50; i++) {
        why = checkSpawnLog(fs.readFileSync(h.logFile, 'utf8'), c);
        if (!why) return null;
        await sleep(100);
      }
      return why;
    },
  };
}

function uwsgiPluginMissing(): string | null {
  const dirs = ['/usr/lib/uwsgi/plugins', '/usr/lib/uwsgi'];
  return dirs.some((d) => fs.existsSync(path.join(d, 'python3_plugin.so')))
    ? null
    : 'the uWSGI python3 plugin is not installed (apt-get install uwsgi-plugin-python3)';
}

export function uwsgiVersion(): string | null {
  if (!which('uwsgi')) return null;
  return spawnSync('uwsgi', ['--version'], { encoding: 'utf8' }).stdout.trim() || null;
}

/** `own/hono`: a framework app on the server its users run without tsgi (bench/servers/own.mjs). */
export function ownPoint(app: AppSpec): PointDef {
  const launcher = path.join(SERVERS_DIR, 'own.mjs');
  return {
    id: `own/${app.name}`,
    kind: 'own',
    label: app.own!.label,
    app,
    processes: 1,
    threads: 1,
    async: 1,
    protocol: 'http',
    missing: () =>
      fs.existsSync(launcher) ? appPackagesMissing(app) : `${launcher} is not present in this installation`,
    start: (ctx) =>
      direct(ctx, `own-${app.name}`, (port) => [NODE, path.relative(ROOT, launcher), `127.0.0.1:${port}`, app.name]),
  };
}

/** The baseline points for one app. `processes` lists the process counts of the matrix. */
export function baselinePoints(
  app: AppSpec,
  m: Pick<Matrix, 'processes' | 'protocol'>,
  nginxMissing: () => string | null,
): PointDef[] {
  const out: PointDef[] = [];
  // A framework app's baseline is its own server, over HTTP like its users run it.
  if (app.own) return m.protocol.includes('http') ? [ownPoint(app)] : [];
  const common = { app, threads: 1, async: 1 };
  const serversMissing = (): string | null =>
    fs.existsSync(path.join(SERVERS_DIR, 'node-http.mjs'))
      ? null
      : `${SERVERS_DIR} is not present in this installation`;
  const nodeHttp =
    (p: number): ((port: number) => string[]) =>
    (port) => [NODE, 'bench/servers/node-http.mjs', `127.0.0.1:${port}`, app.baseline!, String(p)];
  if (!app.baseline) return out;
  if (m.protocol.includes('http')) {
    out.push({
      ...common,
      id: `node-http/${app.name}`,
      kind: 'node-http',
      label: 'node:http, 1 process',
      processes: 1,
      protocol: 'http',
      missing: serversMissing,
      start: (ctx) => direct(ctx, `node-http-${app.name}`, nodeHttp(1)),
    });
    for (const p of m.processes.filter((n) => n > 1)) {
      out.push({
        ...common,
        id: `node-cluster/${app.name}/p${p}`,
        kind: 'node-cluster',
        label: `node:http cluster, ${p} processes`,
        processes: p,
        protocol: 'http',
        missing: serversMissing,
        start: (ctx) => direct(ctx, `node-cluster-${app.name}-${p}`, nodeHttp(p)),
        async honoured(s) {
          // The primary plus p workers.
          await sleep(300);
          const n = groupPids(s.handles[0]!.handle.pid).length;
          return n >= p + 1 ? null : `cluster has ${n - 1} workers, expected ${p}`;
        },
      });
    }
    out.push({
      ...common,
      id: `uws/${app.name}`,
      kind: 'uws',
      label: 'uWebSockets.js (native), 1 process',
      processes: 1,
      protocol: 'http',
      missing: serversMissing,
      start: (ctx) =>
        direct(ctx, `uws-${app.name}`, (port) => [NODE, 'bench/servers/uws.mjs', `127.0.0.1:${port}`, app.baseline!]),
    });
  }
  if (m.protocol.includes('uwsgi') && app.pythonFile) {
    for (const p of m.processes) {
      out.push({
        ...common,
        id: `uwsgi/${app.name}/p${p}`,
        kind: 'uwsgi',
        label: `nginx → uWSGI 2.0 (Python), ${p} process${p > 1 ? 'es' : ''}`,
        processes: p,
        protocol: 'uwsgi',
        missing: () =>
          nginxMissing() ??
          (which('uwsgi')
            ? uwsgiPluginMissing()
            : 'uwsgi is not installed (apt-get install uwsgi uwsgi-plugin-python3)'),
        start: (ctx) =>
          viaNginx(ctx, `uwsgi-${app.name}-${p}`, (port) => [
            'uwsgi',
            '--plugins',
            'python3',
            '--socket',
            `127.0.0.1:${port}`,
            '--wsgi-file',
            app.pythonFile!,
            '--disable-logging',
            ...(p > 1 ? ['--master', '--processes', String(p)] : []),
          ]),
      });
    }
  }
  if (m.protocol.includes('router') && app.pythonFile) {
    // uWSGI's router keeps clients alive only with --http-keepalive (tsgi's does by default).
    for (const p of m.processes) {
      out.push({
        ...common,
        id: `uwsgi-router/${app.name}/p${p}`,
        kind: 'uwsgi',
        label: `uWSGI 2.0 --http router (Python), ${p} process${p > 1 ? 'es' : ''}`,
        processes: p,
        protocol: 'router',
        missing: () =>
          which('uwsgi') ? uwsgiPluginMissing() : 'uwsgi is not installed (apt-get install uwsgi uwsgi-plugin-python3)',
        start: (ctx) =>
          direct(ctx, `uwsgi-router-${app.name}-${p}`, (port) => [
            'uwsgi',
            '--plugins',
            'http,python3',
            '--http',
            `127.0.0.1:${port}`,
            '--http-keepalive',
            '--wsgi-file',
            app.pythonFile!,
            '--disable-logging',
            ...(p > 1 ? ['--master', '--processes', String(p)] : []),
          ]),
      });
    }
  }
  return out;
}
