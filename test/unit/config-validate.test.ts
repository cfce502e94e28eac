// Whole-config checks: an app, something to serve, --chdir and --wsgi-file, addresses.

import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { type Config, formatAddress, isConfig, loadConfig, OPTIONS, parseAddress } from '../../src/config/index';
import { ConfigError } from '../../src/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'app.js'), 'exports.application = () => {};\n');
mkdirSync(path.join(dir, 'proj', 'myproject'), { recursive: true });
writeFileSync(path.join(dir, 'proj', 'myproject', 'wsgi.js'), 'exports.application = () => {};\n');

function load(args: string[]): Config {
  const r = loadConfig(args, {}, dir);
  assert.ok(isConfig(r));
  return r;
}

function fails(args: string[], code: string, message: RegExp, exitCode = 1): void {
  assert.throws(
    () => loadConfig(args, {}, dir),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, code);
      assert.equal(err.exitCode, exitCode);
      assert.match(err.message, message);
      return true;
    },
  );
}

test('every command of the product brief loads', () => {
  const cmds = [
    ['--http', ':9090', '--wsgi-file', 'app.js'],
    ['--http-socket', ':9090', '--wsgi-file', 'app.js'],
    ['--socket', ':9090', '--wsgi-file', 'app.js', '--processes', '3', '--threads', '3'],
    ['--http', ':9090', '--wsgi-file', 'app.js', '--async', '100', '--processes', '4'],
    ['--http', ':9090', '--wsgi-file', 'app.js', '--processes', '3', '--threads', '3', '--master', '--lazy-apps'],
    [
      '--socket',
      '127.0.0.1:3031',
      '--chdir',
      'proj',
      '--wsgi-file',
      'myproject/wsgi.js',
      '--master',
      '--processes',
      '4',
      '--threads',
      '2',
      '--stats',
      '127.0.0.1:9191',
    ],
    ['--socket', '127.0.0.1:3031', '--wsgi-file', 'app.js', '--callable', 'app', '--processes', '4', '--threads', '2'],
    ['--plugins', 'http,psgi', '--http', ':8080', '--http-modifier1', '5', '--wsgi-file', 'app.js'],
    ['--socket', '/tmp/f.sock', '--wsgi-file', 'app.js', '--chmod-socket', '--vacuum'],
  ];
  for (const cmd of cmds) assert.ok(load(cmd), cmd.join(' '));
  const eight = load(cmds[5]);
  assert.equal(eight.appPath, path.join(dir, 'proj', 'myproject', 'wsgi.js'));
  assert.deepEqual(eight.stats, { kind: 'tcp', host: '127.0.0.1', port: 9191, raw: '127.0.0.1:9191' });
  assert.equal(load(cmds[7]).httpModifier1, 5);
});

test('--http implies a master', () => {
  const one = load(['--http', ':9090', '--wsgi-file', 'app.js']);
  assert.equal(one.master, true);
  const given = load(['--http', ':9090', '--socket', '/tmp/w.sock', '--wsgi-file', 'app.js']);
  assert.deepEqual(
    given.socket.map((a) => a.raw),
    ['/tmp/w.sock'],
  );
});

test('a missing app is an error unless --help or --version', () => {
  fails(['--http-socket', ':1'], 'TSGI_ERR_NO_APP', /^tsgi: no app to load: pass --wsgi-file FILE or --module NAME/);
  fails([], 'TSGI_ERR_NO_APP', /no app/);
  assert.ok('help' in loadConfig(['--help'], {}, dir));
  assert.ok('version' in loadConfig(['--version'], {}, dir));
});

test('no socket at all is an error that names the options', () => {
  fails(
    ['--wsgi-file', 'app.js'],
    'TSGI_ERR_NO_SOCKET',
    /nothing to serve: pass --http-socket, --socket, --fastcgi-socket, --scgi-socket or --http$/,
  );
});

