// The master's side of the HTTP router (--http): one "tsgi http router" process that
// inherits the router's listening sockets, forwards to the worker socket, and is respawned
// when it dies. Reloads never touch it (docs/router.md, "Processes"); on a graceful shutdown it is
// stopped first, so every request it accepted still reaches a worker before they go.

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../config';
import { logLine } from '../process/log';
import type { BoundSocket } from '../process/sockets';
import { encodeRouterHandoff, ROUTER_HANDOFF_ENV, routerBackend } from '../router/handoff';

const ROUTER_ENTRY = path.join(__dirname, '..', 'router', 'main.js');
/** A router that dies sooner than this after its spawn is respawned after this delay. */
const RESPAWN_GUARD_MS = 1000;

export class RouterProcess {
  private child: ChildProcess | null = null;
  private spawnedAt = 0;
  private stopping = false;
  private killTimer: NodeJS.Timeout | null = null;
  private readonly handoff: string;

  constructor(
    config: Config,
    private readonly sockets: BoundSocket[],
    workerSockets: BoundSocket[],
    private readonly logFd: number,
    private readonly cwd: string,
    /** Called when the router exits while stopping (the master may then go on). */
    private readonly onStopped: () => void,
  ) {
    this.handoff = encodeRouterHandoff(config, sockets, routerBackend(workerSockets));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  start(): void {
    // The listening fds are close-on-exec in the master; the stdio mapping dup2()s them to
    // fds 4, 5, ... of the router only (workers never see them).
    const child = spawn(process.execPath, [...process.execArgv, ROUTER_ENTRY], {
      cwd: this.cwd,
      env: { ...process.env, [ROUTER_HANDOFF_ENV]: this.handoff },
      stdio: ['ignore', this.logFd, this.logFd, 'ipc', ...this.sockets.map((s) => s.fd)],
    });
    this.child = child;
    this.spawnedAt = Date.now();
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', () => {});
    logLine(`spawned tsgi http 1 (pid: ${child.pid})`);
  }

  /** Graceful: the router stops accepting, finishes its connections, exits; killed after `mercyMs`. */
  stop(mercyMs: number): void {
    this.stopping = true;
    const child = this.child;
    if (child === null) {
      this.onStopped();
      return;
    }
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    this.killTimer = setTimeout(() => {
      logLine(`tsgi http router (pid: ${child.pid}) is taking too much time to finish... NO MERCY !!!`);
      child.kill('SIGKILL');
    }, mercyMs);
    this.killTimer.unref();
  }

  /** Tells the router to point its log at `file` again (--log-reopen, --log-maxsize). */
  reopenLog(file: string): void {
    if (this.child?.connected) this.child.send({ type: 'reopen-log', file });
  }

  kill(): void {
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    if (this.killTimer) clearTimeout(this.killTimer);
    const how = signal ? `killed by signal ${signal}` : `exited with code ${code}`;
    if (this.stopping) {
      logLine(`tsgi http router (pid: ${child.pid}) ${how}`);
      this.onStopped();
      return;
    }
    logLine(`DAMN ! tsgi http router (pid: ${child.pid}) ${how} :( trying respawn ...`);
    const soon = Date.now() - this.spawnedAt < RESPAWN_GUARD_MS;
    if (!soon) {
      this.start();
      return;
    }
    setTimeout(() => {
      if (!this.stopping && this.child === null) this.start();
    }, RESPAWN_GUARD_MS);
  }
}
