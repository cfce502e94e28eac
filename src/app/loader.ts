// Loads the app named by --wsgi-file or --module and picks the export to serve. JavaScript
// (.js .mjs .cjs, ESM or CommonJS) is imported by Node itself; TypeScript (.ts .mts .cts), and
// JavaScript that imports TypeScript, goes through tsx's scoped ESM import, so TypeScript needs
// no build step and nothing is registered globally.

import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError } from '../errors';
import type { FetchFunction } from './fetch';
import { deferFetchGlobals, loadFetchLayer } from './fetch-lazy';
import type { GatewayApp } from './gateway';
import { recognizeNodeApp, serverHandler } from './node/detect';
import type { NodeHandler } from './node/exchange';
import { installListenTakeover, takenServer, takeoverMark, waitForListen } from './node/takeover';

export type AppType = 'auto' | 'gateway' | 'fetch' | 'node';

export interface LoadAppOptions {
  /** --wsgi-file / --file / --app: a path, resolved against chdir (or the cwd). */
  wsgiFile?: string;
  /** --module: `name[:callable]`, a module specifier resolved from chdir (or the cwd). */
  module?: string;
  /** --callable (default "application"); a ":callable" suffix of `module` wins. */
  callable?: string;
  chdir?: string;
  appType?: AppType;
  /** Where the listen() takeover line goes (default: stderr). */
  log?: (line: string) => void;
  /** How long to wait for a late server.listen() when no export is usable (default 3000 ms). */
  listenWaitMs?: number;
}

export type LoadedApp =
  | { kind: 'gateway'; fn: GatewayApp; file: string; exportName: string }
  | { kind: 'fetch'; handler: FetchFunction; thisArg: unknown; file: string; exportName: string }
  | { kind: 'node'; handler: NodeHandler; label: string; file: string; exportName: string; server?: HttpServer };

const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A file path with Node-like probing: exact, + extension, then dir/index.<ext>. */
function probe(p: string): string | null {
  if (isFile(p)) return p;
  for (const ext of EXTENSIONS) if (isFile(p + ext)) return p + ext;
  if (existsSync(p)) {
    const pkgMain = packageEntry(p);
    if (pkgMain !== null) return pkgMain;
    for (const ext of EXTENSIONS) if (isFile(path.join(p, 'index' + ext))) return path.join(p, 'index' + ext);
  }
  return null;
}

/** The ESM-or-main entry of a package directory (exports "." import/node/default, then main). */
function packageEntry(dir: string): string | null {
  const pj = path.join(dir, 'package.json');
  if (!isFile(pj)) return null;
  let pkg: { exports?: unknown; main?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pj, 'utf8')) as typeof pkg;
  } catch {
    return null;
  }
  let target: unknown = pkg.exports;
  if (target !== null && typeof target === 'object' && !Array.isArray(target) && '.' in target) {
    target = (target as Record<string, unknown>)['.'];
  }
  for (let depth = 0; depth < 4 && target !== null && typeof target === 'object' && !Array.isArray(target); depth++) {
    const t = target as Record<string, unknown>;
    target = t['import'] ?? t['node'] ?? t['default'] ?? t['require'];
  }
  if (typeof target === 'string') {
    const p = probe(path.resolve(dir, target));
    if (p !== null) return p;
  }
  if (typeof pkg.main === 'string') {
    const p = probe(path.resolve(dir, pkg.main));
    if (p !== null) return p;
  }
  return null;
}

