// The bench apps (bench/apps/): what to request from each and what a correct answer is. The
// harness checks one answer from every server before measuring it: a fast 502 is not a result.
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { FRAMEWORK_APPS, type FrameworkAppName } from './matrix';

/** The package root (dist/bench/ → ../..). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const APPS_DIR = path.join(ROOT, 'bench', 'apps');
export const SERVERS_DIR = path.join(ROOT, 'bench', 'servers');

export interface AppSpec {
  /** `hello`, `json`, … or `custom` for --wsgi-file/--module. */
  name: string;
  description: string;
  method: 'GET' | 'POST';
  body?: Buffer;
  headers?: Record<string, string>;
  /** The exact body every server must answer, or null to accept any 2xx answer. */
  expect: Buffer | null;
  /** tsgi options that load the app. */
  tsgiArgs: string[];
  /** The Python twin for uWSGI, or null. */
  pythonFile: string | null;
  /** The name of the node:http / uWS twin in bench/apps/baselines.mjs, or null. */
  baseline: string | null;
  /** A framework app: the server its users run without tsgi (bench/servers/own.mjs), or null. */
  own?: { label: string } | null;
  /** npm packages the app imports (devDependencies: absent from an installed tsgi). */
  packages?: string[];
}

interface Shared {
  jsonDocument(): unknown;
  cpuWork(): string;
  echoBody(): Buffer;
  SLEEP_MS: number;
  CPU_ITERATIONS: number;
  ECHO_BYTES: number;
}

function shared(): Shared {
  return require(path.join(APPS_DIR, 'shared.js')) as Shared;
}

export function benchAppsMissing(): string | null {
  return fs.existsSync(path.join(APPS_DIR, 'shared.js'))
    ? null
    : `${APPS_DIR} is not present in this installation (bench/ ships with the repository)`;
}

const rel = (p: string): string => path.relative(ROOT, p) || '.';

/** One of the built-in bench apps. */
export function benchApp(name: string): AppSpec {
  const s = shared();
  const file = (f: string): string => rel(path.join(APPS_DIR, f));
  const py = (n: string): string => file(`${n}_wsgi.py`);
  const base = {
    tsgiArgs: ['--wsgi-file', file(`${name}.js`)],
    pythonFile: py(name),
    baseline: name,
    method: 'GET' as const,
  };
  switch (name) {
    case 'hello':
      return { ...base, name, description: 'hello world (11 bytes, text/plain)', expect: Buffer.from('Hello World') };
    case 'json':
      return {
        ...base,
        name,
        description: '~1 KB JSON document built and serialised per request',
        expect: Buffer.from(JSON.stringify(s.jsonDocument())),
      };
    case 'sleep':
      return {
        ...base,
        name,
        description: `awaits a ${s.SLEEP_MS} ms timer, then hello world`,
        expect: Buffer.from('Hello World'),
      };
    case 'cpu':
      return {
        ...base,
        name,
        description: `~1 ms of CPU per request (PBKDF2-SHA256, ${s.CPU_ITERATIONS} iterations)`,
        expect: Buffer.from(s.cpuWork()),
      };
    case 'echo': {
      const body = s.echoBody();
      return {
        ...base,
        name,
        description: `POST of ${s.ECHO_BYTES / 1024} KiB, echoed back`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream' },
        expect: body,
      };
    }
    default:
      if (isFrameworkApp(name)) return frameworkApp(name);
      throw new Error(`unknown bench app ${name}`);
  }
}

/**
 * The framework apps (bench/apps/*.mjs): what people write, served by tsgi and by the server
 * they would otherwise run (bench/servers/own.mjs). Keys are the app names.
 */
const FRAMEWORKS: Record<
  FrameworkAppName,
  { description: string; own: string; packages: string[]; callable?: string; json?: boolean }
