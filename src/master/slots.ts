// Worker slots of the master: one per --processes, each holding the current worker process
// and any older ones still finishing their requests after a reload ("cursed", uWSGI's word),
// each with a deadline after which it is killed (--worker-reload-mercy).

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { BoundSocket } from '../worker/sockets';
import { encodeHandoff, FIRST_INHERITED_FD, HANDOFF_ENV, type WorkerMessage } from '../worker/handoff';

export interface Slot {
  id: number;
  current: ChildProcess | null;
  /** The current process said it serves. */
  ready: boolean;
  /** Seconds since the epoch of the last (re)spawn. */
  lastSpawn: number;
  respawnCount: number;
  /** Older processes of this slot that were asked to stop, with their kill timers. */
  cursed: Map<ChildProcess, NodeJS.Timeout>;
}

export interface SpawnContext {
  argv: string[];
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
  return { id, current: null, ready: false, lastSpawn: 0, respawnCount: 0, cursed: new Map() };
}

/** Starts a worker process for `slot`; it becomes the slot's current process. */
export function spawnWorker(slot: Slot, ctx: SpawnContext): ChildProcess {
  const handoff = encodeHandoff({
    id: slot.id,
    argv: ctx.argv,
    cwd: ctx.cwd,
    sockets: ctx.sockets.map((s, i) => ({ address: s.address, protocol: s.protocol, port: s.port, fd: FIRST_INHERITED_FD + i })),
    scoreboardFd: FIRST_INHERITED_FD + ctx.sockets.length,
  });
  // The listening fds are close-on-exec in the master; mapping them into the child's stdio
  // array dup2()s them to fds 4, 5, ... without that flag, so only workers inherit them.
  const child = spawn(process.execPath, [...process.execArgv, WORKER_ENTRY], {
    cwd: ctx.cwd,
    env: { ...process.env, [HANDOFF_ENV]: handoff },
    stdio: ['ignore', ctx.logFd, ctx.logFd, 'ipc', ...ctx.sockets.map((s) => s.fd), ctx.scoreboardFd],
  });
  slot.current = child;
  slot.ready = false;
  slot.lastSpawn = Math.floor(Date.now() / 1000);
  slot.respawnCount++;
  child.on('message', (msg: WorkerMessage) => ctx.onMessage(slot, child, msg));
  child.on('exit', (code, signal) => ctx.onExit(slot, child, code, signal));
  // An IPC write to a process that just died must not crash the master.
  child.on('error', () => {});
  return child;
}

/** Asks a worker to finish its requests and exit; kills it after `mercyMs`. */
export function curse(slot: Slot, child: ChildProcess, mercyMs: number, onKill: (child: ChildProcess) => void): void {
  if (slot.current === child) {
    slot.current = null;
    slot.ready = false;
  }
  if (slot.cursed.has(child)) return;
  const timer = setTimeout(() => onKill(child), mercyMs);
  timer.unref();
  slot.cursed.set(child, timer);
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
}

/** Forgets a process that exited; returns true when it was a cursed (expected) exit. */
export function reap(slot: Slot, child: ChildProcess): boolean {
  const timer = slot.cursed.get(child);
  if (timer !== undefined) {
    clearTimeout(timer);
    slot.cursed.delete(child);
    return true;
  }
  if (slot.current === child) {
    slot.current = null;
    slot.ready = false;
  }
  return false;
}

export function livePids(slots: Slot[]): number[] {
  const pids: number[] = [];
  for (const s of slots) {
    if (s.current?.pid !== undefined) pids.push(s.current.pid);
    for (const c of s.cursed.keys()) if (c.pid !== undefined) pids.push(c.pid);
  }
  return pids;
}
