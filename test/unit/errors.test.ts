// The error catalogue: classes, exit codes, docs/errors.md listing exactly the codes, and the
// native codes the TypeScript side names.

import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AppError, ConfigError, ERROR_CODES, isTsgiError, SocketError, TsgiError } from '../../src/errors';
import { addon } from '../../src/native';
import { PEER_CLOSED, PEER_SHUTDOWN } from '../../src/native/types';

test('docs/errors.md lists exactly the codes in src/errors.ts', () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
  const documented = new Set(doc.match(/TSGI_ERR_[A-Z0-9_]+/g) ?? []);
  const defined = new Set(Object.keys(ERROR_CODES));
  assert.deepEqual(
    [...documented].filter((c) => !defined.has(c)),
    [],
    'documented but not defined',
  );
  assert.deepEqual(
    [...defined].filter((c) => !documented.has(c)),
    [],
    'defined but not documented',
  );
});

test('every code is TSGI_ERR_ upper snake case with an exit code and a summary', () => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^TSGI_ERR_[A-Z0-9_]+$/);
    assert.ok(Number.isInteger(info.exitCode) && info.exitCode > 0, code);
    assert.ok(info.summary.length > 0, code);
  }
});

test('config errors exit 1 and app load errors exit 22, as in uWSGI', () => {
  assert.equal(new ConfigError('TSGI_ERR_UNKNOWN_OPTION', 'x').exitCode, 1);
  assert.equal(new AppError('TSGI_ERR_APP_LOAD_FAILED', 'x').exitCode, 22);
  assert.equal(new AppError('TSGI_ERR_CALLABLE_NOT_FOUND', 'x').exitCode, 22);
  assert.equal(new SocketError('TSGI_ERR_ADDRESS_IN_USE', 'x').exitCode, 1);
});

test('messages are prefixed with "tsgi: " once and keep the cause', () => {
  const cause = new Error('EADDRINUSE');
  const e = new SocketError('TSGI_ERR_ADDRESS_IN_USE', 'address :9090 is already in use', { cause });
  assert.equal(e.message, 'tsgi: address :9090 is already in use');
  assert.equal(e.cause, cause);
  assert.equal(new ConfigError('TSGI_ERR_NO_APP', 'tsgi: x').message, 'tsgi: x');
});

test('errors are TsgiError instances with a name per class', () => {
  const e = new ConfigError('TSGI_ERR_NO_SOCKET', 'x');
  assert.ok(e instanceof TsgiError && e instanceof Error);
  assert.equal(e.name, 'ConfigError');
  assert.equal(new AppError('TSGI_ERR_APP_NOT_FOUND', 'x').name, 'AppError');
  assert.ok(isTsgiError(e));
  assert.ok(isTsgiError({ code: 'TSGI_ERR_BIND_FAILED', message: 'cloned across a thread' }));
  assert.ok(!isTsgiError(new Error('plain')));
  assert.ok(!isTsgiError({ code: 'ENOENT' }));
});

test('the native codes the app layer names match the addon catalogue', () => {
  const catalogue = addon.errorCatalogue();
  assert.equal(catalogue[PEER_SHUTDOWN]?.name, 'IO_PEER_SHUTDOWN');
  assert.equal(catalogue[PEER_CLOSED]?.name, 'IO_PEER_CLOSED');
});
