// The native Server's options that have their one default in the configuration layer
// (src/config/options.ts) are required by the binding instead of defaulted a second time.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addon, type ServerOptions } from '../../src/native';

const noop = (): void => {};
const callbacks = { onRequest: noop, onData: noop, onDrain: noop, onAbort: noop, onClosed: noop };

function options(): ServerOptions {
  return {
    listeners: [],
    bufferSize: 8192,
    limitPost: 0,
    socketTimeoutMs: 4000,
    keepaliveTimeoutMs: 65000,
    maxInflight: 1,
    maxVars: 256,
    logging: false,
    logMicros: false,
    logFd: 2,
    coreId: 0,
  };
}

test('a native Server without keepaliveTimeoutMs is refused with a TypeError naming it', () => {
  const { keepaliveTimeoutMs: _, ...without } = options();
  assert.throws(() => new addon.Server(without as ServerOptions, callbacks), {
    name: 'TypeError',
    message: /keepaliveTimeoutMs/,
  });
});

test('a native Server given keepaliveTimeoutMs (and no listeners) is created', () => {
  const server = new addon.Server(options(), callbacks);
  assert.equal(server.counters().requests, 0);
  server.destroy();
});
