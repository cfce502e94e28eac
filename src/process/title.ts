// Process names in `ps`, as uWSGI's --procname* options shape them (core/utils.c,
// uwsgi_set_processname; core/master.c): tsgi always names its processes ("tsgi master",
// "tsgi worker N"), which is what uWSGI's --auto-procname turns on (the --http router is a
// thread of the master and has no title of its own);
// --procname replaces every name, --procname-master the master's, and the prefix and the
// appended string go around whichever name is used.

import type { Config } from '../config';

export type ProcessRole = 'master' | 'worker';

/** The title of a tsgi process whose default name is `base`. */
export function processTitle(config: Config, role: ProcessRole, base: string): string {
  const name = (role === 'master' ? config.procnameMaster : undefined) ?? config.procname ?? base;
  const prefix =
    config.procnamePrefixSpaced !== undefined ? `${config.procnamePrefixSpaced} ` : (config.procnamePrefix ?? '');
  return `${prefix}${name}${config.procnameAppend ?? ''}`;
}