> = {
  fetch: {
    description: "a bare fetch handler, `new Response('Hello World')`",
    own: 'node:http, the same answer',
    packages: [],
  },
  hono: {
    description: "Hono 4 hello world, `c.text('Hello World')`",
    own: '@hono/node-server',
    packages: ['hono', '@hono/node-server'],
  },
  'hono-json': {
    description: "Hono 4, `c.json()` of the `json` app's document (989 bytes)",
    own: '@hono/node-server',
    packages: ['hono', '@hono/node-server'],
    json: true,
  },
  express: {
    description: "Express 5 hello world, `res.send('Hello World')`",
    own: 'Express app.listen()',
    packages: ['express'],
    callable: 'app',
  },
  koa: {
    description: "Koa 3 hello world, `ctx.body = 'Hello World'`",
    own: 'Koa app.listen()',
    packages: ['koa'],
    callable: 'app',
  },
  fastify: {
    description: "Fastify 5 hello world, `async () => 'Hello World'`",
    own: 'fastify.listen()',
    packages: ['fastify'],
    callable: 'app',
  },
};

export const isFrameworkApp = (name: string): name is FrameworkAppName =>
  (FRAMEWORK_APPS as readonly string[]).includes(name);

/** A framework app: tsgi loads bench/apps/NAME.mjs; its own server is bench/servers/own.mjs NAME. */
export function frameworkApp(name: string): AppSpec {
  if (!isFrameworkApp(name)) throw new Error(`unknown framework app ${name}`);
  const f = FRAMEWORKS[name];
  const tsgiArgs = ['--wsgi-file', rel(path.join(APPS_DIR, `${name}.mjs`))];
  if (f.callable) tsgiArgs.push('--callable', f.callable);
  return {
    name,
    description: f.description,
    method: 'GET',
    tsgiArgs,
    pythonFile: null,
    baseline: null,
    expect: Buffer.from(f.json ? JSON.stringify(shared().jsonDocument()) : 'Hello World'),
    own: { label: f.own },
    packages: f.packages,
  };
}

/** Why an app cannot be loaded here (a package it imports is not installed), or null. */
export function appPackagesMissing(app: AppSpec): string | null {
  const req = createRequire(path.join(APPS_DIR, 'package-probe.js'));
  const absent = (app.packages ?? []).filter((p) => {
    try {
      req.resolve(p);
      return false;
    } catch {
      return true;
    }
  });
  return absent.length ? `${absent.join(', ')} not installed (devDependencies of the repository: npm install)` : null;
}

/** A user's app: tsgi only, any 2xx answer accepted. */
export function customApp(tsgiArgs: string[], label: string): AppSpec {
  return {
    name: 'custom',
    description: label,
    method: 'GET',
    expect: null,
    tsgiArgs,
    pythonFile: null,
    baseline: null,
  };
}

export interface Verified {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: number;
}

/** One request as the load generator will send it; rejects unless the answer is the expected one. */
export function verifyApp(url: string, app: AppSpec, timeoutMs = 5000): Promise<Verified> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...app.headers };
    if (app.body) headers['content-length'] = app.body.length;
    const req = http.request(url, { method: app.method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        const problems: string[] = [];
        if (app.expect === null ? status < 200 || status > 299 : status !== 200) problems.push(`status ${status}`);
        if (app.expect !== null && !body.equals(app.expect)) {
          problems.push(
            `body of ${body.length} bytes ${JSON.stringify(body.subarray(0, 60).toString('latin1'))} differs from the expected ${app.expect.length} bytes`,
          );
        }
        if (problems.length) reject(new Error(`unexpected answer from ${url}: ${problems.join(', ')}`));
        else resolve({ status, headers: res.headers, bytes: body.length });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(app.body);
  });
}

/** bench/hello.mjs's check: 200, text/plain (or `contentType`), "Hello World". */
export async function verifyHello(
  url: string,
  { contentType = /^text\/plain\b/ }: { contentType?: RegExp } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const app = customApp([], 'hello');
  app.expect = Buffer.from('Hello World');
  const v = await verifyApp(url, app);
  const ct = String(v.headers['content-type'] ?? '');
  if (!contentType.test(ct)) throw new Error(`unexpected answer from ${url}: content-type ${JSON.stringify(ct)}`);
  return { status: v.status, headers: v.headers };
}
