// Three (N) tsgi "hosts", each a master with 2 workers in its own network namespace, behind one
// nginx `upstream` in the front namespace (netns.ts), and the deploy steps a rolling deploy is
// made of: rewrite a host's app with a new version, then SIGHUP, a chain reload, or a full
// restart (SIGTERM, then a new master). Shared by test/integration/rolling-deploy.test.ts and
// bench/rolling-deploy.mjs.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { nginxBinary, nginxConfText } from '../nginx';
import { type ServerHandle, startServer } from '../proc';
import { createTopology, type HostNs, type Topology } from './netns';
import { type NsProcess, spawnIn } from './proc';

export type Pass = 'uwsgi' | 'http' | 'fastcgi';
export type ReloadKind = 'sighup' | 'chain' | 'restart';

export interface DeployOptions {
  /** Take the host out of nginx's upstream (`down` + reload) for the time of its reload. */
  drain?: boolean;
}

/** The port every host's tsgi listens on, at the host's own address. */
export const HOST_PORT = 8000;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'bin', 'tsgi.js');
const SOCKET_FLAG: Record<Pass, string> = { uwsgi: '--socket', http: '--http-socket', fastcgi: '--fastcgi-socket' };

/** The app every host serves: `v<N> h<i>`; a POST to /hold is held 30 s after leaving a mark file. */
export function appSource(version: number): string {
  return `// rolling-deploy app, version ${version} (written by src/bench/rolling/cluster.ts)
import fs from 'node:fs';
import path from 'node:path';
const ANSWER = 'v${version} ' + (process.env.ROLLING_HOST ?? 'h?') + '\\n';
export default {
  async fetch(req) {
    if (req.method === 'POST' && new URL(req.url).pathname === '/hold') {
      fs.writeFileSync(path.join(process.env.ROLLING_MARKS, 'post-' + process.env.ROLLING_HOST), String(process.pid));
      await new Promise((r) => setTimeout(r, 30000));
    }
    return new Response(ANSWER);
  },
};
`;
}

/** The nginx side: an upstream over every host and the `*_pass` with its retry settings. */
export function nginxUpstream(
  pass: Pass,
  hosts: HostNs[],
  down: ReadonlySet<number> = new Set(),
  failTimeout = 2,
): { httpExtra: string[]; location: string } {
  // fail_timeout 2s instead of 10s: a host marked failed during its restart comes back into
  // rotation soon, so that three hosts restarted one after the other are never all marked failed
  // at once (nginx answers 502 "no live upstreams" then, without trying any).
  const servers = hosts.map(
    (h) => `server ${h.addr}:${HOST_PORT} max_fails=1 fail_timeout=${failTimeout}s${down.has(h.index) ? ' down' : ''};`,
  );
  const keepalive = pass === 'uwsgi' ? [] : ['keepalive 16;'];
  const upstream = `upstream tsgi_hosts {\n        ${[...servers, ...keepalive].join('\n        ')}\n    }`;
  const location = {
    uwsgi: ['include /etc/nginx/uwsgi_params;', 'uwsgi_pass tsgi_hosts;', 'uwsgi_next_upstream error timeout;'],
    http: [
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      'proxy_pass http://tsgi_hosts;',
      'proxy_next_upstream error timeout;',
    ],
    fastcgi: [
      'include /etc/nginx/fastcgi_params;',
      'fastcgi_pass tsgi_hosts;',
      'fastcgi_keep_conn on;',
      'fastcgi_next_upstream error timeout;',
    ],
  }[pass];
  return { httpExtra: [upstream], location: location.join('\n            ') };
}

export interface Host {
  ns: HostNs;
  dir: string;
  proc: NsProcess;
  /** The UNIX http-socket of this host's tsgi, for checks that bypass nginx. */
  directSocket: string;
}

/** The pid of each worker slot, from the master's "spawned tsgi worker N (pid: P" lines. */
export function workerPids(output: string): number[] {
  const slots = new Map<number, number>();
  for (const m of output.matchAll(/spawned tsgi worker (\d+) \(pid: (\d+)/g)) slots.set(Number(m[1]), Number(m[2]));
  return [...slots.values()];
}

/** One GET on a new connection to a UNIX http-socket: the body, or the error. */
export function directGet(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : `status ${res.statusCode}`));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(`error ${e.message}`));
  });
}

