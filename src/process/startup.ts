// Startup steps shared by the single-process CLI and the worker processes (the master never
// loads the app): loading the app with uWSGI's log line, and the crash guards.

import { type LoadedApp, loadApp } from '../app';
import type { Config } from '../config';
import { logLine } from './log';

/** Loads the app named by the config and logs uWSGI's "app 0 ... ready" line. */
export async function loadTheApp(config: Config): Promise<LoadedApp> {
  const started = process.hrtime.bigint();
  const app = await loadApp({
    wsgiFile: config.appPath ?? config.wsgiFile,
    module: config.module,
    callable: config.callable,
    chdir: config.chdir,
    appType: config.appType,
    log: logLine,
  });
  const ms = Number((process.hrtime.bigint() - started) / 1000000n);
  const kind = app.kind === 'fetch' ? 'fetch handler' : app.kind === 'node' ? app.label : 'gateway callable';
  logLine(
    `tsgi app 0 (mountpoint='') ready in ${Math.round(ms / 1000)} seconds on interpreter node ${process.version} ` +
      `(${kind} '${config.callable}') pid: ${process.pid} (default app)`,
  );
  return app;
}

/**
 * App code that throws outside a request (a timer, an event handler) must not take the
 * worker down with every connection it holds: log it with the stack and keep serving.
 */
export function installCrashGuards(): void {
  process.on('uncaughtException', (err) => {
    logLine(`tsgi: uncaught exception in app code (worker keeps serving): ${(err as Error)?.stack ?? String(err)}`);
  });
  process.on('unhandledRejection', (reason) => {
    logLine(`tsgi: unhandled promise rejection in app code: ${(reason as Error)?.stack ?? String(reason)}`);
  });
}
