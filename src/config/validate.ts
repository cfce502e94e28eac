// Turns the collected values into a Config and checks what no single option can check:
// --strict, an app to load, something to serve,
// and that --chdir and --wsgi-file exist.

import { statSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import type { Collector } from './collect';
import { compileLogFormat } from './logformat';
import { OPTIONS, optionByName } from './options';
import type { Config } from './types';

/** Options that give tsgi something to listen on. */
const SERVING = ['http-socket', 'socket', 'fastcgi-socket', 'scgi-socket', 'http'] as const;

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function assemble(c: Collector): Config {
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    if (spec.immediate) continue;
    const v = c.values.get(spec.name) ?? spec.default;
    if (v !== undefined) out[spec.key] = Array.isArray(v) ? [...v] : v;
  }
  out.ini = [...c.iniFiles];
  out.explicit = new Set(c.explicit);
  out.origins = new Map(c.origins);
  out.warnings = [...c.warnings];
  const config = out as unknown as Config;
  if (c.moduleCallable !== undefined) config.callable = c.moduleCallable;
  // Implicit flags (uWSGI's add_exported_option): e.g. --stats turns the master on. They do
  // not count as explicit.
  for (const spec of OPTIONS) {
    if (spec.implies === undefined || !c.explicit.has(spec.name)) continue;
    const v = c.values.get(spec.name);
    if (Array.isArray(v) && v.length === 0) continue;
    for (const implied of spec.implies) (out as Record<string, unknown>)[optionByName(implied).key] = true;
  }
  return config;
}

/** The algorithms tsgi has; uWSGI's plugin name backlog2 is accepted for backlog. */
const CHEAPER_ALGOS: Readonly<Record<string, string>> = {
  spare: 'spare',
  busyness: 'busyness',
  backlog: 'backlog',
  backlog2: 'backlog',
};

/** uWSGI's start-up checks of the cheaper options (core/init.c, core/master.c). */
function checkCheaper(config: Config): void {
  if (config.cheaper > 0 && config.cheaper >= config.processes) {
    throw new ConfigError(
      'TSGI_ERR_CONFLICTING_OPTIONS',
      `invalid cheaper value: must be lower than processes (--cheaper ${config.cheaper}, --processes ${config.processes})`,
    );
  }
  if (config.cheaperRssLimitHard > 0 && config.cheaperRssLimitSoft === 0) {
    throw new ConfigError(
      'TSGI_ERR_CONFLICTING_OPTIONS',
      'enabling cheaper-rss-limit-hard requires setting also cheaper-rss-limit-soft',
    );
  }
  if (config.cheaperRssLimitHard > 0 && config.cheaperRssLimitHard <= config.cheaperRssLimitSoft) {
    throw new ConfigError(
      'TSGI_ERR_CONFLICTING_OPTIONS',
      `cheaper-rss-limit-hard value must be higher than cheaper-rss-limit-soft value (${config.cheaperRssLimitHard} <= ${config.cheaperRssLimitSoft})`,
    );
  }
  const algo = CHEAPER_ALGOS[config.cheaperAlgo];
  if (algo === undefined) {
    config.warnings.push(
      `unable to find requested cheaper algorithm ${config.cheaperAlgo}, falling back to spare (tsgi has spare, busyness, backlog)`,
    );
  }
  config.cheaperAlgo = algo ?? 'spare';
  if (config.cheaper === 0) {
    config.cheaperInitial = 0;
    return;
  }
  const initial = config.cheaperInitial;
  if (initial === 0) {
    config.cheaperInitial = config.cheaper;
  } else if (initial < config.cheaper) {
    config.warnings.push(
      `invalid cheaper-initial value (${initial}), must be equal or higher than cheaper (${config.cheaper}), using ${config.cheaper} as initial number of workers`,
    );
    config.cheaperInitial = config.cheaper;
  } else if (initial > config.processes) {
    config.warnings.push(
      `invalid cheaper-initial value (${initial}), must be lower or equal than worker count (${config.processes}), using ${config.processes} as initial number of workers`,
    );
    config.cheaperInitial = config.processes;
  }
}

function checkStrict(c: Collector, strict: boolean): void {
  if (!strict || c.unknowns.length === 0) return;
  const u = c.unknowns[0];
  throw new ConfigError('TSGI_ERR_UNKNOWN_OPTION', `unknown option ${u.shown} (from ${u.origin}; --strict is set)`);
}

/** Builds and validates the Config. `cwd` resolves --chdir and, without it, --wsgi-file. */
export function validate(c: Collector, cwd: string): Config {
  const config = assemble(c);
  checkStrict(c, config.strict);
  if (config.wsgiFile !== undefined && config.module !== undefined) {
    throw new ConfigError(
      'TSGI_ERR_CONFLICTING_OPTIONS',
      `--wsgi-file ${config.wsgiFile} and --module ${config.module} both name an app; tsgi serves one app, pass only one`,
    );
  }
  if (config.wsgiFile === undefined && config.module === undefined) {
    throw new ConfigError(
      'TSGI_ERR_NO_APP',
      'no app to load: pass --wsgi-file FILE or --module NAME (see tsgi --help)',
    );
  }
  const serving = SERVING.some((name) => (config[optionByName(name).key as keyof Config] as unknown[]).length > 0);
  if (!serving) {
    throw new ConfigError(
      'TSGI_ERR_NO_SOCKET',
      'nothing to serve: pass --http-socket, --socket, --fastcgi-socket, --scgi-socket or --http',
    );
  }
  // uWSGI refuses this at start-up too (core/init.c): the worker could never be recycled.
  if (config.maxWorkerLifetime > 0 && config.minWorkerLifetime >= config.maxWorkerLifetime) {
    throw new ConfigError(
      'TSGI_ERR_CONFLICTING_OPTIONS',
      `--min-worker-lifetime ${config.minWorkerLifetime} must be lower than --max-worker-lifetime ${config.maxWorkerLifetime}`,
    );
  }
  if (config.logFormat !== undefined) compileLogFormat(config.logFormat);
  checkCheaper(config);
  for (const e of config.env) {
    if (!/^[^=]+=/.test(e)) {
      throw new ConfigError(
        'TSGI_ERR_INVALID_VALUE',
        `--env ${e} (from ${c.origins.get('env') ?? 'the configuration'}): expected NAME=VALUE`,
      );
    }
  }
  let base = cwd;
  if (config.chdir !== undefined) {
    base = path.resolve(cwd, config.chdir);
    if (!isDir(base)) {
      throw new ConfigError('TSGI_ERR_BAD_CHDIR', `--chdir ${config.chdir}: no such directory (${base})`);
    }
  }
  if (config.wsgiFile !== undefined) {
    const file = path.resolve(base, config.wsgiFile);
    if (!isFile(file)) {
      const where = config.chdir !== undefined ? ` in --chdir ${config.chdir}` : '';
      throw new ConfigError('TSGI_ERR_APP_NOT_FOUND', `--wsgi-file ${config.wsgiFile}: no such file${where} (${file})`);
    }
    config.appPath = file;
  }
  return config;
}
