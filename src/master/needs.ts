// Whether a configuration runs a master, apart from the master itself so that the CLI can
// decide without loading it.

import type { Config } from '../config';

/** uWSGI: --master, or implied (--processes > 1; options such as --stats and --http set
 *  `master` when the configuration is validated). */
export function needsMaster(config: Config): boolean {
  // --http implies --master already; the router thread lives in the master, so it is
  // checked here too, whatever else the configuration says.
  return config.master || config.processes > 1 || config.http.length > 0;
}