/** Resolves a package specifier the way `require` would, with an ESM-only fallback. */
function resolvePackage(spec: string, base: string): string | null {
  try {
    return createRequire(path.join(base, '__tsgi_resolve__.js')).resolve(spec);
  } catch {
    // ESM-only packages ("exports" without a "require" condition): walk node_modules.
  }
  const parts = spec.split('/');
  const nameLen = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLen).join('/');
  const sub = parts.slice(nameLen).join('/');
  for (let dir = base; ; dir = path.dirname(dir)) {
    const pkgDir = path.join(dir, 'node_modules', name);
    if (existsSync(pkgDir)) {
      const found = sub.length > 0 ? probe(path.join(pkgDir, sub)) : probe(pkgDir);
      if (found !== null) return found;
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * Resolves `--module spec` to a file. Order: (1) a file or directory relative to base
 * (like Python's sys.path[0] = the working directory); (2) the dotted form `pkg.sub` as
 * `pkg/sub` relative to base; (3) a package from node_modules; (4) `pkg/sub` as a package.
 */
export function resolveModule(spec: string, base: string): string | null {
  if (path.isAbsolute(spec)) return probe(spec);
  const local = probe(path.resolve(base, spec));
  if (local !== null) return local;
  if (spec.startsWith('.')) return null;
  const dotted = spec.includes('.') && !spec.includes('/') ? spec.replaceAll('.', '/') : null;
  if (dotted !== null) {
    const p = probe(path.resolve(base, dotted));
    if (p !== null) return p;
  }
  return resolvePackage(spec, base) ?? (dotted !== null ? resolvePackage(dotted, base) : null);
}

/** Splits "name:callable" (the last colon) into its parts. */
export function splitModuleSpec(spec: string): { name: string; callable?: string } {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0 || colon === spec.length - 1) return { name: spec };
  return { name: spec.slice(0, colon), callable: spec.slice(colon + 1) };
}

type TsImport = (specifier: string, parent: string) => Promise<Record<string, unknown>>;
let tsImportFn: TsImport | null = null;

/** Files Node loads itself: they never pay for tsx (its esbuild, its hooks and the module
 *  loader thread they start cost ~30 MiB per process; docs/app-contract.md, "Loading"). */
const NODE_LOADS = new Set(['.js', '.mjs', '.cjs']);

/**
 * Errors of Node's ESM loader that tsx can get past: a JavaScript entry importing a .ts file,
 * or naming it "x.js" as TypeScript sources do. Both happen while the module graph is
 * resolved, before any of it runs, so loading again through tsx runs nothing twice.
 */
function tsxCanLoad(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_MODULE_NOT_FOUND';
}

/** Imports of each file by Node's loader in this isolate so far. */
const nodeImports = new Map<string, number>();

/**
 * The URL Node's loader imports `file` from. Node keeps a module whose evaluation threw in its
 * cache and throws the same error again on the next import(): a load tried again in the same
 * isolate (a thread replaced after a failed load, src/process/threads.ts) gets a URL of its own.
 */
function nodeImportUrl(file: string): string {
  const n = (nodeImports.get(file) ?? 0) + 1;
  nodeImports.set(file, n);
  const url = pathToFileURL(file).href;
  return n === 1 ? url : `${url}?tsgi-load=${n}`;
}

async function importFile(file: string): Promise<Record<string, unknown>> {
  if (NODE_LOADS.has(path.extname(file))) {
    try {
      return (await import(nodeImportUrl(file))) as Record<string, unknown>;
    } catch (err) {
      if (!tsxCanLoad(err)) throw err;
    }
  }
  if (tsImportFn === null) {
    // The ESM build of tsx's API: its CommonJS build cannot locate its loader from dist/.
    const api = (await import('tsx/esm/api')) as unknown as { tsImport: TsImport };
    tsImportFn = api.tsImport;
  }
  // The parent is the app's own directory, not this (possibly .ts) file: tsx maps "x.js" to
  // a sibling "x.ts" when the importer is TypeScript, and the app file named must win.
  return tsImportFn(pathToFileURL(file).href, pathToFileURL(path.dirname(file) + path.sep).href);
}

function hasFetch(v: unknown): v is { fetch: FetchFunction } {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { fetch?: unknown }).fetch === 'function'
  );
}

