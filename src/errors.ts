// The one catalogue of tsgi's TypeScript error codes.
//
// Codes are append-only: once released, a code never changes meaning and is never reused
// (the llhttp / libuv rule that native/src/common/errors.h follows for the native side).
// docs/errors.md lists every code below, and test/unit/errors.test.ts checks that the two
// lists match exactly.
//
// Every error is a TsgiError: `code` is stable and machine-readable, `message` is one
// readable line that starts with "tsgi: " and can be printed as is, and `exitCode` is the
// process exit status the CLI uses when the error ends the program. The exit status belongs
// to the code, not to the class, so a code always exits the same way whoever throws it.

/** Exit status for bad options and other startup failures (uWSGI exits 1 for bad options). */
export const EXIT_CONFIG = 1;
/** Exit status when the app cannot be loaded (uWSGI's `need-app` exit status). */
export const EXIT_APP_LOAD = 22;

interface CodeInfo {
  readonly exitCode: number;
  /** One line for docs/errors.md and for tooling; the thrown message is more specific. */
  readonly summary: string;
}

/** Every TSGI_ERR_* code, with its exit status and a one-line meaning. */
export const ERROR_CODES = {
  // Configuration (src/config): raised while reading argv, ini files and the environment.
  TSGI_ERR_UNKNOWN_OPTION: { exitCode: EXIT_CONFIG, summary: 'an option name that tsgi does not know' },
  TSGI_ERR_AMBIGUOUS_OPTION: {
    exitCode: EXIT_CONFIG,
    summary: 'an abbreviated long option that matches several options',
  },
  TSGI_ERR_MISSING_VALUE: { exitCode: EXIT_CONFIG, summary: 'an option that needs a value was given none' },
  TSGI_ERR_UNEXPECTED_VALUE: { exitCode: EXIT_CONFIG, summary: 'a value was given to an option that takes none' },
  TSGI_ERR_INVALID_VALUE: { exitCode: EXIT_CONFIG, summary: 'a value of the wrong type or out of range' },
  TSGI_ERR_INVALID_ADDRESS: { exitCode: EXIT_CONFIG, summary: 'a socket address that cannot be parsed' },
  TSGI_ERR_UNEXPECTED_ARGUMENT: { exitCode: EXIT_CONFIG, summary: 'a positional argument that is not an .ini file' },
  TSGI_ERR_CONFLICTING_OPTIONS: { exitCode: EXIT_CONFIG, summary: 'two options that cannot be used together' },
  TSGI_ERR_NO_APP: { exitCode: EXIT_CONFIG, summary: 'neither --wsgi-file nor --module was given' },
  TSGI_ERR_NO_SOCKET: { exitCode: EXIT_CONFIG, summary: 'no socket, router or protocol address to serve on' },
  TSGI_ERR_BAD_CHDIR: { exitCode: EXIT_CONFIG, summary: 'the --chdir directory does not exist or is not a directory' },
  TSGI_ERR_INI_READ_FAILED: { exitCode: EXIT_CONFIG, summary: 'an --ini file cannot be read' },
  TSGI_ERR_BAD_PIDFILE: {
    exitCode: EXIT_CONFIG,
    summary: 'the PIDFILE of --reload or --stop cannot be read, holds no pid, or names no running process',
  },
  TSGI_ERR_INI_RECURSION: { exitCode: EXIT_CONFIG, summary: 'an ini file includes itself, directly or through others' },
  TSGI_ERR_INI_PLACEHOLDER: {
    exitCode: EXIT_CONFIG,
    summary: 'an ini %(name) placeholder that names nothing, or refers to itself',
  },
  // Application loading (src/app).
  TSGI_ERR_APP_NOT_FOUND: { exitCode: EXIT_APP_LOAD, summary: 'the app file or module does not exist' },
  TSGI_ERR_CALLABLE_NOT_FOUND: {
    exitCode: EXIT_APP_LOAD,
    summary: 'the app has no export named by --callable and no default export',
  },
  TSGI_ERR_APP_LOAD_FAILED: {
    exitCode: EXIT_APP_LOAD,
    summary: 'importing the app threw, or its export is neither a gateway callable nor a fetch handler',
  },
  // Sockets (master / native).
  TSGI_ERR_ADDRESS_IN_USE: { exitCode: EXIT_CONFIG, summary: 'a listening address is already in use (EADDRINUSE)' },
  TSGI_ERR_BIND_FAILED: { exitCode: EXIT_CONFIG, summary: 'a listening socket cannot be created, bound or chmod-ed' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes that the configuration layer throws as ConfigError. */
export type ConfigErrorCode =
  | 'TSGI_ERR_UNKNOWN_OPTION'
  | 'TSGI_ERR_AMBIGUOUS_OPTION'
  | 'TSGI_ERR_MISSING_VALUE'
  | 'TSGI_ERR_UNEXPECTED_VALUE'
  | 'TSGI_ERR_INVALID_VALUE'
  | 'TSGI_ERR_INVALID_ADDRESS'
  | 'TSGI_ERR_UNEXPECTED_ARGUMENT'
  | 'TSGI_ERR_CONFLICTING_OPTIONS'
  | 'TSGI_ERR_NO_APP'
  | 'TSGI_ERR_NO_SOCKET'
  | 'TSGI_ERR_BAD_CHDIR'
  | 'TSGI_ERR_BAD_PIDFILE'
  | 'TSGI_ERR_INI_READ_FAILED'
  | 'TSGI_ERR_INI_RECURSION'
  | 'TSGI_ERR_INI_PLACEHOLDER'
  // Found at startup when --wsgi-file names a missing file: same code the loader uses.
  | 'TSGI_ERR_APP_NOT_FOUND';

export type AppErrorCode = 'TSGI_ERR_APP_NOT_FOUND' | 'TSGI_ERR_CALLABLE_NOT_FOUND' | 'TSGI_ERR_APP_LOAD_FAILED';

export type SocketErrorCode = 'TSGI_ERR_ADDRESS_IN_USE' | 'TSGI_ERR_BIND_FAILED';

const PREFIX = 'tsgi: ';

/** Base class of every tsgi error. */
export class TsgiError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  /**
   * @param message one line; "tsgi: " is prepended unless already there.
   * @param options.cause the underlying error (an errno exception, an import failure).
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    const line = message.startsWith(PREFIX) ? message : PREFIX + message;
    super(line, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TsgiError';
    this.code = code;
    this.exitCode = ERROR_CODES[code].exitCode;
  }
}

/** A bad option, value or configuration file; see src/config. */
export class ConfigError extends TsgiError {
  declare readonly code: ConfigErrorCode;

  constructor(code: ConfigErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ConfigError';
  }
}

/** The app cannot be found or loaded; exits 22 like uWSGI with `need-app`. */
export class AppError extends TsgiError {
  declare readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'AppError';
  }
}

/** A listening socket cannot be set up. */
export class SocketError extends TsgiError {
  declare readonly code: SocketErrorCode;

  constructor(code: SocketErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SocketError';
  }
}

/** True for any tsgi error, also across realms (worker threads) where instanceof fails. */
export function isTsgiError(err: unknown): err is TsgiError {
  return (
    err instanceof TsgiError ||
    (typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string' &&
      Object.hasOwn(ERROR_CODES, (err as { code: string }).code))
  );
}
