// What a master tells a worker process it spawns, and how the worker finds its inherited
// listening sockets. Crosses a process boundary as JSON in one environment variable (the
// TSGI_INTERNAL_ prefix is never read as an option: docs/config.md).
//
// The configuration travels validated: the master reads the command line (and its ini files)
// again for every worker it spawns, so a reload still picks up an edited ini file, and the
// worker never loads the configuration parser, which would cost it ~2 MiB of RSS for its
// whole life (bench/RESULTS.md, "Memory and start-up").

import type { Address, Config, SocketProtocol } from '../config';
import type { BoundSocket } from './sockets';

export const HANDOFF_ENV = 'TSGI_INTERNAL_WORKER';

/** The first fd after stdin, stdout, stderr and the IPC channel. */
export const FIRST_INHERITED_FD = 4;

export interface WorkerHandoff {
  /** 1-based worker id (uWSGI's numbering), stable across respawns of the slot. */
  id: number;
  /** The worker's configuration (encodeConfig), read by the master for this spawn. */
  config: EncodedConfig;
  /** The directory the master was started in (before --chdir). */
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

/** A Config as JSON can carry it: its Set and Map as arrays. */
export type EncodedConfig = Omit<Config, 'explicit' | 'origins'> & {
  explicit: string[];
  origins: Array<[string, Config['origins'] extends Map<string, infer O> ? O : never]>;
};

export function encodeConfig(config: Config): EncodedConfig {
  return { ...config, explicit: [...config.explicit], origins: [...config.origins] };
}

export function decodeConfig(e: EncodedConfig): Config {
  return { ...e, explicit: new Set(e.explicit), origins: new Map(e.origins) };
}

export function encodeHandoff(h: WorkerHandoff): string {
  return JSON.stringify(h);
}

export function decodeHandoff(raw: string): WorkerHandoff {
  const h = JSON.parse(raw) as WorkerHandoff;
  if (typeof h.id !== 'number' || typeof h.config !== 'object' || !Array.isArray(h.sockets)) {
    throw new Error(`malformed ${HANDOFF_ENV}`);
  }
  return h;
}

/** The worker's view of its inherited sockets. */
export function inheritedSockets(h: WorkerHandoff): BoundSocket[] {
  return h.sockets.map((s) => ({ address: s.address, protocol: s.protocol, fd: s.fd, port: s.port }));
}