export interface ClusterOptions {
  pass: Pass;
  /** Start the hosts with --touch-chain-reload (a chain reload needs it). */
  chain?: boolean;
  hosts?: number;
  /** nginx's `fail_timeout` for every host, in seconds (default 2). */
  failTimeout?: number;
}

export class Cluster {
  readonly hosts: Host[] = [];
  nginx: ServerHandle | undefined;
  private touches = 0;
  private readonly down = new Set<number>();

  private constructor(
    readonly opts: ClusterOptions,
    readonly topo: Topology,
    readonly dir: string,
  ) {}

  /** Namespaces, the hosts serving version 1, nginx in front. Cleans up after itself on failure. */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-rolling-'));
    let topo: Topology | undefined;
    let c: Cluster | undefined;
    try {
      topo = createTopology(opts.hosts ?? 3);
      c = new Cluster(opts, topo, dir);
      fs.mkdirSync(c.marks);
      for (const ns of topo.hosts) c.writeApp(ns.index, 1);
      await Promise.all(topo.hosts.map((ns) => c!.startHost(ns.index)));
      await c.startNginx();
      return c;
    } catch (e) {
      if (c) await c.stop();
      else {
        topo?.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      }
      throw e;
    }
  }

  get marks(): string {
    return path.join(this.dir, 'marks');
  }

  get nginxSocket(): string {
    return path.join(this.dir, 'nginx.sock');
  }

  private hostDir(i: number): string {
    return path.join(this.dir, `h${i}`);
  }

  /** Replaces host i's app file atomically (rename), as a deploy tool would. */
  writeApp(i: number, version: number): void {
    const d = this.hostDir(i);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'app.mjs.new'), appSource(version));
    fs.renameSync(path.join(d, 'app.mjs.new'), path.join(d, 'app.mjs'));
  }

  /** Starts host i's master and waits until both workers serve. */
  async startHost(i: number): Promise<Host> {
    const ns = this.topo.hosts[i - 1]!;
    const d = this.hostDir(i);
    const directSocket = path.join(d, 'direct.sock');
    const touch = path.join(d, 'reload.touch');
    if (this.opts.chain && !fs.existsSync(touch)) fs.writeFileSync(touch, '');
    const args = [
      ...[SOCKET_FLAG[this.opts.pass], `${ns.addr}:${HOST_PORT}`, '--http-socket', directSocket],
      ...['--master', '--processes', '2', '--wsgi-file', path.join(d, 'app.mjs'), '--disable-logging'],
      ...(this.opts.chain ? ['--touch-chain-reload', touch] : []),
    ];
    const proc = spawnIn([...this.topo.exec(ns.ns), process.execPath, CLI, ...args], {
      cwd: ROOT,
      env: { ROLLING_HOST: `h${i}`, ROLLING_MARKS: this.marks },
    });
    const host: Host = { ns, dir: d, proc, directSocket };
    this.hosts[i - 1] = host; // before any wait, so that stop() ends it whatever happens next
    // Serving: both workers spawned, and each has said its "ready in … pid: P (default app)".
    await proc.waitCount(/spawned tsgi worker 2/, 1);
    for (const pid of workerPids(proc.output())) await proc.waitCount(new RegExp(`pid: ${pid} \\(default app\\)`), 1);
    return host;
  }

  private writeNginxConf(prefix: string): string {
    const { httpExtra, location } = nginxUpstream(this.opts.pass, this.topo.hosts, this.down, this.opts.failTimeout);
    // A master process, as in production: `nginx -s reload` (SIGHUP) is how a host is drained.
    // Log level notice, for the master's "worker process P exited" lines a reload waits for.
    const conf = nginxConfText({
      prefix,
      port: 0,
      listen: `unix:${this.nginxSocket}`,
      location,
      generatedBy: 'src/bench/rolling/cluster.ts',
      masterProcess: true,
      errorLogLevel: 'notice',
      workerConnections: 1024,
      httpExtra,
    });
    const confPath = path.join(prefix, 'nginx.conf');
    fs.writeFileSync(confPath, conf);
    return confPath;
  }

  private async startNginx(): Promise<void> {
    const bin = nginxBinary();
    if (!bin) throw new Error('nginx is not installed (apt-get install nginx)');
    const prefix = path.join(this.dir, 'nginx');
    fs.mkdirSync(prefix);
    const confPath = this.writeNginxConf(prefix);
    const errLog = path.join(prefix, 'error.log');
    this.nginx = await startServer({
      argv: [...this.topo.exec(this.topo.front), bin, '-p', prefix, '-e', errLog, '-c', confPath],
      logFile: path.join(prefix, 'stdout.log'),
      ready: this.nginxSocket,
      timeoutMs: 60_000,
    });
  }

  /** nginx's error log (notice level: reloads and worker exits are in it too). */
  nginxLog(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'nginx', 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** The `[error]` lines of nginx's log: each an upstream attempt that failed (and was retried or not). */
  nginxErrors(): string[] {
    return this.nginxLog()
      .split('\n')
      .filter((l) => l.includes('[error]'));
  }

  /** nginx's worker pids, from the master's "start worker process P" lines, minus those that exited. */
  private nginxWorkers(): number[] {
    const log = this.nginxLog();
    const started = [...log.matchAll(/start worker process (\d+)/g)].map((m) => Number(m[1]));
    return started.filter((pid) => !new RegExp(`worker process ${pid} exited`).test(log));
  }

  /**
   * Marks host i `down` in the upstream (or back up) and reloads nginx (SIGHUP to its master, as
   * `nginx -s reload` does); resolves once the workers with the old configuration have exited,
   * so no request is sent with it any more.
   */
  async setDown(i: number, down: boolean): Promise<void> {
    if (down) this.down.add(i);
    else this.down.delete(i);
    const old = this.nginxWorkers();
    this.writeNginxConf(path.join(this.dir, 'nginx'));
    process.kill(this.nginx!.pid, 'SIGHUP');
    const deadline = Date.now() + 60_000;
    const log = (): string => this.nginxLog();
    while (!old.every((pid) => new RegExp(`worker process ${pid} exited`).test(log()))) {
      if (Date.now() > deadline)
        throw new Error(`nginx reload: old workers ${old.join(', ')} still running:\n${log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** `n` GETs straight to host i (its UNIX http-socket, not nginx), each on a new connection. */
  async direct(i: number, n = 6): Promise<string[]> {
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(await directGet(this.hosts[i - 1]!.directSocket));
    return out;
  }

  /**
   * Deploys `version` to host i: rewrites the app, reloads the host the given way, and resolves
   * once every worker the host runs was started after the rewrite.
   */
  async deploy(i: number, version: number, kind: ReloadKind, o: DeployOptions = {}): Promise<void> {
    if (o.drain) await this.setDown(i, true);
    await this.reloadHost(i, version, kind);
    if (o.drain) await this.setDown(i, false);
  }

  private async reloadHost(i: number, version: number, kind: ReloadKind): Promise<void> {
    const host = this.hosts[i - 1]!;
    const old = workerPids(host.proc.output());
    this.writeApp(i, version);
    if (kind === 'restart') {
      host.proc.signal('SIGTERM');
      const exit = await host.proc.waitExit();
      if (exit.code !== 0) throw new Error(`host ${i}: the master exited ${JSON.stringify(exit)} on SIGTERM`);
      await this.startHost(i);
      return;
    }
    if (kind === 'sighup') host.proc.signal('SIGHUP');
    else {
      // --touch-chain-reload compares modification times once a second: a time never seen before.
      const t = Date.now() / 1000 + ++this.touches * 10;
      fs.utimesSync(path.join(host.dir, 'reload.touch'), t, t);
    }
    for (const pid of old) {
      await host.proc.waitCount(new RegExp(`\\(pid: ${pid}\\) exited with code 0 \\(graceful stop\\)`), 1);
    }
  }

  /** Stops everything this cluster started (masters, nginx), then deletes the namespaces and files. */
  async stop(): Promise<void> {
    await Promise.all(this.hosts.filter(Boolean).map((h) => h.proc.stop()));
    await this.nginx?.stop();
    // Anything still inside these private namespaces was started by this cluster.
    for (const pid of this.topo.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.topo.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
