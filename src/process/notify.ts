// systemd's readiness protocol (sd_notify(3)) for Type=notify units, as uWSGI speaks it
// (core/notify.c): when $NOTIFY_SOCKET is set, the process systemd started (the master, or the
// only process) says STATUS= while it starts, READY=1 once every worker serves,
// RELOADING=1 ... READY=1 around a graceful reload and STOPPING=1 when it stops. Without
// $NOTIFY_SOCKET nothing is sent. A failed send is logged once and never stops the server.

import { addon } from '../native';
import { tellStarterReady } from './daemon';
import { logLine } from './log';

let warned = false;

export function sdNotify(message: string): void {
  const socket = process.env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return;
  const err = addon.sdNotify(socket, message.endsWith('\n') ? message : `${message}\n`);
  if (err !== null && !warned) {
    warned = true;
    logLine(`tsgi: cannot notify systemd on ${socket}: ${err}`);
  }
}

export const sdStatus = (status: string): void => sdNotify(`STATUS=${status}`);
/** Every worker serves: systemd's READY=1, and --daemonize2's starter may return. */
export const sdReady = (): void => {
  sdNotify('STATUS=tsgi is ready\nREADY=1');
  tellStarterReady();
};
export const sdReloading = (): void => sdNotify('RELOADING=1\nSTATUS=tsgi is reloading its workers');
export const sdStopping = (): void => sdNotify('STOPPING=1\nSTATUS=tsgi is stopping');
