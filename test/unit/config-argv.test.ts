// Command-line parsing: getopt_long forms, abbreviations, flags and their errors.

import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { type Config, isConfig, loadConfig } from '../../src/config/index';
import { ConfigError } from '../../src/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-argv-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'app.js'), 'exports.application = () => {};\n');
const BASE = ['--http-socket', ':9090', '--wsgi-file', 'app.js'];

function load(args: string[], env: NodeJS.ProcessEnv = {}): Config {
  const r = loadConfig([...BASE, ...args], env, dir);
  assert.ok(isConfig(r));
  return r;
}

function fails(args: string[], code: string, message?: RegExp): void {
  assert.throws(
    () => loadConfig(args, {}, dir),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.code, code);
      assert.equal(err.exitCode, code === 'TSGI_ERR_APP_NOT_FOUND' ? 22 : 1);
      assert.ok(!err.message.includes('\n'), 'message is one line');
      assert.match(err.message, /^tsgi: /);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

test('the quick-start command line gives a typed config with defaults', () => {
  const c = load([]);
  assert.deepEqual(c.httpSocket, [{ kind: 'tcp', host: '0.0.0.0', port: 9090, raw: ':9090' }]);
  assert.equal(c.wsgiFile, 'app.js');
  assert.equal(c.appPath, path.join(dir, 'app.js'));
  assert.equal(c.callable, 'application');
  assert.equal(c.listen, 1024);
  assert.equal(c.bufferSize, 8192);
  assert.equal(c.socketTimeout, 4);
  assert.equal(c.processes, 1);
  assert.equal(c.threads, 1);
  assert.equal(c.async, 1);
  assert.equal(c.master, false);
  assert.equal(c.workerReloadMercy, 60);
  assert.equal(c.minWorkerLifetime, 10);
  assert.equal(c.maxVars, 256);
  assert.equal(c.limitPost, 0);
  assert.equal(c.appType, 'auto');
  assert.equal(c.chmodSocket, undefined);
  assert.deepEqual([...c.explicit].sort(), ['http-socket', 'wsgi-file']);
  assert.deepEqual(c.warnings, []);
});

test('--opt=value, --opt value, -s value, -svalue and -s=value are the same option', () => {
  for (const form of [['--socket=:1'], ['--socket', ':1'], ['-s', ':1'], ['-s:1'], ['-s=:1']]) {
    assert.deepEqual(
      load(form).socket.map((a) => a.raw),
      [':1'],
      form.join(' '),
    );
  }
});

test('aliases set the canonical option', () => {
  const c = load(['--uwsgi-socket', ':1', '--workers', '3', '--coroae', '10', '--file', 'app.js']);
  assert.deepEqual(
    c.socket.map((a) => a.port),
    [1],
  );
  assert.equal(c.processes, 3);
  assert.equal(c.async, 10);
  assert.ok(c.explicit.has('processes'));
});

test('clustered short flags take the rest as a value (-Mp4)', () => {
  const c = load(['-Mp4']);
  assert.equal(c.master, true);
  assert.equal(c.processes, 4);
});

test('bare boolean flags are true and false/off/no/0 turn them off', () => {
  assert.equal(load(['--master']).master, true);
  for (const word of ['false', 'off', 'no', '0', 'FALSE']) {
    assert.equal(load(['--master', word]).master, false, word);
    assert.equal(load([`--vacuum=${word}`]).vacuum, false, word);
  }
  assert.equal(load(['--master', 'yes']).master, true);
  assert.equal(load(['-M', 'off']).master, false);
});

test('a flag does not swallow a following option or file', () => {
  const c = load(['--vacuum', '--master']);
  assert.equal(c.vacuum, true);
  assert.equal(c.master, true);
});

test('a later scalar wins and list options accumulate', () => {
  const c = load(['--processes', '2', '--processes', '5', '--http-socket', ':9091']);
  assert.equal(c.processes, 5);
  assert.deepEqual(
    c.httpSocket.map((a) => a.port),
    [9090, 9091],
  );
});

test('an unambiguous prefix of a long option is accepted', () => {
  const c = load(['--worker-reload-m', '9', '--lazy', '--http-keepalive-t', '7']);
  assert.equal(c.workerReloadMercy, 9);
  assert.equal(c.lazyApps, true);
  assert.equal(c.httpKeepaliveTimeout, 7);
});

test('an abbreviation that uWSGI would read as one of its own options is refused, naming them', () => {
  // uWSGI's --pause PIDFILE is not --pidfile, and uWSGI itself refuses --proc and --relo.
  fails(
    ['--pause', '/run/tsgi.pid'],
    'TSGI_ERR_UNKNOWN_OPTION',
    /^tsgi: unknown option --pause: uWSGI's --pause is not available in tsgi/,
  );
  fails(
    ['--relo', '/run/tsgi.pid'],
    'TSGI_ERR_AMBIGUOUS_OPTION',
    /could be --reload-on-rss, --reload; uWSGI also has --reload-mercy/,
  );
  fails(
    ['--proc', '3'],
    'TSGI_ERR_AMBIGUOUS_OPTION',
    /^tsgi: option --proc is ambiguous \(could be --processes, --procname-prefix, .*\); write the whole name$/,
  );
  fails(
    ['--chea', '2'],
    'TSGI_ERR_AMBIGUOUS_OPTION',
    /could be --cheaper, --cheaper-initial, .*; uWSGI also has --cheap, --cheaper-algo-list/,
  );
});

test('an exact name wins over longer names it is a prefix of', () => {
  const c = load(['--http', ':8080', '--stats', ':9191']);
  assert.deepEqual(
    c.http.map((a) => a.port),
    [8080],
  );
  assert.equal(c.stats?.kind, 'tcp');
  assert.equal(c.statsHttp, false);
});

test('an ambiguous abbreviation names every candidate', () => {
  fails(
    ['--http-mod', '5'],
    'TSGI_ERR_AMBIGUOUS_OPTION',
    /--http-mod is ambiguous \(could be --http-modifier1, --http-modifier2\); write the whole name/,
  );
  fails(['--max', '5'], 'TSGI_ERR_AMBIGUOUS_OPTION', /--max-requests.*--max-vars|--max-vars.*--max-requests/);
});

test('an unknown option suggests the closest name', () => {
  fails(
    ['--htp-socket', ':9090'],
    'TSGI_ERR_UNKNOWN_OPTION',
    /^tsgi: unknown option --htp-socket \(did you mean --http-socket\?\)$/,
  );
  fails(['--zzzzzz'], 'TSGI_ERR_UNKNOWN_OPTION', /^tsgi: unknown option --zzzzzz$/);
  fails(['-Q'], 'TSGI_ERR_UNKNOWN_OPTION', /unknown option -Q/);
});

test('an option without its value is an error naming it', () => {
  fails([...BASE, '--listen'], 'TSGI_ERR_MISSING_VALUE', /option --listen requires a value/);
  fails([...BASE, '-s'], 'TSGI_ERR_MISSING_VALUE', /option -s requires a value/);
  fails([...BASE, '--callable='], 'TSGI_ERR_MISSING_VALUE', /--callable/);
});

test('--help and --version take no value', () => {
  fails(['--help=yes'], 'TSGI_ERR_UNEXPECTED_VALUE', /--help does not take a value/);
});

test('bad integers are rejected with the option and the cause', () => {
  fails([...BASE, '--listen', 'abc'], 'TSGI_ERR_INVALID_VALUE', /invalid value "abc" for --listen: not an integer/);
  fails([...BASE, '--processes', '-2'], 'TSGI_ERR_INVALID_VALUE', /for --processes: must not be negative/);
  fails([...BASE, '--threads', '0'], 'TSGI_ERR_INVALID_VALUE', /for --threads: must be at least 1/);
  fails([...BASE, '--http-modifier1', '256'], 'TSGI_ERR_INVALID_VALUE', /must be at most 255/);
  fails([...BASE, '--harakiri', '1.5'], 'TSGI_ERR_INVALID_VALUE', /not an integer/);
  fails([...BASE, '--master=maybe'], 'TSGI_ERR_INVALID_VALUE', /expected a boolean/);
});

test("buffer-size over 65535 is clamped with a warning, as uWSGI's 16-bit parser does", () => {
  const c = load(['-b', '100000']);
  assert.equal(c.bufferSize, 65535);
  assert.equal(c.warnings.length, 1);
  assert.match(c.warnings[0], /-b 100000 is larger than 65535; using 65535/);
  assert.equal(load(['--buffer-size', '65535']).warnings.length, 0);
});

test('limit-post takes bytes with optional k/m/g suffixes', () => {
  assert.equal(load(['--limit-post', '1000']).limitPost, 1000);
  assert.equal(load(['--limit-post', '4k']).limitPost, 4096);
  assert.equal(load(['--limit-post', '2M']).limitPost, 2 * 1024 * 1024);
  fails([...BASE, '--limit-post', '2x'], 'TSGI_ERR_INVALID_VALUE', /--limit-post: not a byte count/);
});

test('chmod-socket alone means 666 and otherwise takes 3 octal digits', () => {
  assert.equal(load(['--chmod-socket']).chmodSocket, 0o666);
  assert.equal(load(['--chmod-socket=660']).chmodSocket, 0o660);
  assert.equal(load(['--chmod-socket', '600']).chmodSocket, 0o600);
  assert.equal(load(['-C644']).chmodSocket, 0o644);
  fails([...BASE, '--chmod-socket=777x'], 'TSGI_ERR_INVALID_VALUE', /--chmod-socket: expected 3 octal digits/);
  fails([...BASE, '--chmod-socket=89'], 'TSGI_ERR_INVALID_VALUE', /3 octal digits/);
});

test('app-type accepts auto, gateway and fetch only', () => {
  assert.equal(load(['--app-type', 'fetch']).appType, 'fetch');
  fails([...BASE, '--app-type', 'wsgi'], 'TSGI_ERR_INVALID_VALUE', /expected one of auto, gateway, fetch/);
});

test('--module name:callable sets the module and the callable', () => {
  const r = loadConfig(['--socket', ':1', '--module', 'pkg/app:handler'], {}, dir);
  assert.ok(isConfig(r));
  assert.equal(r.module, 'pkg/app');
  assert.equal(r.callable, 'handler');
  assert.ok(!r.explicit.has('callable'));
  fails(['--socket', ':1', '--module', 'app:not-a-name'], 'TSGI_ERR_INVALID_VALUE', /not a valid export name/);
});

test('plugins are split on commas and accumulate', () => {
  assert.deepEqual(load(['--plugins', 'http,psgi', '--plugin', 'python3']).plugins, ['http', 'psgi', 'python3']);
});

test('a positional .ini argument is --ini; any other positional is an error', () => {
  fails(
    [...BASE, 'app.js'],
    'TSGI_ERR_UNEXPECTED_ARGUMENT',
    /unexpected argument "app.js" \(did you mean --wsgi-file app.js\?\)/,
  );
  fails([...BASE, 'missing.ini'], 'TSGI_ERR_INI_READ_FAILED', /missing\.ini/);
  fails([...BASE, '--', '--master'], 'TSGI_ERR_UNEXPECTED_ARGUMENT', /"--master"/);
});

test('--help returns the help text and ignores everything after it', () => {
  const r = loadConfig(['--help', '--bogus'], {}, dir);
  assert.ok('help' in r);
  const h = loadConfig(['-h'], {}, dir);
  assert.ok('help' in h);
  assert.throws(() => loadConfig(['--bogus', '--help'], {}, dir), /unknown option --bogus/);
});

test('--version prints tsgi and the package version', () => {
  const r = loadConfig(['--version'], {}, dir);
  assert.ok('version' in r);
  assert.match(r.version, /^tsgi \d+\.\d+\.\d+/);
});

test('options that need the master turn it on without counting as explicit', () => {
  const c = load(['--stats', '127.0.0.1:9191']);
  assert.equal(c.master, true);
  assert.ok(!c.explicit.has('master'));
  const d = load(['--touch-chain-reload', '/tmp/x']);
  assert.equal(d.master, true);
  assert.equal(d.lazyApps, true);
});

test('every option is recorded as explicit only when set', () => {
  const c = load(['--listen', '1024']);
  assert.ok(c.explicit.has('listen'), 'set to its default value is still explicit');
  assert.ok(!c.explicit.has('threads'));
  assert.equal(c.origins.get('listen'), 'command line');
});

test('--reload PIDFILE and --stop PIDFILE are commands: nothing else is read, the pidfile is resolved', () => {
  const r = loadConfig(['--reload', 'run/app.pid', '--no-such-option'], {}, '/srv');
  assert.deepEqual(r, { signal: { option: 'reload', pidfile: '/srv/run/app.pid' } });
  assert.deepEqual(loadConfig(['--stop=/run/app.pid'], {}, '/srv'), {
    signal: { option: 'stop', pidfile: '/run/app.pid' },
  });
});
