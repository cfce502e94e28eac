// Options from the environment, as uWSGI's parse_sys_envs (core/utils.c) reads them:
// UWSGI_HTTP_SOCKET=:8080 is --http-socket :8080 (prefix stripped, lower-cased, '_' -> '-').
// All UWSGI_* variables are applied first, then all TSGI_* variables (same rule), so a TSGI_
// variable overrides the UWSGI_ one for the same scalar option; list options accumulate.

/** Internal variables uWSGI excludes from option parsing (parse_sys_envs). */
const UWSGI_INTERNAL = new Set([
  'UWSGI_RELOADS',
  'UWSGI_VASSALS_DIR',
  'UWSGI_EMPEROR_FD',
  'UWSGI_BROODLORD_NUM',
  'UWSGI_EMPEROR_FD_CONFIG',
  'UWSGI_EMPEROR_PROXY',
  'UWSGI_JAIL_PID',
  'UWSGI_ORIGINAL_PROC_NAME',
]);

/** Prefix of tsgi's own process-to-process variables: never read as options. */
export const TSGI_INTERNAL_PREFIX = 'TSGI_INTERNAL_';

export interface EnvEntry {
  /** The option name derived from the variable, e.g. 'http-socket'. */
  readonly name: string;
  readonly value: string;
  /** The variable, e.g. 'UWSGI_HTTP_SOCKET'. */
  readonly variable: string;
  readonly prefix: 'UWSGI_' | 'TSGI_';
}

function toOptionName(rest: string): string {
  return rest.toLowerCase().replace(/_/g, '-');
}

/** The option-carrying variables of `env`, UWSGI_ ones first, each group in env order. */
export function envEntries(env: NodeJS.ProcessEnv): EnvEntry[] {
  const uwsgi: EnvEntry[] = [];
  const tsgi: EnvEntry[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (variable.startsWith('UWSGI_')) {
      if (UWSGI_INTERNAL.has(variable) || variable.length === 6) continue;
      uwsgi.push({ name: toOptionName(variable.slice(6)), value, variable, prefix: 'UWSGI_' });
    } else if (variable.startsWith('TSGI_')) {
      if (variable.startsWith(TSGI_INTERNAL_PREFIX) || variable.length === 5) continue;
      tsgi.push({ name: toOptionName(variable.slice(5)), value, variable, prefix: 'TSGI_' });
    }
  }
  return [...uwsgi, ...tsgi];
}
