// --env NAME=VALUE, apart from the start-up steps that load the app: the CLI applies it
// before it knows whether this process becomes a master, which never loads the app layer.

import type { Config } from '../config';

/**
 * --env NAME=VALUE (uWSGI's `env` option, ini `env = NAME=VALUE`): set before anything loads,
 * in the first process, so worker processes and app threads inherit them.
 */
export function applyEnv(config: Config): void {
  for (const e of config.env) {
    const eq = e.indexOf('=');
    process.env[e.slice(0, eq)] = e.slice(eq + 1);
  }
}
