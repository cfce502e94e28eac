// The tsgi command: configuration → sockets → app → serve, with uWSGI's startup log lines
// and one clear line plus a non-zero exit code for every startup failure.
//
// The master and the serving unit are required only on the path that runs them: a master
// never loads the app layer (node:http, the environ, the dispatcher), and what a process
// loads it keeps for its whole life (bench/RESULTS.md, "Memory and start-up").

import { type Config, isConfig, loadConfig, versionText } from '../config';
import { isTsgiError } from '../errors';
import type * as MasterModule from '../master/master';
import { needsMaster } from '../master/needs';
import { daemonize } from '../process/daemon';
import { applyEnv } from '../process/env';
import { currentLogFd, logLine, openLogFile, setLogDate } from '../process/log';
import { LogFile } from '../process/logfile';
import { sdReady, sdStatus, sdStopping } from '../process/notify';
import { enableOptimizer } from '../process/optimizer';
import { dropPrivileges, signalPidfile } from '../process/privileges';
import { type BoundSocket, bindAll, bindRouterSockets, bindRouterWorkerSocket, closeAll } from '../process/sockets';
import { processTitle } from '../process/title';
import type * as UnitModule from '../process/unit';
import type { ServingUnit } from '../process/unit';

function fail(err: unknown): never {
  if (isTsgiError(err)) {
    logLine(err.message);
    process.exit(err.exitCode);
  }
  const e = err as Error;
  logLine(`tsgi: fatal: ${e?.stack ?? String(err)}`);
  process.exit(1);
}

function installSignals(serving: ServingUnit, sockets: BoundSocket[], config: Config): void {
  let stopping = false;
  const finish = (code: number): void => {
    closeAll(sockets, config.vacuum);
    process.exit(code);
  };
  // SIGTERM: graceful shutdown, what Docker, Kubernetes and systemd expect (docs/master.md,
  // "Signals"); --die-on-term is accepted and changes nothing.
  // --shutdown-delay: keep serving that long first, so a balancer that noticed the stop (the
  // process left its pool) stops sending before the sockets close.
  const graceful = (why: string): void => {
    logLine(`tsgi: ${why}, finishing in-flight requests then exiting`);
    void serving.stop().then(() => {
      logLine('tsgi: goodbye');
      finish(0);
    });
  };
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    sdStopping();
    const delay = config.shutdownDelay;
    if (delay === 0) return graceful('SIGTERM received');
    logLine(`tsgi: SIGTERM received, serving ${delay} more seconds before stopping (--shutdown-delay)`);
    setTimeout(() => graceful('--shutdown-delay is over'), delay * 1000);
  });
  const fast = (sig: string) => () => {
    logLine(`tsgi: ${sig} received, shutting down now`);
    serving.destroy();
    finish(0);
  };
  process.on('SIGINT', fast('SIGINT'));
  process.on('SIGQUIT', fast('SIGQUIT'));
  process.on('SIGUSR1', async () => {
    const c = await serving.counters();
    logLine(
      `tsgi stats: requests=${c.requests} inflight=${c.inflight} open=${c.open} connections=${c.connections} tx=${c.tx} bad_requests=${c.badRequests}`,
    );
  });
}

/**
 * Binds the --http addresses, and the workers' socket for the router when no --socket was
 * given (added to `sockets`). On failure every socket is closed.
 */
function bindRouterOrClose(config: Config, sockets: BoundSocket[]): BoundSocket[] {
  try {
    if (!sockets.some((s) => s.protocol === 'uwsgi')) sockets.push(bindRouterWorkerSocket(config, sockets.length));
    return bindRouterSockets(config, process.cwd());
  } catch (err) {
    closeAll(sockets, config.vacuum);
    throw err;
  }
}

/**
 * The no-master path: one serving unit on this process, as in a worker (src/worker/main.ts),
 * driven by this process's signals. --threads T: T app threads, each with its own accept loop
 * on these sockets (src/process/threads.ts); this thread only supervises them.
 */
