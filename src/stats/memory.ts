// Worker memory for the stats `rss` / `vsz` fields (uWSGI fills them only with memory
// reporting on: --memory-report, --reload-on-rss, ...). Read by the master per worker pid
// and stored in the worker's scoreboard slot with scoreboardSetWorker.

import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Resident set size, bytes. */
  rss: number;
  /** Virtual memory size, bytes. */
  vsz: number;
}

/** Reads /proc/<pid>/status (VmRSS, VmSize, in kB there). Null when the process is gone. */
export function readProcessMemory(pid: number): ProcessMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return null;
  }
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb('VmRSS'), vsz: kb('VmSize') };
}
