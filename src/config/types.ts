// Types shared by the configuration modules. The option table lives in options.ts; the
// Config interface below is what the rest of tsgi consumes.

/** A TCP address. `host` is '0.0.0.0' for ':port'; IPv6 hosts are stored without brackets. */
export interface TcpAddress {
  readonly kind: 'tcp';
  readonly host: string;
  readonly port: number;
  /** The address as the user wrote it, for log lines and error messages. */
  readonly raw: string;
}

/** A filesystem UNIX socket; `path` is as written (relative paths are relative to the cwd). */
export interface UnixAddress {
  readonly kind: 'unix';
  readonly path: string;
  readonly raw: string;
}

/** A Linux abstract-namespace UNIX socket, written `@name`; `name` excludes the '@'. */
export interface AbstractAddress {
  readonly kind: 'abstract';
  readonly name: string;
  readonly raw: string;
}

export type Address = TcpAddress | UnixAddress | AbstractAddress;

/** What a worker socket speaks: HTTP/1.1, or one of the web-server gateway protocols. */
export type SocketProtocol = 'http' | 'uwsgi' | 'fastcgi' | 'scgi';

/**
 * How an option's value is read.
 * - string: any non-empty text.
 * - int: a non-negative decimal integer (no sign, no suffix), checked against min/max.
 * - size: like int, with an optional binary suffix k, m or g (1k = 1024).
 * - bool: bare flag = true; true/false, yes/no, on/off, 1/0 (any case).
 * - mode: 3 octal digits; a bare flag means 666 (chmod-socket).
 * - flag-or-string: uWSGI's optional argument: a bare flag or a true word is '' (the
 *   default), a false word turns it off, anything else is the text (--log-date[=FORMAT]).
 * - enum: one of `choices`.
 * - address: one socket address; list-address: repeatable socket addresses.
 * - list: repeatable text; with `split`, each value is also split on commas.
 * - module: `name[:callable]`.
 */
export type OptionType =
  | 'string'
  | 'int'
  | 'size'
  | 'bool'
  | 'mode'
  | 'flag-or-string'
  | 'enum'
  | 'address'
  | 'list-address'
  | 'list'
  | 'module';

export type OptionGroup =
  | 'Sockets'
  | 'Application'
  | 'Processes and concurrency'
  | 'Timeouts and limits'
  | 'Recycling and reloading'
  | 'Logging'
  | 'Stats'
  | 'HTTP router'
  | 'Process management'
  | 'Configuration'
  | 'Information';

export interface OptionSpec {
  /** Canonical long name, e.g. 'http-socket'. */
  readonly name: string;
  /** The Config field that holds the value. */
  readonly key: string;
  /** Other long names accepted everywhere (argv, ini, env). */
  readonly aliases: readonly string[];
  /** Single-letter short option (argv only), e.g. 's'. */
  readonly short?: string;
  readonly type: OptionType;
  /** Default value as stored in Config; undefined = the field is absent unless set. */
  readonly default?: unknown;
  readonly group: OptionGroup;
  readonly help: string;
  /** Placeholder shown in --help, e.g. 'ADDR'. */
  readonly arg?: string;
  readonly min?: number;
  readonly max?: number;
  /** Values above max are clamped to max with a warning instead of rejected. */
  readonly clampMax?: boolean;
  readonly choices?: readonly string[];
  /** For 'list': split each value on commas (uWSGI's --plugins http,psgi). */
  readonly split?: boolean;
  /** Setting this option also turns these boolean options on (uWSGI's implicit flags). */
  readonly implies?: readonly string[];
  /** Stops option processing: --help, --version. */
  readonly immediate?: boolean;
}

/** Where a value came from, for messages: 'command line', 'env UWSGI_X', 'app.ini:3'. */
export type Origin = string;