/**
 * A default export compiled to CommonJS (tsx turns `export default x` in a .ts file outside
 * a "type": "module" package into `exports.default = x` with `__esModule`), imported as ESM,
 * arrives as `{ default: { default: x } }`: unwrap it to `x`.
 */
function unwrapDefault(def: unknown): unknown {
  for (let i = 0; i < 2 && def !== null && typeof def === 'object'; i++) {
    const o = def as Record<string, unknown>;
    if (o['default'] === undefined) break;
    if (!('__esModule' in o) && !(Object.keys(o).length === 1)) break;
    def = o['default'];
  }
  return def;
}

/** Picks the export: `callable`, else (CommonJS exports object) its `callable`, else default. */
function pickExport(
  ns: Record<string, unknown>,
  callable: string,
): { value: unknown; name: string; named: boolean } | null {
  if (ns[callable] !== undefined) return { value: ns[callable], name: callable, named: true };
  const def = unwrapDefault(ns['default']);
  if (def === undefined || def === null) return null;
  if (typeof def === 'object' && (def as Record<string, unknown>)[callable] !== undefined) {
    return { value: (def as Record<string, unknown>)[callable], name: callable, named: true };
  }
  return { value: def, name: 'default', named: false };
}

/** The names a module exported, for "no export named ..." errors. */
function exportNames(ns: Record<string, unknown>): string {
  const names = new Set(Object.keys(ns));
  const def = unwrapDefault(ns['default']);
  if (def !== null && typeof def === 'object') for (const k of Object.keys(def)) names.add(k);
  names.delete('__esModule');
  names.delete('module.exports');
  if (def === undefined || (def !== null && typeof def === 'object' && Object.keys(def).length === 0))
    names.delete('default');
  return names.size === 0 ? 'none' : [...names].join(', ');
}

/** One line for a failed import: "SyntaxError: Unexpected token ')' (at /app.js:3)". */
function describeLoadError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const lines = err.message.split('\n');
  let msg = `${err.name}: ${lines[0]}`;
  // esbuild (TypeScript) puts "file:line:col: ERROR: ..." on the second line.
  if (lines[0]!.startsWith('Transform failed') && lines[1] !== undefined) msg += ' ' + lines[1];
  // V8 syntax errors put "file:line" above the message in the stack.
  const top = err.stack?.split('\n')[0] ?? '';
  if (/:\d+$/.test(top) && !top.includes(err.message)) msg += ` (at ${top})`;
  return msg + userFrames(err);
}

