// A private nginx for the integration tests: loopback only, its own prefix in a temp dir (config,
// temp paths, error log, pid file), Debian's stock params files, foreground (`daemon off`), one
// process (`master_process off`, so it keeps the invoking user and can reach UNIX sockets in
// private temp dirs). Throws with the reason when nginx is missing or does not start: tests that
// need nginx must fail, never skip silently.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { nginxConfText } from '../../../src/bench/nginx';

export type Protocol = 'uwsgi' | 'fastcgi' | 'scgi' | 'proxy';

export interface NginxOptions {
  /** Upstream address: "127.0.0.1:9090" or "unix:/path/to.sock". */
  upstream: string;
  /** Which `*_pass` to use (default uwsgi: `include /etc/nginx/uwsgi_params; uwsgi_pass ADDR;`). */
  protocol?: Protocol;
  /** Replace the whole body of `location / { … }` (then `upstream`/`protocol` are only recorded). */
  locationBody?: string;
  /** Extra directives for the `http { }` block (e.g. `client_max_body_size 10m;`). */
  httpExtra?: string;
  /** nginx binary (default /usr/sbin/nginx, else `nginx` on PATH). */
  nginxBinary?: string;
  /** How long to wait for the port to open (default 10 s). */
  timeoutMs?: number;
}

export interface NginxHandle {
  /** The loopback port nginx listens on (127.0.0.1). */
  port: number;
  /** The private prefix directory (nginx.conf, error.log, temp dirs). */
  prefix: string;
  pid: number;
  /** The generated nginx.conf text. */
  config: string;
  /** Current contents of nginx's error log (for assertions and failure messages). */
  errorLog(): string;
  /** Stop nginx (SIGQUIT, then SIGKILL after 5 s) and remove the prefix directory. */
  stop(): Promise<void>;
}

const PARAMS_DIR = '/etc/nginx';

const PASS: Record<Protocol, (addr: string) => string> = {
  uwsgi: (a) => `include ${PARAMS_DIR}/uwsgi_params;\n            uwsgi_pass ${a};`,
  fastcgi: (a) => `include ${PARAMS_DIR}/fastcgi_params;\n            fastcgi_pass ${a};`,
  scgi: (a) => `include ${PARAMS_DIR}/scgi_params;\n            scgi_pass ${a};`,
  proxy: (a) => `proxy_http_version 1.1;\n            proxy_pass http://${a};`,
};

export function findNginx(explicit?: string): string {
  const candidates = explicit ? [explicit] : ['/usr/sbin/nginx', ...pathCandidates('nginx')];
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  throw new Error(
    `nginx is not installed (looked for ${candidates.join(', ')}): the integration tests need it; ` +
      'install it with `apt-get install nginx` (see .ci/run)',
  );
}

function pathCandidates(cmd: string): string[] {
  return (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((d) => path.join(d, cmd));
}

export function nginxConfig(o: { prefix: string; port: number; location: string; httpExtra?: string }): string {
  return nginxConfText({
    prefix: o.prefix,
    port: o.port,
    location: o.location,
    generatedBy: 'test/integration/helpers/nginx.ts',
    masterProcess: false,
    errorLogLevel: 'info',
    workerConnections: 1024,
    httpExtra: o.httpExtra ? [o.httpExtra] : [],
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readOr(file: string, dflt = ''): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return dflt;
  }
}

/** Start a private nginx; resolves once it accepts connections on 127.0.0.1:port. */
export async function startNginx(opts: NginxOptions): Promise<NginxHandle> {
  const bin = findNginx(opts.nginxBinary);
  if (!opts.locationBody) {
    const paramsFile = `${PARAMS_DIR}/${opts.protocol === 'fastcgi' ? 'fastcgi' : opts.protocol === 'scgi' ? 'scgi' : 'uwsgi'}_params`;
    if ((opts.protocol ?? 'uwsgi') !== 'proxy' && !fs.existsSync(paramsFile)) {
      throw new Error(`${paramsFile} is missing: Debian's nginx-common package ships it (apt-get install nginx)`);
    }
  }
  const location = opts.locationBody ?? PASS[opts.protocol ?? 'uwsgi'](opts.upstream);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let lastError = '';
  // The port is picked by binding to 0 and releasing it; another process can grab it in between,
  // so an "address already in use" start is retried with a new port.
  for (let attempt = 0; attempt < 3; attempt++) {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-nginx-'));
    const port = await freePort();
    const config = nginxConfig({ prefix, port, location, httpExtra: opts.httpExtra });
    const confPath = path.join(prefix, 'nginx.conf');
    fs.writeFileSync(confPath, config);
    const errPath = path.join(prefix, 'error.log');
    const child: ChildProcess = spawn(bin, ['-p', prefix, '-e', errPath, '-c', confPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let exited: { code: number | null; signal: NodeJS.Signals | null; error?: string } | null = null;
    const exitPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        resolve();
      });
      child.once('error', (e) => {
        exited = { code: null, signal: null, error: e.message };
        resolve();
      });
    });

    const stop = async (): Promise<void> => {
      if (!exited && child.pid) {
        try {
          process.kill(child.pid, 'SIGQUIT');
        } catch {
          /* gone */
        }
        let timer: NodeJS.Timeout | undefined;
        const t = await Promise.race([
          exitPromise.then(() => 'done'),
          new Promise((r) => {
            timer = setTimeout(() => r('timeout'), 5000);
          }),
        ]);
        clearTimeout(timer);
        if (t === 'timeout') {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          await exitPromise;
        }
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    };

    const deadline = Date.now() + timeoutMs;
    let up = false;
    while (Date.now() < deadline && !exited) {
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await sleep(25);
    }
    if (up && !exited) {
      child.stderr?.removeAllListeners('data');
      child.stderr?.resume();
      // Do not keep the test process alive for nginx's sake, but never leave it behind either.
      child.unref();
      (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
      const pid = child.pid!;
      const reap = () => {
        if (!exited) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      };
      process.once('exit', reap);
      exitPromise.then(() => process.removeListener('exit', reap));
      return {
        port,
        prefix,
        pid: child.pid!,
        config,
        errorLog: () => readOr(errPath),
        stop,
      };
    }
    const why = exited
      ? `nginx exited (${JSON.stringify(exited)})`
      : `nginx did not open 127.0.0.1:${port} within ${timeoutMs} ms`;
    const log = `${stderr}${readOr(errPath)}`.trim();
    lastError = `${why}: ${log || '(no output)'}\n--- config ---\n${config}`;
    await stop();
    if (!/Address already in use/.test(log)) break;
  }
  throw new Error(`could not start nginx: ${lastError}`);
}
