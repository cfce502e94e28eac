// The tsgi command: configuration → sockets → app → serve, with uWSGI's startup log lines
// and one clear line plus a non-zero exit code for every startup failure.

import { isConfig, loadConfig, versionText, type Config } from '../config';
import { isTsgiError } from '../errors';
import { currentLogFd, logLine, openLogFile } from '../process/log';
import { serve } from '../process/serve';
import { startThreads } from '../process/threads';
import type { ServerCounters } from '../native';
import { installCrashGuards, loadTheApp } from '../process/startup';
import { Master, needsMaster } from '../master/master';
import { installThreadHarakiri } from '../process/threads-harakiri';
import { bindAll, bindRouterSockets, bindRouterWorkerSocket, closeAll, type BoundSocket } from '../process/sockets';
import { dropPrivileges } from '../master/privileges';

function fail(err: unknown): never {
  if (isTsgiError(err)) {
    logLine(err.message);
    process.exit(err.exitCode);
  }
  const e = err as Error;
  logLine(`tsgi: fatal: ${e?.stack ?? String(err)}`);
  process.exit(1);
}

/** What the signal handlers drive: one Server on this thread, or a group of app threads. */
interface Running {
  stop(): Promise<void>;
  destroy(): void;
  counters(): ServerCounters | Promise<ServerCounters>;
}

function installSignals(serving: Running, sockets: BoundSocket[], config: Config): void {
  let stopping = false;
  const finish = (code: number): void => {
    closeAll(sockets, config.vacuum);
    process.exit(code);
  };
  // SIGTERM: graceful shutdown, what Docker, Kubernetes and systemd expect (docs/master.md,
  // "Signals"); --die-on-term is accepted and changes nothing.
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    logLine('tsgi: SIGTERM received, finishing in-flight requests then exiting');
    void serving.stop().then(() => {
      logLine('tsgi: goodbye');
      finish(0);
    });
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
    logLine(`tsgi stats: requests=${c.requests} inflight=${c.inflight} open=${c.open} connections=${c.connections} tx=${c.tx} bad_requests=${c.badRequests}`);
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

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'bench') {
    // `tsgi bench …`: the benchmark harness (src/bench/), loaded only when asked for.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bench = require('../bench/cli') as { main(argv: string[]): Promise<number> };
    process.exitCode = await bench.main(argv.slice(1));
    return;
  }
  let result;
  try {
    result = loadConfig(argv, process.env, process.cwd());
  } catch (err) {
    fail(err);
  }
  if (!isConfig(result)) {
    process.stdout.write('help' in result ? result.help : result.version + '\n');
    return;
  }
  const config = result;
  try {
    if (config.logto) openLogFile(config.logto);
    logLine(`*** Starting ${versionText()} ***`);
    for (const w of config.warnings) logLine(`tsgi: warning: ${w}`);
    if (config.plugins.length > 0) {
      logLine(`tsgi: --plugins ${config.plugins.join(',')} accepted for compatibility; tsgi has one app language and needs no plugins`);
    }
    const startCwd = process.cwd();
    if (config.chdir) {
      process.chdir(config.chdir);
      logLine(`tsgi: chdir() to ${config.chdir}`);
    }
    const sockets = bindAll(config, process.cwd());
    const routerSockets = config.http.length > 0 ? bindRouterOrClose(config, sockets) : [];
    if (needsMaster(config)) {
      // Without --lazy-apps the master loads the app once first, so a broken app stops the
      // instance with its error and exit code 22 instead of a respawn loop (uWSGI's rule).
      if (!config.lazyApps) {
        await loadTheApp(config).catch((err) => {
          closeAll(sockets, config.vacuum);
          closeAll(routerSockets, config.vacuum);
          throw err;
        });
      }
      new Master(config, argv, sockets, currentLogFd(), startCwd, routerSockets).start();
      return;
    }
    // Without a master this process serves: it drops --uid/--gid itself, now that every
    // socket is bound and before any app code runs.
    dropPrivileges(config);
    if (config.threads > 1) {
      // --threads T: T app threads, each with its own accept loop on these sockets
      // (src/process/threads.ts); this thread only supervises them and handles signals.
      const group = await startThreads({
        config,
        sockets,
        workerId: 1,
        threads: config.threads,
        logFd: currentLogFd(),
        multiprocess: false,
      }).catch((err) => {
        closeAll(sockets, config.vacuum);
        throw err;
      });
      const kind = group.app.kind === 'fetch' ? 'fetch handler' : group.app.kind === 'node' ? 'node:http app' : 'gateway callable';
      logLine(
        `tsgi app 0 (mountpoint='') ready in ${Math.round(group.app.loadMs / 1000)} seconds on interpreter node ${process.version} ` +
          `(${kind} '${config.callable}') pid: ${process.pid} (default app, loaded in each of ${group.size} threads)`,
      );
      installThreadHarakiri(group);
      installSignals(group, sockets, config);
      logLine(`spawned tsgi worker 1 (and the only) (pid: ${process.pid}, cores: ${group.size * config.async}, threads: ${group.size})`);
      return;
    }
    const app = await loadTheApp(config).catch((err) => {
      closeAll(sockets, config.vacuum);
      throw err;
    });
    const serving = serve(config, app, sockets, {
      workerId: 1,
      coreId: 0,
      logFd: currentLogFd(),
      multiprocess: false,
      multithread: false,
    });
    installSignals({ stop: serving.stop, destroy: serving.destroy, counters: () => serving.server.counters() }, sockets, config);
    installCrashGuards();
    logLine(`spawned tsgi worker 1 (and the only) (pid: ${process.pid}, cores: ${config.async})`);
  } catch (err) {
    fail(err);
  }
}

if (require.main === module) {
  void main(process.argv.slice(2));
}

