// Harakiri for app threads: the native watchdog (native/src/loop/harakiri.h) answers the
// stuck request 504 and asks this process's main thread to stop the stuck thread, which the
// thread group then replaces like a crashed one. Without this handler (one thread per
// process) the watchdog kills the whole process and the master respawns it.

import { addon } from '../native';
import { logLine } from './log';
import { startThreads, type ThreadGroup } from './threads';

export { startThreads };

export function installThreadHarakiri(group: ThreadGroup): void {
  addon.setHarakiriHandler((threadId: number, coreId: number) => {
    logLine(`tsgi: harakiri: terminating thread ${coreId} (thread id ${threadId}); it will be replaced`);
    void group.terminateThread(coreId);
  });
}
