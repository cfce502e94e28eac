// systemd's readiness protocol (docs/master.md, "systemd"): with $NOTIFY_SOCKET set, tsgi
// says STATUS= while it starts, READY=1 once every worker serves, RELOADING=1 then READY=1
// around a graceful reload, and STOPPING=1 when it stops. A Python receiver stands in for
// systemd (test/fixtures/systemd/notify-receiver.py).

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { READY, startReceiver } from './helpers/notify';
import { APPS, startTsgi } from './helpers/tsgi';

test('a master says READY=1 once its workers serve, RELOADING=1 then READY=1 around SIGHUP, and STOPPING=1', async () => {
  const rx = await startReceiver();
  try {
    const tsgi = await startTsgi(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', path.join(APPS, 'master-pid.js'), '--processes', '2'],
      { env: { NOTIFY_SOCKET: rx.socket } },
    );
    try {
      await rx.waitFor(READY);
      await tsgi.waitFor(/(ready in [^\n]*\n[\s\S]*){2}/);
      tsgi.proc.kill('SIGHUP');
      await rx.waitFor(READY, 2);
      assert.equal(await tsgi.stop('SIGTERM'), 0);
      await rx.waitFor('STOPPING=1|STATUS=tsgi is stopping');
      assert.deepEqual(rx.lines(), [
        'STATUS=initializing tsgi',
        READY,
        'RELOADING=1|STATUS=tsgi is reloading its workers',
        READY,
        'STOPPING=1|STATUS=tsgi is stopping',
      ]);
    } finally {
      await tsgi.stop();
    }
  } finally {
    rx.stop();
  }
});

test('a single process says READY=1 once it serves and STOPPING=1 on SIGTERM', async () => {
  const rx = await startReceiver();
  try {
    const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', path.join(APPS, 'hello.js')], {
      env: { NOTIFY_SOCKET: rx.socket },
    });
    await rx.waitFor(READY);
    assert.equal(await tsgi.stop('SIGTERM'), 0);
    await rx.waitFor('STOPPING=1|STATUS=tsgi is stopping');
    assert.deepEqual(rx.lines(), ['STATUS=initializing tsgi', READY, 'STOPPING=1|STATUS=tsgi is stopping']);
  } finally {
    rx.stop();
  }
});

test('a NOTIFY_SOCKET nobody listens on costs one log line and tsgi serves', async () => {
  const tsgi = await startTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', path.join(APPS, 'hello.js')], {
    env: { NOTIFY_SOCKET: `@tsgi-test-nobody-${process.pid}` },
  });
  try {
    const res = await fetch(`http://127.0.0.1:${tsgi.ports[0]}/`);
    assert.equal(res.status, 200);
    assert.equal(tsgi.output().match(/cannot notify systemd on @tsgi-test-nobody-\d+: Connection refused/g)?.length, 1);
  } finally {
    assert.equal(await tsgi.stop('SIGTERM'), 0);
  }
});
