// The configuration layer's entry point: argv + ini files + environment -> one validated
// Config, with uWSGI's sources and precedence (docs/config.md, "Sources and precedence"):
//   1. UWSGI_* environment variables, then TSGI_* ones (so TSGI_ wins for the same option);
//   2. the command line, in order, with each --ini file (and positional file.ini) applied
//      where it appears.
// A later value wins for scalar options; list options accumulate across all sources.

import * as path from 'node:path';
import { parseArgv } from './argv';
import { Collector } from './collect';
import { envEntries } from './env';
import { helpText, versionText } from './help';
import { optionByName } from './options';
import type { Config, HelpResult, SignalResult, VersionResult } from './types';
import { validate } from './validate';

export { formatAddress, parseAddress } from './address';
export { helpText, packageVersion, versionText } from './help';
export { findOption, OPTIONS } from './options';
export type {
  AbstractAddress,
  Address,
  Config,
  HelpResult,
  OptionSpec,
  SignalResult,
  SocketProtocol,
  TcpAddress,
  UnixAddress,
  VersionResult,
} from './types';

/**
 * Reads the configuration. `argv` excludes the node binary and script
 * (process.argv.slice(2)); `cwd` resolves relative ini files, --chdir and --wsgi-file.
 * Returns {help} or {version} when --help / --version is given (options after it are not
 * read, as uWSGI's immediate options). Throws ConfigError for anything invalid.
 */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Config | HelpResult | VersionResult | SignalResult {
  const c = new Collector(cwd, env);
  for (const e of envEntries(env)) {
    // uWSGI keeps unknown UWSGI_* names as placeholders without a word (the environment is
    // shared with other tools); unknown TSGI_* names are ours, so they get a warning.
    c.applyNamed(e.name, e.value, `env ${e.variable}`, e.variable, e.prefix === 'TSGI_');
    if (c.stopped) break;
  }
  if (!c.stopped) {
    parseArgv(
      argv,
      {
        option: (spec, raw, label) => c.apply(spec, raw, label, 'command line'),
        get stopped() {
          return c.stopped;
        },
      },
      optionByName('ini'),
    );
  }
  if (c.immediate === 'help') return { help: helpText() };
  if (c.immediate === 'version') return { version: versionText() };
  if (c.immediate === 'reload' || c.immediate === 'stop') {
    return { signal: { option: c.immediate, pidfile: path.resolve(cwd, c.immediateValue!) } };
  }
  return validate(c, cwd);
}

/** Narrows loadConfig's result. */
export function isConfig(r: Config | HelpResult | VersionResult | SignalResult): r is Config {
  return !('help' in r) && !('version' in r) && !('signal' in r);
}
