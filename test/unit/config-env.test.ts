// UWSGI_* and TSGI_* environment variables and their precedence.

import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { type Config, isConfig, loadConfig } from '../../src/config/index';
import { ConfigError } from '../../src/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-env-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'app.js'), 'exports.application = () => {};\n');
const BASE = ['--wsgi-file', 'app.js'];

function load(env: NodeJS.ProcessEnv, args: string[] = ['--http-socket', ':1']): Config {
  const r = loadConfig([...BASE, ...args], env, dir);
  assert.ok(isConfig(r));
  return r;
}

test('UWSGI_ variables are options: prefix stripped, lower-cased, _ becomes -', () => {
  const c = load({ UWSGI_HTTP_SOCKET: ':8080', UWSGI_PROCESSES: '3', UWSGI_MASTER: '1' }, []);
  assert.deepEqual(
    c.httpSocket.map((a) => a.port),
    [8080],
  );
  assert.equal(c.processes, 3);
  assert.equal(c.master, true);
  assert.equal(c.origins.get('processes'), 'env UWSGI_PROCESSES');
  assert.ok(c.explicit.has('processes'));
});

test('TSGI_ env overrides UWSGI_ env for the same option', () => {
  // TSGI_ listed first in the object: the order of the environment does not matter.
  assert.equal(load({ TSGI_PROCESSES: '5', UWSGI_PROCESSES: '3' }).processes, 5);
  assert.equal(load({ UWSGI_WORKERS: '3', TSGI_PROCESSES: '5' }).processes, 5);
});

test('the command line overrides the environment', () => {
  assert.equal(load({ UWSGI_PROCESSES: '3', TSGI_PROCESSES: '4' }, ['--http-socket', ':1', '-p', '6']).processes, 6);
});

test('list options accumulate across the environment and the command line', () => {
  const c = load({ UWSGI_SOCKET: ':1', TSGI_SOCKET: ':2' }, ['--socket', ':3']);
  assert.deepEqual(
    c.socket.map((a) => a.port),
    [1, 2, 3],
  );
});

test('UWSGI_INI expands the file at the environment position', () => {
  writeFileSync(path.join(dir, 'e.ini'), '[uwsgi]\nhttp-socket = :5\nprocesses = 9\n');
  const c = load({ UWSGI_INI: 'e.ini' }, ['--processes', '2']);
  assert.equal(c.processes, 2);
  assert.deepEqual(
    c.httpSocket.map((a) => a.port),
    [5],
  );
});

test('uWSGI internal variables and unknown UWSGI_ names are ignored silently', () => {
  const c = load({ UWSGI_RELOADS: '3', UWSGI_ORIGINAL_PROC_NAME: 'x', UWSGI_PYTHON_THING: 'y', UWSGI_: 'z' });
  assert.deepEqual(c.warnings, []);
});

test('unknown TSGI_ names warn, and are errors with --strict', () => {
  const c = load({ TSGI_PROCESES: '3' });
  assert.match(
    c.warnings.join('\n'),
    /env TSGI_PROCESES: TSGI_PROCESES is not a tsgi option \(did you mean processes\?\)/,
  );
  assert.throws(
    () => load({ TSGI_PROCESES: '3' }, ['--http-socket', ':1', '--strict']),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'TSGI_ERR_UNKNOWN_OPTION');
      assert.match(err.message, /TSGI_PROCESES/);
      return true;
    },
  );
});

test('TSGI_INTERNAL_ variables are never options', () => {
  const c = load({ TSGI_INTERNAL_WORKER_ID: '1' }, ['--http-socket', ':1', '--strict']);
  assert.deepEqual(c.warnings, []);
});

test('a bad value from the environment names the variable', () => {
  assert.throws(
    () => load({ UWSGI_LISTEN: 'many' }),
    /invalid value "many" for UWSGI_LISTEN: not an integer \(from env UWSGI_LISTEN\)/,
  );
});

test('an empty boolean variable means true, as a bare flag', () => {
  assert.equal(load({ UWSGI_MASTER: '' }).master, true);
  assert.equal(load({ UWSGI_MASTER: 'false' }).master, false);
});

test('TSGI_HELP asks for help like --help', () => {
  const r = loadConfig([], { TSGI_HELP: '1' }, dir);
  assert.ok('help' in r);
});
