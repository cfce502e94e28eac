// Entry of a worker process spawned by the master (src/master/). It takes the configuration
// the master read for it (src/process/handoff.ts), serves on the listening sockets it inherited, and obeys the master over the
// IPC channel: "stop" = finish in-flight requests, then exit; a closed channel = the master
// is gone, so exit at once (no orphans). A SIGHUP asks the master for a replacement.

import type { Config } from '../config';
import { isTsgiError } from '../errors';
import {
  decodeConfig,
  decodeHandoff,
  HANDOFF_ENV,
  inheritedSockets,
  type MasterMessage,
  type WorkerMessage,
} from '../process/handoff';
import { logLine, setLogDate } from '../process/log';
import { reopenStdio } from '../process/logfile';
import { processTitle } from '../process/title';
import { type ServingUnit, startServingUnit } from '../process/unit';

function send(msg: WorkerMessage): void {
  if (process.connected && process.send) process.send(msg);
}

async function run(): Promise<void> {
  const raw = process.env[HANDOFF_ENV];
  if (!raw) throw new Error(`${HANDOFF_ENV} is not set: this file is started by the tsgi master`);
  const handoff = decodeHandoff(raw);
  delete process.env[HANDOFF_ENV];
  process.title = `tsgi worker ${handoff.id}`;
  const config: Config = decodeConfig(handoff.config);
  process.title = processTitle(config, 'worker', `tsgi worker ${handoff.id}`);
  setLogDate(config.logDate);
  if (config.chdir) process.chdir(config.chdir);

  // The master's messages and the signals are handled from the start: a stop that comes
  // while the app still loads ends the process at once (nothing to finish), and a master
  // that went away during the load leaves no orphan behind.
  let unit: ServingUnit | null = null;
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    if (unit === null) {
      logLine(`tsgi worker ${handoff.id} (pid: ${process.pid}): ${why} before serving; exiting`);
      process.exit(0);
    }
    logLine(`tsgi worker ${handoff.id} (pid: ${process.pid}): ${why}, finishing in-flight requests`);
    void unit.stop().then(() => process.exit(0));
  };
  process.on('message', (msg: MasterMessage) => {
    if (msg?.type === 'stop') stop("stopping on the master's request");
    else if (msg?.type === 'reopen-log') reopenStdio(msg.file, `tsgi worker ${handoff.id} (pid: ${process.pid})`);
  });
  process.on('disconnect', () => {
    logLine(`tsgi worker ${handoff.id} (pid: ${process.pid}): the master disconnected; exiting`);
    unit?.destroy();
    process.exit(1);
  });
  // Sent to the whole process group (a terminal's Ctrl-C, systemd's KillMode=control-group).
  // With --shutdown-delay the master drains first and then stops this worker itself.
  process.on('SIGTERM', () => {
    if (config.shutdownDelay > 0 && process.connected) {
      logLine(
        `tsgi worker ${handoff.id} (pid: ${process.pid}): SIGTERM received; serving until the master stops it (--shutdown-delay)`,
      );
    } else stop('SIGTERM received');
  });
  // A SIGHUP to the process group (a shell's `kill -HUP %1`, `systemctl kill -s HUP`) also
  // reaches the master, which reloads every worker: stopping here as well would leave no
  // process accepting until the new ones have loaded the app. Like any SIGHUP sent to a
  // worker alone, it becomes a request to the master to replace this worker, which starts
  // the new process first (docs/master.md, "Signals").
  process.on('SIGHUP', () => {
    if (!process.connected) return stop('SIGHUP received');
    logLine(`tsgi worker ${handoff.id} (pid: ${process.pid}): SIGHUP received, asking the master for a replacement`);
    send({ type: 'sighup', id: handoff.id });
  });
  process.on('SIGINT', () => {
    unit?.destroy();
    process.exit(0);
  });

  const sockets = inheritedSockets(handoff);
  unit = await startServingUnit(config, sockets, {
    workerId: handoff.id,
    logFd: 2,
    multiprocess: config.processes > 1,
    scoreboardFd: handoff.scoreboardFd,
  });
  send({ type: 'ready', id: handoff.id });
  watchRecycling(config, unit, handoff.id);
}

/**
 * --max-requests, --reload-on-rss, gated by --min-worker-lifetime (uWSGI's defaults and
 * semantics): when due, the worker asks the master to replace it; the master starts the
 * new worker first and then asks this one to finish its requests and exit, so recycling
 * never refuses a connection.
 */
function watchRecycling(config: Config, unit: ServingUnit, id: number): void {
  if (config.maxRequests <= 0 && config.reloadOnRss <= 0) return;
  const born = Date.now();
  let checking = false;
  const timer = setInterval(async () => {
    if (checking || Date.now() - born < config.minWorkerLifetime * 1000) return;
    checking = true;
    const served = (await unit.counters()).requests;
    checking = false;
    let reason = '';
    if (config.maxRequests > 0 && served >= config.maxRequests) {
      reason = `max requests reached (${served} >= ${config.maxRequests})`;
    } else if (config.reloadOnRss > 0) {
      const rssMb = process.memoryUsage.rss() / (1024 * 1024);
      if (rssMb > config.reloadOnRss)
        reason = `rss ${rssMb.toFixed(0)} MB above reload-on-rss ${config.reloadOnRss} MB`;
    }
    if (reason === '') return;
    clearInterval(timer);
    logLine(`...The work of process ${process.pid} is done (${reason}). Seeya!`);
    send({ type: 'recycle', id, reason });
  }, 100);
  timer.unref();
}

run().catch((err: unknown) => {
  logLine(isTsgiError(err) ? err.message : `tsgi: worker failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(isTsgiError(err) ? err.exitCode : 1);
});