async function serveHere(config: Config, sockets: BoundSocket[]): Promise<void> {
  // Without a master this process is the one worker; it keeps its command line as its name
  // unless a --procname* option asks for one (uWSGI renames a lone worker only then, too).
  const named = [config.procname, config.procnamePrefix, config.procnamePrefixSpaced, config.procnameAppend];
  if (named.some((v) => v !== undefined)) process.title = processTitle(config, 'worker', 'tsgi worker 1');
  const { startServingUnit } = require('../process/unit') as typeof UnitModule;
  const unit = await startServingUnit(config, sockets, {
    workerId: 1,
    logFd: currentLogFd(),
    multiprocess: false,
  }).catch((err) => {
    closeAll(sockets, config.vacuum);
    throw err;
  });
  if (unit.threads > 1) {
    const kind =
      unit.app.kind === 'fetch' ? 'fetch handler' : unit.app.kind === 'node' ? 'node:http app' : 'gateway callable';
    logLine(
      `tsgi app 0 (mountpoint='') ready in ${Math.round(unit.app.loadMs / 1000)} seconds on interpreter node ${process.version} ` +
        `(${kind} '${config.callable}') pid: ${process.pid} (default app, loaded in each of ${unit.threads} threads)`,
    );
  }
  installSignals(unit, sockets, config);
  if (config.logto !== undefined && config.logMaxsize > 0) {
    const file = new LogFile(config.logto, currentLogFd(), config.logMaxsize, config.logBackupname);
    setInterval(() => file.rotateIfBig(), 1000).unref();
  }
  const threads = unit.threads > 1 ? `, threads: ${unit.threads}` : '';
  logLine(
    `spawned tsgi worker 1 (and the only) (pid: ${process.pid}, cores: ${unit.threads * config.async}${threads})`,
  );
  sdReady();
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'bench') {
    // `tsgi bench …`: the benchmark harness (src/bench/), loaded only when asked for.
    enableOptimizer();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bench = require('../bench/cli') as { main(argv: string[]): Promise<number> };
    process.exitCode = await bench.main(argv.slice(1));
    return;
  }
  let result: ReturnType<typeof loadConfig>;
  try {
    result = loadConfig(argv, process.env, process.cwd());
  } catch (err) {
    fail(err);
  }
  if ('signal' in result) {
    try {
      signalPidfile(result.signal.option, result.signal.pidfile);
    } catch (err) {
      fail(err);
    }
    return;
  }
  if (!isConfig(result)) {
    process.stdout.write('help' in result ? result.help : result.version + '\n');
    return;
  }
  const config = result;
  const handedOver = await daemonize(config, argv);
  if (handedOver !== null) {
    process.exitCode = handedOver;
    return;
  }
  applyEnv(config);
  setLogDate(config.logDate);
  try {
    if (config.logto) openLogFile(config.logto);
    logLine(`*** Starting ${versionText()} ***`);
    sdStatus('initializing tsgi');
    for (const w of config.warnings) logLine(`tsgi: warning: ${w}`);
    if (config.plugins.length > 0) {
      logLine(
        `tsgi: --plugins ${config.plugins.join(',')} accepted for compatibility; tsgi has one app language and needs no plugins`,
      );
    }
    const startCwd = process.cwd();
    if (config.chdir) {
      process.chdir(config.chdir);
      logLine(`tsgi: chdir() to ${config.chdir}`);
    }
    const sockets = bindAll(config, process.cwd());
    const routerSockets = config.http.length > 0 ? bindRouterOrClose(config, sockets) : [];
    if (needsMaster(config)) {
      // The master never loads the app: without --lazy-apps its first worker loads it before
      // the others start, and a broken app stops the instance with exit 22 (src/master/master.ts).
      // The master keeps V8's optimising compiler off for good (src/process/optimizer.ts).
      const { Master } = require('../master/master') as typeof MasterModule;
      new Master(config, argv, sockets, currentLogFd(), startCwd, routerSockets).start();
      return;
    }
    // Without a master this process serves: it drops --uid/--gid itself, now that every
    // socket is bound and before any app code runs.
    dropPrivileges(config);
    await serveHere(config, sockets);
  } catch (err) {
    fail(err);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2));
}