/** tsgi's own compiled code (dist/), wherever the package is installed. */
const OWN_DIST = path.resolve(__dirname, '..') + path.sep;
/** Frames of Node, tsx, esbuild, Piscina or a dependency: the app's own lines are the rest. */
const FOREIGN_FRAME = /\(node:|at node:|\/node_modules\//;

/**
 * The stack frames of an import-time throw that are in the app's own files (not tsgi's,
 * Node's or a package's), one per line, with tsx's `?tsx-namespace=…` query taken off.
 */
function userFrames(err: Error): string {
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  const mine = frames.filter((l) => !FOREIGN_FRAME.test(l) && !l.includes(OWN_DIST));
  if (mine.length === 0) return '';
  return (
    '\n' +
    mine
      .slice(0, 10)
      .map((l) => l.replace(/\?tsx-namespace=[\w-]+/g, ''))
      .join('\n')
  );
}

export async function loadApp(options: LoadAppOptions): Promise<LoadedApp> {
  const base = options.chdir !== undefined ? path.resolve(options.chdir) : process.cwd();
  let callable = options.callable ?? 'application';
  let file: string | null;
  if (options.wsgiFile !== undefined) {
    const wanted = path.resolve(base, options.wsgiFile);
    file = isFile(wanted) ? wanted : null;
    if (file === null) throw new AppError('TSGI_ERR_APP_NOT_FOUND', `app file not found: ${wanted}`);
  } else if (options.module !== undefined) {
    const spec = splitModuleSpec(options.module);
    if (spec.callable !== undefined) callable = spec.callable;
    file = resolveModule(spec.name, base);
    if (file === null)
      throw new AppError('TSGI_ERR_APP_NOT_FOUND', `app module not found: ${spec.name} (from ${base})`);
  } else {
    throw new AppError('TSGI_ERR_APP_NOT_FOUND', 'no app given: use --wsgi-file PATH or --module NAME');
  }

  let ns: Record<string, unknown>;
  installListenTakeover(options.log);
  const mark = takeoverMark();
  deferFetchGlobals();
  try {
    ns = await importFile(file);
  } catch (err) {
    const msg = describeLoadError(err);
    throw new AppError('TSGI_ERR_APP_LOAD_FAILED', `loading ${file} failed: ${msg}`, { cause: err });
  }

  const appType = options.appType ?? 'auto';
  const picked = pickExport(ns, callable);
  const app = picked === null ? null : await shapeApp(picked.value, appType, file, picked.name);
  if (app?.kind === 'fetch') loadFetchLayer();
  if (app !== null) return app;
  if (picked !== null && (picked.named || appType === 'fetch' || appType === 'gateway')) {
    throw wrongShape(picked.value, picked.name, appType, file);
  }
  // No usable export: an app that called server.listen() (at import or after async setup) is
  // served through the server it created.
  if (appType === 'auto' || appType === 'node') {
    const server = takenServer(mark) ?? (await waitForListen(options.listenWaitMs ?? 3000, mark));
    if (server !== null)
      return {
        kind: 'node',
        handler: serverHandler(server),
        label: 'http.Server from listen()',
        file,
        exportName: 'listen()',
        server,
      };
  }
  if (picked !== null) throw wrongShape(picked.value, picked.name, appType, file);
  throw new AppError(
    'TSGI_ERR_CALLABLE_NOT_FOUND',
    `${file} has no export named "${callable}" and no default export, and did not call server.listen(); exports found: ${exportNames(ns)}`,
  );
}

/** The app an export is for the app type, or null when it has another shape. */
async function shapeApp(value: unknown, appType: AppType, file: string, name: string): Promise<LoadedApp | null> {
  if (appType === 'fetch') {
    if (hasFetch(value)) return { kind: 'fetch', handler: value.fetch, thisArg: value, file, exportName: name };
    if (typeof value === 'function')
      return { kind: 'fetch', handler: value as FetchFunction, thisArg: undefined, file, exportName: name };
    return null;
  }
  if (appType === 'gateway') {
    return typeof value === 'function' ? { kind: 'gateway', fn: value as GatewayApp, file, exportName: name } : null;
  }
  const node = await recognizeNodeApp(value, appType === 'node');
  if (node !== null)
    return { kind: 'node', handler: node.handler, label: node.label, file, exportName: name, server: node.server };
  if (appType === 'node') return null;
  if (typeof value === 'function') return { kind: 'gateway', fn: value as GatewayApp, file, exportName: name };
  if (hasFetch(value)) return { kind: 'fetch', handler: value.fetch, thisArg: value, file, exportName: name };
  return null;
}

function wrongShape(value: unknown, name: string, appType: AppType, file: string): AppError {
  const what = value === null ? 'null' : typeof value;
  const expected =
    appType === 'gateway'
      ? 'a function'
      : appType === 'fetch'
        ? 'a function or an object with a fetch method'
        : appType === 'node'
          ? 'a (req, res) function, an Express/Connect/Koa app, a Fastify instance or an http.Server'
          : 'a function (gateway callable), an object with a fetch method, or a node:http app (Express, Connect, Koa, Fastify, http.Server)';
  return new AppError('TSGI_ERR_APP_LOAD_FAILED', `export "${name}" of ${file} is ${what}, expected ${expected}`);
}
