// Builds the environ object of one request from what native delivered: one latin1 `blob`
// and 4 offsets per var in the shared `meta` array (see src/native/types.ts). Hot path: one
// object, keys assigned in a stable order, values are substrings of the blob.

import { RequestFlags, type Transport } from '../native/types';
import { ShapeCache } from './environ-shapes';
import type { TsgiInput } from './input';

/** The `tsgi.errors` sink: each write goes to the server log. */
export interface ErrorSink {
  write(text: string): void;
  writelines(lines: Iterable<string>): void;
  flush(): void;
}

/** Per-dispatcher constants copied into every environ. */
export interface EnvironContext {
  readonly errors: ErrorSink;
  readonly version: readonly [number, number];
  readonly multithread: boolean;
  readonly multiprocess: boolean;
  readonly workerId: number;
  readonly coreId: number;
  /** Compiled environ builders for recurring var-name sequences (environ-shapes.ts). */
  readonly shapes: ShapeCache;
}

/** The environ handed to a gateway callable. Values of the request vars are strings. */
export type Environ = Record<string, unknown>;

/**
 * uwsgi vars that uWSGI acts on ("magic" vars). tsgi passes them to the app as plain strings
 * and never loads code, sets environment variables or reads files because of them.
 */
export const MAGIC_VARS: readonly string[] = Object.freeze([
  'UWSGI_FILE',
  'UWSGI_SCRIPT',
  'UWSGI_MODULE',
  'UWSGI_CALLABLE',
  'UWSGI_SETENV',
  'UWSGI_POSTFILE',
  'UWSGI_CHDIR',
  'UWSGI_HOME',
  'UWSGI_PYHOME',
  'UWSGI_TOUCH_RELOAD',
  'UWSGI_APPID',
  'UWSGI_CACHE_GET',
]);

/** A `tsgi.errors` sink writing to `transport.log`, one log line per line of text. */
export function createErrorSink(transport: Transport): ErrorSink {
  const sink: ErrorSink = {
    write(text: string): void {
      let s = String(text);
      if (s.length === 0) return;
      if (s.charCodeAt(s.length - 1) === 10) s = s.slice(0, -1);
      let start = 0;
      for (;;) {
        const nl = s.indexOf('\n', start);
        if (nl < 0) {
          transport.log(s.slice(start));
          return;
        }
        transport.log(s.slice(start, nl));
        start = nl + 1;
      }
    },
    writelines(lines: Iterable<string>): void {
      for (const line of lines) sink.write(line);
    },
    flush(): void {},
  };
  return Object.freeze(sink);
}

export function createEnvironContext(
  transport: Transport,
  options: { workerId: number; coreId: number; multithread: boolean; multiprocess: boolean },
): EnvironContext {
  return Object.freeze({
    shapes: new ShapeCache(),
    errors: createErrorSink(transport),
    version: Object.freeze([1, 0] as const),
    multithread: options.multithread,
    multiprocess: options.multiprocess,
    workerId: options.workerId,
    coreId: options.coreId,
  });
}

/** 'on' in any case, or a value starting with '1' (uWSGI's test for the HTTPS var). */
function httpsOn(v: unknown): boolean {
  if (typeof v !== 'string' || v.length === 0) return false;
  const c0 = v.charCodeAt(0);
  if (c0 === 49) return true; // '1'
  return v.length === 2 && (c0 | 32) === 111 && (v.charCodeAt(1) | 32) === 110; // "on"
}

/**
 * tsgi.url_scheme of a uwsgi request: UWSGI_SCHEME when the peer sent a non-empty one;
 * else "https" when HTTPS is "on" or "1" (what uWSGI does); else REQUEST_SCHEME when it is
 * "http" or "https" (nginx's uwsgi_params sends it); else "http".
 */
export function uwsgiScheme(env: Environ): string {
  const scheme = env['UWSGI_SCHEME'];
  if (typeof scheme === 'string' && scheme.length > 0) return scheme;
  if (httpsOn(env['HTTPS'])) return 'https';
  const rs = env['REQUEST_SCHEME'];
  if (rs === 'https' || rs === 'HTTPS') return 'https';
  return 'http';
}

/**
 * The environ of one request: the vars in order (a later duplicate overwrites an earlier
 * one, keeping the earlier one's position), then the tsgi.* keys, in that order. `meta` is
 * read only during this call. A recurring sequence of var names gets a compiled builder
 * (see environ-shapes.ts); the result is the same object either way.
 */
export function buildEnviron(
  flags: number,
  blob: string,
  meta: Uint32Array,
  nvars: number,
  input: TsgiInput,
  ctx: EnvironContext,
): Environ {
  const sid = flags >>> RequestFlags.ShapeShift;
  if (sid !== 0) {
    let build = ctx.shapes.byId[sid];
    if (build === undefined) build = ctx.shapes.compileId(sid, blob, meta, nvars);
    if (build !== null) {
      const env = build(blob, meta, input, ctx);
      if ((flags & RequestFlags.Uwsgi) !== 0) env['tsgi.url_scheme'] = uwsgiScheme(env);
      return env;
    }
    return buildEnvironSlow(flags, blob, meta, nvars, input, ctx);
  }
  const shape = ctx.shapes.find(blob, meta, nvars);
  if (shape === undefined) {
    const env = buildEnvironSlow(flags, blob, meta, nvars, input, ctx);
    ctx.shapes.sighted(blob, meta, nvars);
    return env;
  }
  shape.hits++;
  const env = shape.build(blob, meta, input, ctx);
  if ((flags & RequestFlags.Uwsgi) !== 0) env['tsgi.url_scheme'] = uwsgiScheme(env);
  return env;
}

/** buildEnviron without compiled shapes: one object, properties assigned in order. */
export function buildEnvironSlow(
  flags: number,
  blob: string,
  meta: Uint32Array,
  nvars: number,
  input: TsgiInput,
  ctx: EnvironContext,
): Environ {
  const env: Environ = {};
  for (let i = 0, o = 0; i < nvars; i++, o += 4) {
    env[blob.substring(meta[o]!, meta[o + 1]!)] = blob.substring(meta[o + 2]!, meta[o + 3]!);
  }
  env['tsgi.input'] = input;
  env['tsgi.url_scheme'] = (flags & RequestFlags.Uwsgi) !== 0 ? uwsgiScheme(env) : 'http';
  env['tsgi.errors'] = ctx.errors;
  env['tsgi.version'] = ctx.version;
  env['tsgi.multithread'] = ctx.multithread;
  env['tsgi.multiprocess'] = ctx.multiprocess;
  env['tsgi.run_once'] = false;
  env['tsgi.worker_id'] = ctx.workerId;
  env['tsgi.core_id'] = ctx.coreId;
  return env;
}
