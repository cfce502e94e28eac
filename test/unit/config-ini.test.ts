// Ini files: sections, position of --ini, comments, repeated keys, expansions, errors.

import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { type Config, isConfig, loadConfig } from '../../src/config/index';
import { ConfigError } from '../../src/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-ini-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'app.js'), 'exports.application = () => {};\n');

function ini(name: string, text: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function load(args: string[], env: NodeJS.ProcessEnv = {}): Config {
  const r = loadConfig(args, env, dir);
  assert.ok(isConfig(r));
  return r;
}

function fails(args: string[], code: string, message: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => loadConfig(args, env, dir),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    },
  );
}

const APP = 'wsgi-file = app.js\nhttp-socket = :9090\n';

test('an ini [uwsgi] section is applied where --ini appears', () => {
  ini('pos.ini', `[uwsgi]\n${APP}processes = 4\n`);
  assert.equal(load(['--processes', '2', '--ini', 'pos.ini']).processes, 4);
  assert.equal(load(['--ini', 'pos.ini', '--processes', '2']).processes, 2);
});

test('[tsgi] is read after [uwsgi] wherever it is in the file', () => {
  ini('both.ini', `[tsgi]\nprocesses = 8\nthreads = 2\n[uwsgi]\n${APP}processes = 4\n`);
  const c = load(['both.ini']);
  assert.equal(c.processes, 8);
  assert.equal(c.threads, 2);
});

test('file.ini:section reads only that section', () => {
  ini('sec.ini', `[uwsgi]\n${APP}processes = 4\n[staging]\n${APP}processes = 2\n`);
  assert.equal(load(['--ini', 'sec.ini:staging']).processes, 2);
  assert.deepEqual(load(['sec.ini:staging']).ini, [path.join(dir, 'sec.ini') + ':staging']);
});

test('--ini :section takes another section of the last ini file', () => {
  ini('last.ini', `[uwsgi]\n${APP}\n[more]\nthreads = 3\n`);
  assert.equal(load(['--ini', 'last.ini', '--ini', ':more']).threads, 3);
  fails(['--ini', ':more'], 'TSGI_ERR_INI_READ_FAILED', /no earlier ini file/);
});

test('comments, blank lines, whitespace and CRLF line ends are handled', () => {
  ini(
    'fmt.ini',
    `; comment\r\n# another\r\n\r\n[uwsgi]\r\n  wsgi-file   =   app.js  \r\nhttp-socket=:9090\r\n;processes = 9\r\n`,
  );
  const c = load(['fmt.ini']);
  assert.equal(c.wsgiFile, 'app.js');
  assert.equal(c.processes, 1);
});

test('repeated keys repeat the option: lists accumulate, scalars take the last', () => {
  ini('rep.ini', `[uwsgi]\n${APP}socket = :1\nsocket = :2\nlisten = 10\nlisten = 20\n`);
  const c = load(['rep.ini']);
  assert.deepEqual(
    c.socket.map((a) => a.port),
    [1, 2],
  );
  assert.equal(c.listen, 20);
});

test('ini booleans accept true/false/1/0/yes/no/on/off and a bare key', () => {
  const words: Array<[string, boolean]> = [
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
    ['on', true],
    ['off', false],
  ];
  for (const [w, v] of words) {
    ini('b.ini', `[uwsgi]\n${APP}master = ${w}\n`);
    assert.equal(load(['b.ini']).master, v, w);
  }
  ini('bare.ini', `[uwsgi]\n${APP}master\nvacuum =\n`);
  const c = load(['bare.ini']);
  assert.equal(c.master, true);
  assert.equal(c.vacuum, true);
});

test('$(ENV) expands environment variables', () => {
  ini('env.ini', `[uwsgi]\nwsgi-file = app.js\nhttp-socket = :$(PORT)\n`);
  assert.equal(load(['env.ini'], { PORT: '7070' }).httpSocket[0].port, 7070);
});

test('an unset $(ENV) expands to nothing with a warning', () => {
  ini('noenv.ini', `[uwsgi]\n${APP}logto = /tmp/x$(NOPE_NOT_SET)\n`);
  const c = load(['noenv.ini']);
  assert.equal(c.logto, '/tmp/x');
  assert.match(c.warnings.join('\n'), /NOPE_NOT_SET is not set/);
});

test('%(key) expands another key of the same file, even a later one', () => {
  ini('ph.ini', `[uwsgi]\nwsgi-file = app.js\nhttp-socket = %(host):%(port)\nport = 8123\nhost = 127.0.0.1\n`);
  const c = load(['ph.ini']);
  assert.equal(c.httpSocket[0].host, '127.0.0.1');
  assert.equal(c.httpSocket[0].port, 8123);
});

