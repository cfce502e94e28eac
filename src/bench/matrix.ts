// The benchmark matrix: `--matrix processes=1,2 threads=1,2 async=1,100 protocol=http,uwsgi`
// (optionally app=hello,json) parsed, validated and expanded into its cartesian product.

/**
 * http: --http-socket; uwsgi: nginx uwsgi_pass → --socket; fastcgi: nginx fastcgi_pass with
 * fastcgi_keep_conn and an upstream keepalive pool → --fastcgi-socket; scgi: nginx scgi_pass →
 * --scgi-socket; router: --http (the router thread of the master in front).
 */
export const PROTOCOLS = ['http', 'uwsgi', 'fastcgi', 'scgi', 'router'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const BENCH_APPS = ['hello', 'json', 'sleep', 'cpu', 'echo'] as const;
export type BenchAppName = (typeof BENCH_APPS)[number];

/** Apps written with a framework, each also measured on its own server (`own/APP` points). */
export const FRAMEWORK_APPS = ['fetch', 'hono', 'hono-json', 'express', 'koa', 'fastify'] as const;
export type FrameworkAppName = (typeof FRAMEWORK_APPS)[number];

const KNOWN_APPS: readonly string[] = [...BENCH_APPS, ...FRAMEWORK_APPS];

export interface Matrix {
  app: string[];
  processes: number[];
  threads: number[];
  async: number[];
  protocol: Protocol[];
}

export interface TsgiConfig {
  app: string;
  processes: number;
  threads: number;
  async: number;
  protocol: Protocol;
}

export const DIMENSIONS = ['app', 'processes', 'threads', 'async', 'protocol'] as const;
type Dimension = (typeof DIMENSIONS)[number];

const LIMITS: Record<'processes' | 'threads' | 'async', number> = { processes: 256, threads: 256, async: 10_000 };

export class MatrixError extends Error {
  override name = 'MatrixError';
}

export function defaultMatrix(): Matrix {
  return { app: ['hello'], processes: [1], threads: [1], async: [1], protocol: ['http'] };
}

/**
 * Parse matrix tokens ("name=v1,v2"; a token may also hold several space-separated ones).
 * Dimensions not given keep their defaults (`base`). Throws MatrixError with a message that
 * names the token at fault.
 */
export function parseMatrix(tokens: string[], base: Matrix = defaultMatrix()): Matrix {
  const out: Matrix = { ...base };
  const seen = new Set<string>();
  const parts = tokens.flatMap((t) => t.trim().split(/\s+/)).filter(Boolean);
  if (!parts.length) throw new MatrixError('--matrix needs at least one NAME=V1,V2 term');
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new MatrixError(`matrix term ${JSON.stringify(part)} is not NAME=V1,V2,...`);
    const name = part.slice(0, eq);
    const raw = part.slice(eq + 1);
    if (!(DIMENSIONS as readonly string[]).includes(name)) {
      throw new MatrixError(`unknown matrix dimension ${JSON.stringify(name)} (known: ${DIMENSIONS.join(', ')})`);
    }
    if (seen.has(name)) throw new MatrixError(`matrix dimension ${name} given twice`);
    seen.add(name);
    const values = raw.split(',').map((v) => v.trim());
    if (!raw || values.some((v) => v === '')) throw new MatrixError(`${name}=${raw}: empty value`);
    if (new Set(values).size !== values.length) throw new MatrixError(`${name}=${raw}: a value is repeated`);
    const dim = name as Dimension;
    if (dim === 'protocol') {
      for (const v of values) {
        if (!(PROTOCOLS as readonly string[]).includes(v)) {
          throw new MatrixError(`protocol=${v}: unknown protocol (known: ${PROTOCOLS.join(', ')})`);
        }
      }
      out.protocol = values as Protocol[];
    } else if (dim === 'app') {
      for (const v of values) {
        if (!KNOWN_APPS.includes(v)) {
          throw new MatrixError(
            `app=${v}: unknown bench app (known: ${KNOWN_APPS.join(', ')}; use --wsgi-file for your own)`,
          );
        }
      }
      out.app = values;
    } else {
      out[dim] = values.map((v) => {
        if (!/^\d+$/.test(v)) throw new MatrixError(`${dim}=${v}: not a whole number`);
        const n = Number(v);
        if (n < 1 || n > LIMITS[dim]) throw new MatrixError(`${dim}=${v}: must be from 1 to ${LIMITS[dim]}`);
        return n;
      });
    }
  }
  return out;
}

/** The cartesian product, in a stable order: app, protocol, processes, threads, async. */
export function expandMatrix(m: Matrix): TsgiConfig[] {
  const out: TsgiConfig[] = [];
  for (const app of m.app) {
    for (const protocol of m.protocol) {
      for (const processes of m.processes) {
        for (const threads of m.threads) {
          for (const async of m.async) out.push({ app, processes, threads, async, protocol });
        }
      }
    }
  }
  return out;
}

/** `tsgi/hello/p1-t2-a1/http`: a point id, also what --only matches. */
export function tsgiPointId(c: TsgiConfig): string {
  return `tsgi/${c.app}/p${c.processes}-t${c.threads}-a${c.async}/${c.protocol}`;
}

/** The matrix as the `--matrix` argument that reproduces it. */
export function formatMatrix(m: Matrix): string {
  return DIMENSIONS.map((d) => `${d}=${m[d].join(',')}`).join(' ');
}

/**
 * `--only a,b`: keep the ids that contain any of the comma-separated terms (`tsgi`, `uws`,
 * `p2-t1`, `/uwsgi` …). Throws when a term matches nothing, so a typo never measures nothing.
 */
export function selectOnly<T extends { id: string }>(points: T[], only: string | undefined): T[] {
  if (!only) return points;
  const terms = only
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of terms) {
    if (!points.some((p) => p.id.includes(t))) {
      throw new MatrixError(`--only ${t}: matches no point (points: ${points.map((p) => p.id).join(', ')})`);
    }
  }
  return points.filter((p) => terms.some((t) => p.id.includes(t)));
}