/** The validated configuration. Field names are the camelCased canonical option names. */
export interface Config {
  // Sockets
  httpSocket: Address[];
  socket: Address[];
  fastcgiSocket: Address[];
  scgiSocket: Address[];
  protocol: SocketProtocol;
  http: Address[];
  httpModifier1: number;
  httpModifier2: number;
  httpTimeout: number;
  httpKeepalive: number;
  httpMaxChunkedBody: number;
  listen: number;
  chmodSocket?: number;
  vacuum: boolean;
  // Application
  wsgiFile?: string;
  /** Absolute path of wsgiFile, resolved against chdir (or the cwd), checked to exist. */
  appPath?: string;
  /** The module name of --module, without ':callable'. */
  module?: string;
  /** The callable to take: the ':callable' of --module if given, else --callable. */
  callable: string;
  chdir?: string;
  appType: 'auto' | 'gateway' | 'fetch' | 'node';
  needApp: boolean;
  allowMagicVars: boolean;
  plugins: string[];
  virtualenv?: string;
  pythonpath: string[];
  wsgiDisableFileWrapper: boolean;
  env: string[];
  // Processes and concurrency
  master: boolean;
  processes: number;
  threads: number;
  async: number;
  lazyApps: boolean;
  /** --cheaper: minimum workers (0 = the cheaper subsystem is off). */
  cheaper: number;
  /** Workers started at boot; validate() sets it (cheaper when not given, clamped as uWSGI does). */
  cheaperInitial: number;
  cheaperStep: number;
  cheaperOverload: number;
  /** Normalised by validate(): an unknown name falls back to spare with a warning, as in uWSGI. */
  cheaperAlgo: string;
  cheaperBusynessMax: number;
  cheaperBusynessMin: number;
  cheaperBusynessMultiplier: number;
  cheaperBusynessPenalty: number;
  cheaperBusynessBacklogAlert: number;
  cheaperBusynessBacklogStep: number;
  cheaperBusynessBacklogMultiplier: number;
  cheaperBusynessBacklogNonzero: number;
  cheaperRssLimitSoft: number;
  cheaperRssLimitHard: number;
  // Timeouts and limits
  bufferSize: number;
  limitPost: number;
  socketTimeout: number;
  postBuffering: number;
  minBodyRate: number;
  maxConnections: number;
  httpKeepaliveTimeout: number;
  maxVars: number;
  harakiri: number;
  // Recycling and reloading
  maxRequests: number;
  reloadOnRss: number;
  maxWorkerLifetime: number;
  maxWorkerLifetimeDelta: number;
  workerReloadMercy: number;
  shutdownDelay: number;
  minWorkerLifetime: number;
  touchReload: string[];
  touchChainReload: string[];
  // Logging
  disableLogging: boolean;
  logto?: string;
  logMicros: boolean;
  logFormat?: string;
  /** '' = uWSGI's default date; a strftime format; false/absent = off. */
  logDate?: string | false;
  logReopen: boolean;
  logMaxsize: number;
  logBackupname?: string;
  log4xx: boolean;
  log5xx: boolean;
  logSlow: number;
  logBig: number;
  logZero: boolean;
  // Stats
  stats?: Address;
  statsHttp: boolean;
  statsMinified: boolean;
  statsShowCredentials: boolean;
  /** --metrics: the Prometheus listener (src/stats/metrics-server.ts). */
  metrics?: Address;
  // Process management
  pidfile?: string;
  daemonize?: string;
  daemonize2?: string;
  autoProcname: boolean;
  procnamePrefix?: string;
  procnamePrefixSpaced?: string;
  procnameAppend?: string;
  procname?: string;
  procnameMaster?: string;
  uid?: string;
  gid?: string;
  dieOnTerm: boolean;
  // Configuration
  /** Every ini file read, in order, as `path` or `path:section`. */
  ini: string[];
  strict: boolean;

  /** Canonical names of the options set by the user (env, ini or argv), not by default. */
  explicit: Set<string>;
  /** Where each explicitly set option got its last value. */
  origins: Map<string, Origin>;
  /** Non-fatal problems to log at startup (clamped values, unknown ini keys, ...). */
  warnings: string[];
}

/** What loadConfig returns for --help and --version. */
export interface HelpResult {
  help: string;
}
/** `--reload PIDFILE` / `--stop PIDFILE`: signal the instance whose master wrote PIDFILE, then exit. */
export interface SignalResult {
  signal: { option: 'reload' | 'stop'; pidfile: string };
}

export interface VersionResult {
  version: string;
}