test('--fastcgi-socket, --scgi-socket and --protocol name what each socket speaks', () => {
  const c = loadConfig(
    [
      '--fastcgi-socket',
      '/tmp/f.sock',
      '--scgi-socket',
      ':4000',
      '--socket',
      ':4001',
      '--protocol',
      'fastcgi',
      '--wsgi-file',
      'app.js',
    ],
    {},
    dir,
  ) as Config;
  assert.equal(c.fastcgiSocket.length, 1);
  assert.equal(c.scgiSocket.length, 1);
  assert.equal(c.protocol, 'fastcgi');
  assert.equal((loadConfig(['--socket', ':1', '--wsgi-file', 'app.js'], {}, dir) as Config).protocol, 'uwsgi');
  fails(['--socket', ':1', '--protocol', 'spdy', '--wsgi-file', 'app.js'], 'TSGI_ERR_INVALID_VALUE', /protocol/);
});

test('--env takes NAME=VALUE; a value without = is refused with its origin', () => {
  const c = loadConfig(
    ['--http-socket', ':1', '--wsgi-file', 'app.js', '--env', 'A=1=2', '--env', 'B='],
    {},
    dir,
  ) as Config;
  assert.deepEqual(c.env, ['A=1=2', 'B=']);
  fails(
    ['--http-socket', ':1', '--wsgi-file', 'app.js', '--env', 'NOEQUALS'],
    'TSGI_ERR_INVALID_VALUE',
    /^tsgi: --env NOEQUALS \(from command line\): expected NAME=VALUE$/,
  );
  fails(
    ['--http-socket', ':1', '--wsgi-file', 'app.js', '--env', '=x'],
    'TSGI_ERR_INVALID_VALUE',
    /expected NAME=VALUE/,
  );
});

test('--max-worker-lifetime must exceed --min-worker-lifetime (uWSGI refuses it too) and turns the master on', () => {
  const base = ['--http-socket', ':1', '--wsgi-file', 'app.js'];
  fails(
    [...base, '--max-worker-lifetime', '5'],
    'TSGI_ERR_CONFLICTING_OPTIONS',
    /^tsgi: --min-worker-lifetime 10 must be lower than --max-worker-lifetime 5$/,
  );
  const c = loadConfig(
    [...base, '--max-worker-lifetime', '3600', '--max-worker-lifetime-delta', '30'],
    {},
    dir,
  ) as Config;
  assert.deepEqual([c.maxWorkerLifetime, c.maxWorkerLifetimeDelta, c.master], [3600, 30, true]);
});

test('--cheaper must be lower than --processes, as uWSGI refuses it at start-up', () => {
  const base = ['--http-socket', ':1', '--wsgi-file', 'app.js'];
  fails(
    [...base, '--processes', '4', '--cheaper', '4'],
    'TSGI_ERR_CONFLICTING_OPTIONS',
    /^tsgi: invalid cheaper value: must be lower than processes \(--cheaper 4, --processes 4\)$/,
  );
  fails([...base, '--cheaper', '1'], 'TSGI_ERR_CONFLICTING_OPTIONS', /must be lower than processes/);
});

test('--cheaper-rss-limit-hard needs --cheaper-rss-limit-soft and must be above it', () => {
  const base = ['--http-socket', ':1', '--wsgi-file', 'app.js', '--processes', '4', '--cheaper', '1'];
  fails(
    [...base, '--cheaper-rss-limit-hard', '1g'],
    'TSGI_ERR_CONFLICTING_OPTIONS',
    /^tsgi: enabling cheaper-rss-limit-hard requires setting also cheaper-rss-limit-soft$/,
  );
  fails(
    [...base, '--cheaper-rss-limit-soft', '1g', '--cheaper-rss-limit-hard', '512m'],
    'TSGI_ERR_CONFLICTING_OPTIONS',
    /^tsgi: cheaper-rss-limit-hard value must be higher than cheaper-rss-limit-soft value/,
  );
  const c = load([...base, '--cheaper-rss-limit-soft', '512m', '--cheaper-rss-limit-hard', '1g']);
  assert.deepEqual([c.cheaperRssLimitSoft, c.cheaperRssLimitHard], [512 * 1024 * 1024, 1024 * 1024 * 1024]);
});

