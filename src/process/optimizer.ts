// V8's optimising compiler (TurboFan) is off while a tsgi process starts and turned on when it
// begins to serve. Its first job in a Node process is usually one of Node's own path helpers,
// hot while the modules are required, and from then on its code and zones stay resident:
// ~4 MiB of RSS per process (bench/RESULTS.md, "Memory and start-up"). A master runs no hot
// code and never turns it on; a worker or a lone process turns it on once the app is loaded,
// so the app's request path is optimised as under any Node server, and a worker that never
// gets a hot request stays as small as an idle node:cluster worker.
//
// Off: `--no-turbofan` on the command line of every worker process (src/master/slots.ts) and
// set first thing by bin/tsgi.js for the process the user starts. The flag is process-wide, so
// app threads follow their process.

import { setFlagsFromString } from 'node:v8';

/** The V8 flag a tsgi process starts with. */
export const OPTIMIZER_OFF = '--no-turbofan';

/**
 * Turns V8's optimising compiler on for this process, for every function from now on, and
 * takes the flag off process.execArgv: Node passes that array on to the processes the app
 * forks (child_process.fork), which must start as they would under any Node server.
 */
export function enableOptimizer(): void {
  setFlagsFromString('--turbofan');
  const i = process.execArgv.indexOf(OPTIMIZER_OFF);
  if (i >= 0) process.execArgv.splice(i, 1);
}
