// The option table: every option tsgi accepts, its names, type, default and help line.
// Names, aliases and short letters follow uWSGI 2.0's option table (core/uwsgi.c) so that
// uWSGI command lines and ini files work unchanged. docs/config.md describes each option.

import type { OptionGroup, OptionSpec, OptionType } from './types';
import { UWSGI_OPTION_NAMES } from './uwsgi-names';

interface Def {
  aliases?: string[];
  short?: string;
  default?: unknown;
  arg?: string;
  min?: number;
  max?: number;
  clampMax?: boolean;
  choices?: string[];
  split?: boolean;
  implies?: string[];
  immediate?: boolean;
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function opt(name: string, type: OptionType, group: OptionGroup, help: string, def: Def = {}): OptionSpec {
  let dflt = def.default;
  if (dflt === undefined) {
    if (type === 'bool') dflt = false;
    else if (type === 'list' || type === 'list-address') dflt = [];
  }
  return {
    name,
    key: camel(name),
    aliases: def.aliases ?? [],
    short: def.short,
    type,
    default: dflt,
    group,
    help,
    arg: def.arg,
    min: def.min,
    max: def.max,
    clampMax: def.clampMax,
    choices: def.choices,
    split: def.split,
    implies: def.implies,
    immediate: def.immediate,
  };
}

const S: OptionGroup = 'Sockets';
const A: OptionGroup = 'Application';
const P: OptionGroup = 'Processes and concurrency';
const T: OptionGroup = 'Timeouts and limits';
const R: OptionGroup = 'Recycling and reloading';
const L: OptionGroup = 'Logging';
const ST: OptionGroup = 'Stats';
const H: OptionGroup = 'HTTP router';
const M: OptionGroup = 'Process management';
const C: OptionGroup = 'Configuration';
const I: OptionGroup = 'Information';

/** Every option, in --help order. */
export const OPTIONS: readonly OptionSpec[] = [
  // Sockets
  opt('http-socket', 'list-address', S, 'serve HTTP/1.1 directly from the workers on ADDR (repeatable)', {
    arg: 'ADDR',
  }),
  opt('socket', 'list-address', S, 'serve the uwsgi protocol on ADDR, e.g. for nginx uwsgi_pass (repeatable)', {
    aliases: ['uwsgi-socket'],
    short: 's',
    arg: 'ADDR',
  }),
  opt('fastcgi-socket', 'list-address', S, 'serve FastCGI on ADDR, for nginx fastcgi_pass (repeatable)', {
    arg: 'ADDR',
  }),
  opt('scgi-socket', 'list-address', S, 'serve SCGI on ADDR, for nginx scgi_pass (repeatable)', {
    arg: 'ADDR',
  }),
  opt('protocol', 'enum', S, 'the protocol every --socket speaks (uWSGI --protocol): uwsgi, http, fastcgi or scgi', {
    aliases: ['socket-protocol'],
    default: 'uwsgi',
    choices: ['uwsgi', 'http', 'fastcgi', 'scgi'],
    arg: 'NAME',
  }),
  opt('listen', 'int', S, 'listen queue (backlog) of every socket, clamped to net.core.somaxconn', {
    short: 'l',
    default: 1024,
    min: 1,
    arg: 'N',
  }),
  opt('chmod-socket', 'mode', S, 'chmod UNIX sockets after bind; a bare flag means 666', {
    aliases: ['chmod'],
    short: 'C',
    arg: 'NNN',
  }),
  opt('vacuum', 'bool', S, 'remove UNIX socket files (and the pidfile) on exit'),
  // Application
  opt('wsgi-file', 'string', A, 'load the app from this .js/.mjs/.cjs/.ts/.mts file', {
    aliases: ['file', 'app'],
    arg: 'FILE',
  }),
  opt('module', 'module', A, 'load the app from a module name or path, optionally with its callable', {
    short: 'w',
    arg: 'NAME[:CALLABLE]',
  }),
  opt('callable', 'string', A, 'name of the export to serve (falls back to the default export)', {
    default: 'application',
    arg: 'NAME',
  }),
  opt('chdir', 'string', A, 'change to DIR before loading the app', { arg: 'DIR' }),
  opt(
    'app-type',
    'enum',
    A,
    'how to call the export: auto-detect, gateway callable, fetch handler or node:http (req, res) handler',
    {
      default: 'auto',
      choices: ['auto', 'gateway', 'fetch', 'node'],
      arg: 'TYPE',
    },
  ),
  opt('need-app', 'bool', A, 'exit with status 22 if the app cannot be loaded'),
  opt(
    'allow-magic-vars',
    'bool',
    A,
    'accepted for compatibility: uwsgi magic vars (UWSGI_FILE, UWSGI_SETENV, ...) are never acted on',
  ),
  opt(
    'enable-threads',
    'bool',
    A,
    'accepted for compatibility: a Python switch; JS app threads need no lock (--threads)',
  ),
  opt('single-interpreter', 'bool', A, 'accepted for compatibility: a Python switch; each tsgi thread runs one app'),
  opt(
    'py-call-osafterfork',
    'bool',
    A,
    'accepted for compatibility: a Python switch; tsgi workers handle their signals',
  ),
  opt('virtualenv', 'string', A, 'accepted for compatibility: a Python virtualenv; node_modules holds JS packages', {
    aliases: ['venv', 'home', 'pyhome'],
    short: 'H',
    arg: 'DIR',
  }),
  opt(
    'pythonpath',
    'list',
    A,
    "accepted for compatibility: Python's module path; JS packages resolve from node_modules",
    {
      aliases: ['python-path'],
      arg: 'DIR',
    },
  ),
  opt('wsgi-disable-file-wrapper', 'bool', A, 'accepted for compatibility: a Python WSGI switch with no JS meaning'),
  opt('plugins', 'list', A, 'accepted for uWSGI compatibility and only logged (comma-separated, repeatable)', {
    aliases: ['plugin'],
    split: true,
    arg: 'LIST',
  }),
  opt('env', 'list', A, 'set the environment variable NAME to VALUE before the app loads (repeatable)', {
    arg: 'NAME=VALUE',
  }),
  // Processes and concurrency
  opt('master', 'bool', P, 'run a master process that supervises, respawns and reloads workers', { short: 'M' }),
  opt('processes', 'int', P, 'number of worker processes', {
    aliases: ['workers'],
    short: 'p',
    default: 1,
    min: 1,
    arg: 'N',
  }),
  opt('threads', 'int', P, 'app threads per worker process', { default: 1, min: 1, arg: 'N' }),
  opt('async', 'int', P, 'requests each app thread may hold in flight at once', {
    aliases: ['coroae'],
    default: 1,
    min: 1,
    arg: 'N',
  }),
  opt('lazy-apps', 'bool', P, 'load the app in each worker instead of once in the master', { aliases: ['lazy'] }),
  opt('cheaper', 'int', P, 'adaptive process count: keep at least N workers, --processes is the maximum; 0 = off', {
    default: 0,
    min: 0,
    arg: 'N',
    implies: ['master'],
  }),
  opt('cheaper-initial', 'int', P, 'workers started at boot with --cheaper; 0 = the --cheaper value', {
    default: 0,
    min: 0,
    arg: 'N',
  }),
  opt('cheaper-step', 'int', P, 'workers spawned at once when the cheaper algorithm asks for more', {
    default: 1,
    min: 1,
    arg: 'N',
  }),
  opt(
    'cheaper-overload',
    'int',
    P,
    'cheaper cycle: seconds of overload before spawning (spare), busyness period, queue threshold (backlog)',
    {
      default: 3,
      min: 1,
      arg: 'SECS',
    },
  ),
  opt('cheaper-algo', 'string', P, 'cheaper algorithm: spare, busyness or backlog', {
    default: 'spare',
    arg: 'NAME',
  }),
  opt('cheaper-busyness-max', 'int', P, 'busyness percent above which workers are spawned', {
    default: 50,
    min: 0,
    max: 100,
    arg: 'PERCENT',
  }),
  opt('cheaper-busyness-min', 'int', P, 'busyness percent below which a worker may be retired', {
    default: 25,
    min: 0,
    max: 100,
    arg: 'PERCENT',
  }),
  opt(
    'cheaper-busyness-multiplier',
    'int',
    P,
    'busyness: idle cycles (of --cheaper-overload seconds) before a worker is retired',
    {
      default: 10,
      min: 1,
      arg: 'N',
    },
  ),
  opt(
    'cheaper-busyness-penalty',
    'int',
    P,
    'busyness: added to the multiplier when workers are spawned again soon after a retirement',
    {
      default: 2,
      min: 0,
      arg: 'N',
    },
  ),
  opt(
    'cheaper-busyness-backlog-alert',
    'int',
    P,
    'busyness: spawn emergency workers when the listen queue holds more than N requests',
    {
      default: 33,
      min: 0,
      arg: 'N',
    },
  ),
  opt('cheaper-busyness-backlog-step', 'int', P, 'busyness: emergency workers spawned at once', {
    default: 1,
    min: 1,
    arg: 'N',
  }),
  opt(
    'cheaper-busyness-backlog-multiplier',
    'int',
    P,
    'busyness: multiplier used instead while emergency workers run',
    {
      default: 3,
      min: 1,
      arg: 'N',
    },
  ),
  opt(
    'cheaper-busyness-backlog-nonzero',
    'int',
    P,
    'busyness: spawn emergency workers when the listen queue stayed non-empty for SECS seconds',
    {
      default: 60,
      min: 1,
      arg: 'SECS',
    },
  ),
  opt(
    'cheaper-rss-limit-soft',
    'size',
    P,
    'cheaper: spawn no more workers while the workers together use more resident memory than BYTES; 0 = no limit',
    {
      default: 0,
      arg: 'BYTES',
    },
  ),
  opt(
    'cheaper-rss-limit-hard',
    'size',
    P,
    'cheaper: retire a worker while the workers together use more resident memory than BYTES; 0 = no limit',
    {
      default: 0,
      arg: 'BYTES',
    },
  ),
  // Timeouts and limits
  opt('buffer-size', 'int', T, 'largest request head / uwsgi vars block in bytes (values above 65535 are clamped)', {
    short: 'b',
    default: 8192,
    min: 1,
    max: 65535,
    clampMax: true,
    arg: 'BYTES',
  }),
  opt('limit-post', 'size', T, 'largest request body in bytes (k/m/g suffixes allowed); 0 = unlimited', {
    default: 0,
    arg: 'BYTES',
  }),
  opt(
    'post-buffering',
    'size',
    T,
    'read a request body up to BYTES (and the first BYTES of a longer one) before the app is called; 0 = call it at the head',
    {
      default: 8192,
      arg: 'BYTES',
    },
  ),
  opt(
    'min-body-rate',
    'int',
    T,
    'bytes per second a request body must average once --socket-timeout has passed (408 otherwise); 0 = no minimum',
    {
      default: 240,
      arg: 'BYTES',
    },
  ),
  opt(
    'max-connections',
    'int',
    T,
    'open client connections per serving thread; at the cap the oldest idle keep-alive one is closed for a new one; 0 = derived from the open-files limit',
    {
      default: 0,
      arg: 'N',
    },
  ),
  opt('socket-timeout', 'int', T, 'seconds to wait for request bytes and for each write', {
    short: 'z',
    default: 4,
    min: 1,
    arg: 'SECS',
  }),
  opt(
    'http-keepalive-timeout',
    'int',
    T,
    'seconds an idle keep-alive connection on --http-socket is kept; 0 = close after each response',
    {
      default: 65,
      arg: 'SECS',
    },
  ),
  opt('max-vars', 'int', T, 'most uwsgi vars / HTTP headers accepted in one request', {
    short: 'v',
    default: 256,
    min: 1,
    arg: 'N',
  }),
  opt(
    'harakiri',
    'int',
    T,
    'answer 504 and kill the worker (or thread) whose request runs longer than SECS; 0 = off (implies --master)',
    {
      short: 't',
      default: 0,
      arg: 'SECS',
      implies: ['master'],
    },
  ),
  // Recycling and reloading
  opt('max-requests', 'int', R, 'recycle a worker after N requests; 0 = never', { short: 'R', default: 0, arg: 'N' }),
  opt(
    'max-worker-lifetime',
    'int',
    R,
    'recycle a worker after it has lived SECS seconds; 0 = never (implies --master)',
    {
      default: 0,
      min: 0,
      arg: 'SECS',
      implies: ['master'],
    },
  ),
  opt(
    'max-worker-lifetime-delta',
    'int',
    R,
    "add (worker id - 1) × SECS seconds to each worker's max-worker-lifetime",
    {
      default: 0,
      min: 0,
      arg: 'SECS',
    },
  ),
  opt('reload-on-rss', 'int', R, 'recycle a worker whose RSS exceeds MB megabytes; 0 = never', {
    default: 0,
    arg: 'MB',
  }),
  opt(
    'worker-reload-mercy',
    'int',
    R,
    'seconds a worker may take to finish during reload or recycle before it is killed',
    {
      default: 60,
      arg: 'SECS',
    },
  ),
  opt(
    'shutdown-delay',
    'int',
    R,
    'on SIGTERM, answer 503 on /readyz and keep serving SECS seconds before the graceful shutdown starts',
    {
      default: 0,
      min: 0,
      arg: 'SECS',
    },
  ),
  opt(
    'min-worker-lifetime',
    'int',
    R,
    'seconds a worker must live before max-requests / reload-on-rss may recycle it',
    {
      default: 10,
      arg: 'SECS',
    },
  ),
  opt('touch-reload', 'list', R, 'gracefully reload when FILE is modified (repeatable; implies --master)', {
    arg: 'FILE',
    implies: ['master'],
  }),
  opt(
    'touch-chain-reload',
    'list',
    R,
    'chain-reload workers when FILE is modified (repeatable; implies --master, --lazy-apps)',
    {
      arg: 'FILE',
      implies: ['master', 'lazy-apps'],
    },
  ),
  // Logging
  opt('disable-logging', 'bool', L, 'do not write request log lines', { short: 'L' }),
  opt('logto', 'string', L, 'write the log to FILE instead of stderr', { arg: 'FILE' }),
  opt('log-micros', 'bool', L, 'report request times in microseconds in log lines'),
  opt('log-date', 'flag-or-string', L, 'prefix log lines with the date, or with strftime FORMAT (--log-date=FORMAT)', {
    aliases: ['logdate'],
    arg: '[=FORMAT]',
  }),
  opt('log-reopen', 'bool', L, 'reopen the --logto file on every graceful reload (for logrotate)'),
  opt('log-maxsize', 'int', L, 'rotate the --logto file when it grows past BYTES; 0 = never', {
    default: 0,
    min: 0,
    arg: 'BYTES',
  }),
  opt('log-backupname', 'string', L, 'name the rotated --logto file FILE instead of FILE.<unix time>', {
    arg: 'FILE',
  }),
  opt(
    'log-format',
    'string',
    L,
    "write request log lines in uWSGI's %(name) format (e.g. %(addr) %(method) %(uri) %(status))",
    {
      aliases: ['logformat'],
      arg: 'FORMAT',
    },
  ),
  opt('log-4xx', 'bool', L, 'log requests answered 4xx even with --disable-logging'),
  opt('log-5xx', 'bool', L, 'log requests answered 5xx even with --disable-logging'),
  opt('log-slow', 'int', L, 'log requests that took at least MS milliseconds even with --disable-logging', {
    default: 0,
    min: 0,
    arg: 'MS',
  }),
  opt('log-big', 'int', L, 'log responses of at least BYTES body bytes even with --disable-logging', {
    default: 0,
    min: 0,
    arg: 'BYTES',
  }),
  opt('log-zero', 'bool', L, 'log responses without a body even with --disable-logging'),
  // Stats
  opt('stats', 'address', ST, 'serve the stats JSON on ADDR (implies --master)', {
    aliases: ['stats-server'],
    arg: 'ADDR',
    implies: ['master'],
  }),
  opt('stats-http', 'bool', ST, 'prefix the stats JSON with an HTTP response head; GET /metrics gets the metrics'),
  opt('metrics', 'address', ST, 'serve Prometheus metrics over HTTP on ADDR, path /metrics (implies --master)', {
    arg: 'ADDR',
    implies: ['master'],
  }),
  opt('stats-minified', 'bool', ST, 'serve the stats JSON without whitespace'),
  opt(
    'stats-show-credentials',
    'bool',
    ST,
    'show Authorization and Cookie request vars in the stats JSON (redacted by default)',
  ),
  // HTTP router
  opt(
    'http',
    'list-address',
    H,
    'run the HTTP router on ADDR, forwarding to the workers over uwsgi (repeatable; implies --master)',
    {
      arg: 'ADDR',
      implies: ['master'],
    },
  ),
  opt(
    'http-timeout',
    'int',
    H,
    'seconds the router waits on a silent client or worker (504 when the worker is silent)',
    {
      default: 60,
      min: 1,
      arg: 'SECS',
    },
  ),
  opt(
    'http-keepalive',
    'int',
    H,
    'keep router client connections open between requests; 0 = close after each response',
    {
      default: 1,
      arg: 'N',
    },
  ),
  opt(
    'http-max-chunked-body',
    'int',
    H,
    'largest chunked request body the router buffers before forwarding (413 above)',
    {
      default: 1048576,
      min: 0,
      arg: 'BYTES',
    },
  ),
  opt('http-modifier1', 'int', H, 'modifier1 the router puts in every packet', { default: 0, max: 255, arg: 'N' }),
  opt('http-modifier2', 'int', H, 'modifier2 the router puts in every packet', { default: 0, max: 255, arg: 'N' }),
  // Process management
  opt('pidfile', 'string', M, 'write the master pid to FILE', { arg: 'FILE' }),
  opt('daemonize', 'string', M, 'run in the background, detached, logging to FILE; return at once', { arg: 'FILE' }),
  opt('daemonize2', 'string', M, 'run in the background logging to FILE; return once every worker serves', {
    arg: 'FILE',
  }),
  opt(
    'auto-procname',
    'bool',
    M,
    'accepted for compatibility: tsgi always names its processes (tsgi master, tsgi worker N)',
  ),
  opt('procname-prefix', 'string', M, 'put STR before every process name', { arg: 'STR' }),
  opt('procname-prefix-spaced', 'string', M, 'put STR and a space before every process name', { arg: 'STR' }),
  opt('procname-append', 'string', M, 'put STR after every process name', { arg: 'STR' }),
  opt('procname', 'string', M, 'name every process NAME instead of tsgi master / tsgi worker N', { arg: 'NAME' }),
  opt('procname-master', 'string', M, 'name the master process NAME', { arg: 'NAME' }),
  opt('uid', 'string', M, 'drop privileges to this user (name or number) after binding', { arg: 'USER' }),
  opt('gid', 'string', M, 'drop privileges to this group (name or number) after binding', { arg: 'GROUP' }),
  opt('die-on-term', 'bool', M, 'accepted for uWSGI compatibility: SIGTERM always shuts down gracefully'),
  // Configuration
  opt('ini', 'list', C, 'read options from FILE[:SECTION] at this point (repeatable)', { arg: 'FILE' }),
  opt('strict', 'bool', C, 'treat unknown ini keys and TSGI_* variables as errors'),
  // Information
  opt('help', 'bool', I, 'show this help and exit', { aliases: ['usage'], short: 'h', immediate: true }),
  opt('version', 'bool', I, 'print the version and exit', { immediate: true }),
  opt('reload', 'string', I, 'gracefully reload the instance whose master wrote PIDFILE (SIGHUP), then exit', {
    immediate: true,
    arg: 'PIDFILE',
  }),
  opt('stop', 'string', I, 'stop the instance whose master wrote PIDFILE at once (SIGINT, as uWSGI), then exit', {
    immediate: true,
    arg: 'PIDFILE',
  }),
];

const byLong = new Map<string, OptionSpec>();
const byShort = new Map<string, OptionSpec>();
for (const spec of OPTIONS) {
  for (const n of [spec.name, ...spec.aliases]) {
    if (byLong.has(n)) throw new Error(`duplicate option name ${n}`);
    byLong.set(n, spec);
  }
  if (spec.short !== undefined) {
    if (byShort.has(spec.short)) throw new Error(`duplicate short option -${spec.short}`);
    byShort.set(spec.short, spec);
  }
}

/** Every long name (canonical and alias), for prefix matching and suggestions. */
export const LONG_NAMES: readonly string[] = [...byLong.keys()];

/** The option with exactly this long name or alias, if any. */
export function findOption(name: string): OptionSpec | undefined {
  return byLong.get(name);
}

/** The option with this single-letter short name, if any. */
export function findShort(letter: string): OptionSpec | undefined {
  return byShort.get(letter);
}

/** The option with this canonical name; throws for a name that is not in the table. */
export function optionByName(name: string): OptionSpec {
  const spec = byLong.get(name);
  if (spec === undefined || spec.name !== name) throw new Error(`no option named ${name}`);
  return spec;
}

/**
 * Resolves a possibly abbreviated long name. An exact name wins. An abbreviation is accepted
 * only when it is the prefix of one tsgi option (several names of the same option count
 * once, as in glibc getopt_long) and of no uWSGI option that tsgi lacks: uWSGI would read
 * `--reload` or `--proc` differently (or refuse it as ambiguous), so tsgi must not quietly
 * take it for `--reload-on-rss` or `--processes`. `uwsgiOnly` lists those uWSGI names.
 */
export function matchLong(prefix: string): { spec?: OptionSpec; candidates: string[]; uwsgiOnly: string[] } {
  const exact = byLong.get(prefix);
  if (exact !== undefined) return { spec: exact, candidates: [exact.name], uwsgiOnly: [] };
  const hits = new Map<OptionSpec, string>();
  for (const [n, spec] of byLong) {
    if (n.startsWith(prefix) && !hits.has(spec)) hits.set(spec, n);
  }
  const uwsgiOnly = [...UWSGI_OPTION_NAMES].filter((n) => n.startsWith(prefix) && !byLong.has(n)).sort();
  const specs = [...hits.keys()];
  if (specs.length === 1 && uwsgiOnly.length === 0) return { spec: specs[0], candidates: [specs[0].name], uwsgiOnly };
  return { candidates: specs.map((s) => s.name), uwsgiOnly };
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The closest long name to a misspelt one, if it is close enough to be a likely typo. */
export function suggest(name: string): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const n of LONG_NAMES) {
    const d = distance(name, n);
    if (d < bestDist) {
      best = n;
      bestDist = d;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  return bestDist <= limit ? best : undefined;
}

/** "(did you mean --x?)" or ''. */
export function didYouMean(name: string, dashes = '--'): string {
  const s = suggest(name);
  return s === undefined ? '' : ` (did you mean ${dashes}${s}?)`;
}
