// The master's side of the HTTP router (--http): the native router runs on a thread of the
// master with a libuv loop of its own (native/src/router/router_thread.h), listening on the
// router sockets and forwarding to the worker socket. No JS runs there, and requests run in
// the workers, so a request that crashes the app takes down a worker, not the router.
// Reloads never touch it
// (docs/router.md, "Processes and threads"); on a graceful shutdown it is stopped first, so
// every request it accepted still reaches a worker before they go.

import type { Config } from '../config';
import { SocketError } from '../errors';
import { addon, type NativeRouterThread, type RouterOptions } from '../native';
import { logLine } from '../process/log';
import type { BoundSocket } from '../process/sockets';
import { routerBackend, routerOptions } from '../router/options';

/** How often a stopping router is asked whether its last connection has closed. */
const STOP_POLL_MS = 50;

export class HttpRouter {
  private native: NativeRouterThread | null = null;
  private stopPoll: NodeJS.Timeout | null = null;
  private readonly options: RouterOptions;

  constructor(
    config: Config,
    sockets: BoundSocket[],
    workerSockets: BoundSocket[],
    logFd: number,
    /** Called once a stop has finished (the master may then go on). */
    private readonly onStopped: () => void,
  ) {
    this.options = routerOptions(config, sockets, routerBackend(workerSockets), logFd);
  }

  /** Started and not yet stopped. */
  get running(): boolean {
    return this.native !== null;
  }

  /** Client connections open, requests forwarded and requests the router answered itself. */
  counters(): ReturnType<NativeRouterThread['counters']> | null {
    return this.native?.counters() ?? null;
  }

  /** Starts the router thread; returns once it listens. Throws a SocketError if it cannot. */
  start(): void {
    try {
      this.native = new addon.RouterThread(this.options);
    } catch (err) {
      throw new SocketError('TSGI_ERR_BIND_FAILED', `tsgi: --http: ${(err as Error).message}`, { cause: err });
    }
    logLine(`spawned tsgi http router thread (in the master, pid: ${process.pid})`);
    // Whatever path ends the process, the thread is joined first: exit handlers and static
    // destructors must not run under a router loop still going.
    process.once('exit', () => this.kill());
  }

  /** Graceful: stop accepting, finish the connections held; destroyed after `mercyMs`. */
  stop(mercyMs: number): void {
    const native = this.native;
    if (native === null || this.stopPoll !== null) {
      if (native === null) this.onStopped();
      return;
    }
    logLine(`tsgi http router: stopping on the master's request, finishing ${native.active()} connection(s)`);
    native.stop();
    const deadline = Date.now() + mercyMs;
    this.stopPoll = setInterval(() => {
      if (native.stopped()) this.finish('tsgi http router: stopped');
      else if (Date.now() >= deadline) {
        this.finish('tsgi http router is taking too much time to finish... NO MERCY !!!');
      }
    }, STOP_POLL_MS);
  }

  /** Now: every connection is closed and the thread joined (fast shutdown). */
  kill(): void {
    if (this.stopPoll !== null) clearInterval(this.stopPoll);
    this.stopPoll = null;
    this.native?.destroy();
    this.native = null;
  }

  private finish(line: string): void {
    logLine(line);
    this.kill();
    this.onStopped();
  }
}