test('--cheaper turns the master on and defaults follow uWSGI (initial = cheaper, step 1, overload 3, spare)', () => {
  const c = load(['--http-socket', ':1', '--wsgi-file', 'app.js', '--processes', '4', '--cheaper', '2']);
  assert.deepEqual(
    [c.master, c.cheaper, c.cheaperInitial, c.cheaperStep, c.cheaperOverload, c.cheaperAlgo],
    [true, 2, 2, 1, 3, 'spare'],
  );
  assert.deepEqual(
    [
      c.cheaperBusynessMin,
      c.cheaperBusynessMax,
      c.cheaperBusynessMultiplier,
      c.cheaperBusynessPenalty,
      c.cheaperBusynessBacklogAlert,
      c.cheaperBusynessBacklogStep,
      c.cheaperBusynessBacklogMultiplier,
      c.cheaperBusynessBacklogNonzero,
    ],
    [25, 50, 10, 2, 33, 1, 3, 60],
  );
  assert.deepEqual(c.warnings, []);
});

test('an out-of-range --cheaper-initial and an unknown --cheaper-algo are corrected with uWSGI warnings', () => {
  const base = ['--http-socket', ':1', '--wsgi-file', 'app.js', '--processes', '4', '--cheaper', '2'];
  const low = load([...base, '--cheaper-initial', '1']);
  assert.equal(low.cheaperInitial, 2);
  assert.match(
    low.warnings.join('\n'),
    /invalid cheaper-initial value \(1\), must be equal or higher than cheaper \(2\)/,
  );
  const high = load([...base, '--cheaper-initial', '9']);
  assert.equal(high.cheaperInitial, 4);
  assert.match(high.warnings.join('\n'), /must be lower or equal than worker count \(4\), using 4/);
  const algo = load([...base, '--cheaper-algo', 'spare2']);
  assert.equal(algo.cheaperAlgo, 'spare');
  assert.match(algo.warnings.join('\n'), /unable to find requested cheaper algorithm spare2, falling back to spare/);
  assert.equal(load([...base, '--cheaper-algo', 'backlog2']).cheaperAlgo, 'backlog');
  assert.equal(load([...base, '--cheaper-algo', 'busyness']).cheaperAlgo, 'busyness');
});

test('--cheaper-busyness-max above 100 is refused', () => {
  fails(
    ['--http-socket', ':1', '--wsgi-file', 'app.js', '--cheaper-busyness-max', '101'],
    'TSGI_ERR_INVALID_VALUE',
    /cheaper-busyness-max/,
  );
});

test('--wsgi-file and --module together are an error', () => {
  fails(
    ['--http-socket', ':1', '--wsgi-file', 'app.js', '--module', 'app'],
    'TSGI_ERR_CONFLICTING_OPTIONS',
    /both name an app/,
  );
});

test('a --wsgi-file that does not exist is an error with exit code 22', () => {
  fails(
    ['--http-socket', ':1', '--wsgi-file', 'nope.js'],
    'TSGI_ERR_APP_NOT_FOUND',
    /--wsgi-file nope\.js: no such file \(.*nope\.js\)/,
    22,
  );
  fails(['--http-socket', ':1', '--wsgi-file', 'proj'], 'TSGI_ERR_APP_NOT_FOUND', /no such file/, 22);
});

test('--wsgi-file is resolved against --chdir when given', () => {
  assert.equal(load(['--http-socket', ':1', '--chdir', 'proj', '--wsgi-file', 'myproject/wsgi.js']).chdir, 'proj');
  fails(
    ['--http-socket', ':1', '--chdir', 'proj', '--wsgi-file', 'app.js'],
    'TSGI_ERR_APP_NOT_FOUND',
    /in --chdir proj/,
    22,
  );
});

test('a --chdir that is not a directory is an error', () => {
  fails(
    ['--http-socket', ':1', '--chdir', 'nodir', '--wsgi-file', 'app.js'],
    'TSGI_ERR_BAD_CHDIR',
    /--chdir nodir: no such directory/,
  );
});

