// What a master tells a worker process it spawns, and how the worker finds its inherited
// listening sockets. Crosses a process boundary as JSON in one environment variable (the
// TSGI_INTERNAL_ prefix is never read as an option: docs/config.md).

import type { Address, SocketProtocol } from '../config';
import type { BoundSocket } from './sockets';

export const HANDOFF_ENV = 'TSGI_INTERNAL_WORKER';

/** The first fd after stdin, stdout, stderr and the IPC channel. */
export const FIRST_INHERITED_FD = 4;

export interface WorkerHandoff {
  /** 1-based worker id (uWSGI's numbering), stable across respawns of the slot. */
  id: number;
  /** The command line the master was started with, re-read by the worker. */
  argv: string[];
  cwd: string;
  sockets: Array<{ address: Address; protocol: SocketProtocol; port: number; fd: number }>;
  /** The inherited fd of the master's shared scoreboard (src/stats, native/src/scoreboard). */
  scoreboardFd?: number;
}

/** Messages on the IPC channel. */
export type MasterMessage = { type: 'stop' } | { type: 'reopen-log'; file: string };
export type WorkerMessage =
  | { type: 'ready'; id: number }
  | { type: 'recycle'; id: number; reason: string }
  /** The worker got a SIGHUP: the master replaces it (docs/master.md, "Signals"). */
  | { type: 'sighup'; id: number };

export function encodeHandoff(h: WorkerHandoff): string {
  return JSON.stringify(h);
}

export function decodeHandoff(raw: string): WorkerHandoff {
  const h = JSON.parse(raw) as WorkerHandoff;
  if (typeof h.id !== 'number' || !Array.isArray(h.argv) || !Array.isArray(h.sockets)) {
    throw new Error(`malformed ${HANDOFF_ENV}`);
  }
  return h;
}

/** The worker's view of its inherited sockets. */
export function inheritedSockets(h: WorkerHandoff): BoundSocket[] {
  return h.sockets.map((s) => ({ address: s.address, protocol: s.protocol, fd: s.fd, port: s.port }));
}