test('%(name) falls back to options set before the file', () => {
  ini('outer.ini', `[uwsgi]\nwsgi-file = app.js\nhttp-socket = :%(listen)\n`);
  assert.equal(load(['--listen', '5000', 'outer.ini']).httpSocket[0].port, 5000);
});

test('an unknown or self-referencing %(name) is an error', () => {
  ini('badph.ini', `[uwsgi]\n${APP}logto = %(nothing)\n`);
  fails(['badph.ini'], 'TSGI_ERR_INI_PLACEHOLDER', /badph\.ini:4: placeholder %\(nothing\) names no key/);
  ini('loop.ini', `[uwsgi]\n${APP}a = %(b)\nb = %(a)\n`);
  fails(['loop.ini'], 'TSGI_ERR_INI_PLACEHOLDER', /refers to itself/);
});

test('magic vars %d, %n, %s, %p, %e and %c describe the ini file', () => {
  const file = ini(
    'sub/site.ini',
    `[uwsgi]\nhttp-socket = :1\nwsgi-file = %d../app.js\nlogto = /tmp/%n.log\npidfile = %s|%p|%e|%c\n`,
  );
  const c = load(['sub/site.ini']);
  assert.equal(c.wsgiFile, path.join(dir, 'sub') + '/../app.js');
  assert.equal(c.logto, '/tmp/site.log');
  assert.equal(c.pidfile, `site.ini|${file}|ini|sub`);
});

test('processes = %k is the number of CPUs, as in uWSGI', () => {
  ini('cpus.ini', '[uwsgi]\nhttp-socket = :1\nwsgi-file = app.js\nprocesses = %k\n');
  const c = load(['cpus.ini']);
  assert.equal(c.processes, availableParallelism());
});

test('an ini file may include another at that point', () => {
  ini('inner.ini', `[uwsgi]\nprocesses = 7\n`);
  ini('outer2.ini', `[uwsgi]\n${APP}processes = 2\nini = inner.ini\nthreads = 2\n`);
  const c = load(['outer2.ini']);
  assert.equal(c.processes, 7);
  assert.equal(c.threads, 2);
  assert.equal(c.ini.length, 2);
});

test('an ini file that includes itself is an error', () => {
  ini('self.ini', `[uwsgi]\n${APP}ini = self.ini\n`);
  fails(['self.ini'], 'TSGI_ERR_INI_RECURSION', /includes itself/);
});

test('an unreadable ini file is an error naming it', () => {
  fails(['--ini', 'nope.ini'], 'TSGI_ERR_INI_READ_FAILED', /--ini nope\.ini: cannot read .*nope\.ini \(ENOENT\)/);
});

test('a file without the asked section is read as empty, with a warning', () => {
  ini('nosec.ini', `[other]\nprocesses = 3\n`);
  const c = load([...['--wsgi-file', 'app.js', '--http-socket', ':1'], 'nosec.ini']);
  assert.equal(c.processes, 1);
  assert.match(c.warnings.join('\n'), /no \[uwsgi\] or \[tsgi\] section/);
});

test('unknown ini keys are placeholders with a warning, and errors with --strict', () => {
  ini('typo.ini', `[uwsgi]\n${APP}procesess = 4\n`);
  const c = load(['typo.ini']);
  assert.equal(c.processes, 1);
  assert.match(c.warnings.join('\n'), /typo\.ini:4: procesess is not a tsgi option \(did you mean processes\?\)/);
  fails(
    ['typo.ini', '--strict'],
    'TSGI_ERR_UNKNOWN_OPTION',
    /unknown option procesess \(from typo\.ini:4; --strict is set\)/,
  );
  ini('strict.ini', `[uwsgi]\nstrict = true\n${APP}procesess = 4\n`);
  fails(['strict.ini'], 'TSGI_ERR_UNKNOWN_OPTION', /procesess/);
});

test('a bad value in an ini file names the file and line', () => {
  ini('badval.ini', `[uwsgi]\n${APP}listen = lots\n`);
  fails(
    ['badval.ini'],
    'TSGI_ERR_INVALID_VALUE',
    /invalid value "lots" for listen: not an integer \(from badval\.ini:4\)/,
  );
  ini('badaddr.ini', `[uwsgi]\nwsgi-file = app.js\nhttp-socket = :99999\n`);
  fails(
    ['badaddr.ini'],
    'TSGI_ERR_INVALID_ADDRESS',
    /http-socket: port 99999 is out of range 0-65535 \(from badaddr\.ini:3\)/,
  );
});

test('ini origins are recorded per option', () => {
  ini('orig.ini', `[uwsgi]\n${APP}threads = 2\n`);
  const c = load(['orig.ini']);
  assert.equal(c.origins.get('threads'), 'orig.ini:4');
  assert.ok(c.explicit.has('ini'));
});
