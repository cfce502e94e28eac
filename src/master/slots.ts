// Worker slots of the master: one per --processes, each holding the current worker process,
// at most one replacement that is starting (a reload or a recycle: it takes over once it
// says it serves), and any older ones still finishing their requests ("cursed", uWSGI's
// word), each with a deadline after which it is killed (--worker-reload-mercy).

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../config';
import { encodeConfig, encodeHandoff, FIRST_INHERITED_FD, HANDOFF_ENV, type WorkerMessage } from '../process/handoff';
import { OPTIMIZER_OFF } from '../process/optimizer';
import type { BoundSocket } from '../process/sockets';

export interface Slot {
  id: number;
  /** The process serving for this slot (it keeps serving while `next` starts). */
  current: ChildProcess | null;
  /** The current process said it serves. */
  ready: boolean;
  /** Its replacement, started by a reload or a recycle, until it says it serves. */
  next: ChildProcess | null;
  /** A reload came while `next` was starting: replace again once `next` serves, so the
   *  slot ends up running code loaded after the last reload. */
  reloadAgain: boolean;
  /** Seconds since the epoch of the last (re)spawn. */
  lastSpawn: number;
  respawnCount: number;
  /** Older processes of this slot that were asked to stop, with their kill timers. */
  cursed: Map<ChildProcess, NodeJS.Timeout>;
  /** Retired by the cheaper subsystem (or never started by it): nothing respawns or reloads
   *  the slot until the cheaper algorithm spawns it again (uWSGI's `cheaped`). */
  cheap: boolean;
}

export interface SpawnContext {
  /** The configuration for the worker about to be spawned. */
  config(): Config;
  cwd: string;
  sockets: BoundSocket[];
  /** fd the workers log to (the master's stderr or --logto file). */
  logFd: number;
  /** The shared scoreboard's fd, inherited by every worker after the sockets. */
  scoreboardFd: number;
  onMessage(slot: Slot, child: ChildProcess, msg: WorkerMessage): void;
  onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void;
}

const WORKER_ENTRY = path.join(__dirname, '..', 'worker', 'main.js');

export function newSlot(id: number): Slot {
  return {
    id,
    current: null,
    ready: false,
    next: null,
    reloadAgain: false,
    lastSpawn: 0,
    respawnCount: 0,
    cursed: new Map(),
    cheap: false,
  };
}

/** Starts a worker process for `slot`: its current process, or with `asNext` the
 *  replacement of the current one. */
export function spawnWorker(slot: Slot, ctx: SpawnContext, asNext = false): ChildProcess {
  const handoff = encodeHandoff({
    id: slot.id,
    config: encodeConfig(ctx.config()),
    cwd: ctx.cwd,
    sockets: ctx.sockets.map((s, i) => ({
      address: s.address,
      protocol: s.protocol,
      port: s.port,
      fd: FIRST_INHERITED_FD + i,
    })),
    scoreboardFd: FIRST_INHERITED_FD + ctx.sockets.length,
  });
  // The listening fds are close-on-exec in the master; mapping them into the child's stdio
  // array dup2()s them to fds 4, 5, ... without that flag, so only workers inherit them.
  const child = spawn(process.execPath, [...process.execArgv, OPTIMIZER_OFF, WORKER_ENTRY], {
    cwd: ctx.cwd,
    env: { ...process.env, [HANDOFF_ENV]: handoff },
    stdio: ['ignore', ctx.logFd, ctx.logFd, 'ipc', ...ctx.sockets.map((s) => s.fd), ctx.scoreboardFd],
  });
  if (asNext) {
    slot.next = child;
  } else {
    slot.current = child;
    slot.ready = false;
  }
  slot.lastSpawn = Math.floor(Date.now() / 1000);
  slot.respawnCount++;
  child.on('message', (msg: WorkerMessage) => ctx.onMessage(slot, child, msg));
  child.on('exit', (code, signal) => ctx.onExit(slot, child, code, signal));
  // An IPC write to a process that just died must not crash the master.
  child.on('error', () => {});
  return child;
}

/** The current process hands over to the replacement that just said it serves; returns the
 *  old one (to be cursed), if any. */
export function promote(slot: Slot): ChildProcess | null {
  const old = slot.current;
  slot.current = slot.next;
  slot.next = null;
  slot.ready = true;
  return old;
}

function gone(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Asks a worker to finish its requests and exit; kills it after `mercyMs`. */
export function curse(slot: Slot, child: ChildProcess, mercyMs: number, onKill: (child: ChildProcess) => void): void {
  if (slot.current === child) {
    slot.current = null;
    slot.ready = false;
  }
  if (slot.next === child) slot.next = null;
  // A process that already exited has nothing to finish, and its pid may be reused.
  if (slot.cursed.has(child) || gone(child)) return;
  const timer = setTimeout(() => onKill(child), mercyMs);
  timer.unref();
  slot.cursed.set(child, timer);
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
}

/** Forgets a process that exited and says which one it was: a cursed one (an expected
 *  exit), the current one, the replacement that had not served yet, or none of them. */
export function reap(slot: Slot, child: ChildProcess): 'cursed' | 'current' | 'next' | 'unknown' {
  const timer = slot.cursed.get(child);
  if (timer !== undefined) {
    clearTimeout(timer);
    slot.cursed.delete(child);
    return 'cursed';
  }
  if (slot.current === child) {
    slot.current = null;
    slot.ready = false;
    return 'current';
  }
  if (slot.next === child) {
    slot.next = null;
    return 'next';
  }
  return 'unknown';
}

export function livePids(slots: Slot[]): number[] {
  const pids: number[] = [];
  for (const s of slots) {
    if (s.current?.pid !== undefined) pids.push(s.current.pid);
    if (s.next?.pid !== undefined) pids.push(s.next.pid);
    for (const c of s.cursed.keys()) if (c.pid !== undefined) pids.push(c.pid);
  }
  return pids;
}