test('--module is not checked on disk: the loader resolves it', () => {
  assert.equal(load(['--http-socket', ':1', '--module', 'some-package']).module, 'some-package');
});

test('addresses: host:port, :port, [v6]:port, UNIX paths and @abstract', () => {
  assert.deepEqual(parseAddress('127.0.0.1:3031'), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 3031,
    raw: '127.0.0.1:3031',
  });
  assert.deepEqual(parseAddress(':9090'), { kind: 'tcp', host: '0.0.0.0', port: 9090, raw: ':9090' });
  assert.deepEqual(parseAddress('localhost:0'), { kind: 'tcp', host: 'localhost', port: 0, raw: 'localhost:0' });
  assert.deepEqual(parseAddress('[::1]:8080'), { kind: 'tcp', host: '::1', port: 8080, raw: '[::1]:8080' });
  assert.deepEqual(parseAddress('/run/app.sock'), { kind: 'unix', path: '/run/app.sock', raw: '/run/app.sock' });
  assert.deepEqual(parseAddress('./a:b.sock'), { kind: 'unix', path: './a:b.sock', raw: './a:b.sock' });
  assert.deepEqual(parseAddress('app.sock'), { kind: 'unix', path: 'app.sock', raw: 'app.sock' });
  assert.deepEqual(parseAddress('@tsgi'), { kind: 'abstract', name: 'tsgi', raw: '@tsgi' });
  assert.equal(formatAddress(parseAddress('[::1]:80')), '[::1]:80');
  assert.equal(formatAddress(parseAddress(':80')), '0.0.0.0:80');
});

test('bad addresses are errors that name the option and the cause', () => {
  const base = ['--wsgi-file', 'app.js', '--http-socket'];
  fails(
    [...base, ':65536'],
    'TSGI_ERR_INVALID_ADDRESS',
    /invalid address ":65536" for --http-socket: port 65536 is out of range 0-65535/,
  );
  fails([...base, 'host:http'], 'TSGI_ERR_INVALID_ADDRESS', /port "http" is not a number/);
  fails([...base, '::1:80'], 'TSGI_ERR_INVALID_ADDRESS', /IPv6 addresses must be bracketed/);
  fails([...base, '[::1:80'], 'TSGI_ERR_INVALID_ADDRESS', /missing "\]"/);
  fails([...base, '[nope]:80'], 'TSGI_ERR_INVALID_ADDRESS', /not an IPv6 address/);
  fails([...base, '[::1]80'], 'TSGI_ERR_INVALID_ADDRESS', /missing ":port"/);
  fails([...base, 'bad_host!:80'], 'TSGI_ERR_INVALID_ADDRESS', /not a valid host name/);
  fails([...base, '@'], 'TSGI_ERR_INVALID_ADDRESS', /abstract socket name is empty/);
  fails([...base, '/' + 'x'.repeat(120)], 'TSGI_ERR_INVALID_ADDRESS', /longer than 107 bytes/);
  fails(['--wsgi-file', 'app.js', '-s', '1.2.3.4:'], 'TSGI_ERR_INVALID_ADDRESS', /invalid address "1.2.3.4:" for -s/);
});

test('a bare number as an address is a UNIX path, with a hint', () => {
  const c = load(['--wsgi-file', 'app.js', '--socket', '9090']);
  assert.deepEqual(c.socket[0], { kind: 'unix', path: '9090', raw: '9090' });
  assert.match(c.warnings[0], /did you mean ":9090"/);
});

test('every option has a Config field after loading, with its default', () => {
  const config = load(['--http-socket', ':1', '--wsgi-file', 'app.js']);
  const c = config as unknown as Record<string, unknown>;
  for (const spec of OPTIONS) {
    if (spec.immediate || config.explicit.has(spec.name)) continue;
    if (spec.default === undefined) assert.ok(!(spec.key in c), spec.name);
    else assert.deepEqual(c[spec.key], spec.default, spec.name);
  }
});
