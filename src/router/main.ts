// Entry of the router process ("tsgi http router") spawned by the master for --http. All
// request work is native (native/src/router/); this file starts the router on the inherited
// fds and obeys the master: "stop" or SIGTERM = stop accepting, finish the requests in
// flight, exit 0; a closed IPC channel = the master is gone, exit at once (no orphans).
// SIGHUP is ignored: reloads replace workers, never the router (docs/router.md, "Processes").

import { addon } from '../native';
import { logLine, setLogDate } from '../process/log';
import { reopenStdio } from '../process/logfile';
import { decodeRouterHandoff, ROUTER_HANDOFF_ENV, type RouterMessage } from './handoff';

const POLL_MS = 50;

function run(): void {
  const raw = process.env[ROUTER_HANDOFF_ENV];
  if (!raw) throw new Error(`${ROUTER_HANDOFF_ENV} is not set: this file is started by the tsgi master`);
  delete process.env[ROUTER_HANDOFF_ENV];
  const handoff = decodeRouterHandoff(raw);
  process.title = handoff.processTitle;
  setLogDate(handoff.logDate);
  const router = new addon.Router(handoff);

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    logLine(`tsgi http router (pid: ${process.pid}): ${why}, finishing ${router.active()} connection(s)`);
    router.stop();
    const poll = setInterval(() => {
      if (router.active() > 0) return;
      clearInterval(poll);
      process.exit(0);
    }, POLL_MS);
  };
  process.on('message', (msg: { type?: string; file?: string }) => {
    if (msg?.type === 'stop') stop("stopping on the master's request");
    else if (msg?.type === 'reopen-log' && msg.file !== undefined) {
      reopenStdio(msg.file, `tsgi http router (pid: ${process.pid})`);
    }
  });
  process.on('disconnect', () => {
    router.destroy();
    process.exit(1);
  });
  process.on('SIGTERM', () => {
    if (handoff.masterStops && process.connected) {
      logLine(
        `tsgi http router (pid: ${process.pid}): SIGTERM received; serving until the master stops it (--shutdown-delay)`,
      );
    } else stop('SIGTERM received');
  });
  process.on('SIGHUP', () => {});
  process.on('SIGINT', () => {
    router.destroy();
    process.exit(0);
  });
  const ready: RouterMessage = { type: 'ready' };
  if (process.connected && process.send) process.send(ready);
}

try {
  run();
} catch (err) {
  logLine(`tsgi http router: ${(err as Error)?.message ?? String(err)}`);
  process.exit(1);
}
