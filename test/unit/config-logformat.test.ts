// --log-format compiled into the pieces the native request log appends (src/config/logformat.ts).

import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileLogFormat } from '../../src/config/logformat';
import { ConfigError } from '../../src/errors';

test('uWSGI variables become computed values, request vars to copy, and literal text between them', () => {
  assert.deepEqual(compileLogFormat('%(addr) - [%(ltime)] "%(method) %(uri)" %(status) %(uagent) %(var.HTTP_X_ID)!'), [
    { var: 'addr' },
    { lit: ' - [' },
    { var: 'ltime' },
    { lit: '] "' },
    { var: 'method' },
    { lit: ' ' },
    { var: 'uri' },
    { lit: '" ' },
    { var: 'status' },
    { lit: ' ' },
    { capture: 'HTTP_USER_AGENT' },
    { lit: ' ' },
    { capture: 'HTTP_X_ID' },
    { lit: '!' },
  ]);
  assert.deepEqual(compileLogFormat('plain'), [{ lit: 'plain' }]);
  assert.deepEqual(compileLogFormat('%(host)%(cl)%(user)%(referer)'), [
    { capture: 'HTTP_HOST' },
    { capture: 'CONTENT_LENGTH' },
    { capture: 'REMOTE_USER' },
    { capture: 'HTTP_REFERER' },
  ]);
});

test('an unknown variable is a start-up error that names it and the known ones', () => {
  assert.throws(
    () => compileLogFormat('%(method) %(nope)'),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.code === 'TSGI_ERR_INVALID_VALUE' &&
      /^tsgi: --log-format: unknown variable %\(nope\) \(known: method, uri, .*var\.NAME\)$/.test(e.message),
  );
  assert.throws(() => compileLogFormat('%(var.)'), /unknown variable %\(var\.\)/);
});
