// The tsgi command line (docs/config.md; docs/app-contract.md, "Loading", for app loading):
// what starts, what it serves, and how every startup failure is reported (one line, exit code;
// docs/errors.md).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getVars, occupyPort, portOf, tempDir, uwsgiRequest } from './helpers/exchange';
import { APPS, ROOT, runTsgi, startTsgi, type TsgiHandle } from './helpers/tsgi';

const app = (name: string): string => path.join(APPS, name);
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

/** Starts tsgi, runs `fn`, always stops it. */
async function withTsgi(
  args: string[],
  fn: (t: TsgiHandle) => Promise<void>,
  opts: Parameters<typeof startTsgi>[1] = {},
): Promise<void> {
  const t = await startTsgi(args, opts);
  try {
    await fn(t);
  } finally {
    await t.stop();
  }
}

async function httpGet(port: number, p = '/'): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

/** The lines of a failed start that are not the normal startup banner / bind lines. */
/** The error lines of a failed start; the stack frames an import-time throw adds are not counted. */
function errorLines(output: string): string[] {
  return output
    .split('\n')
    .filter(
      (l) =>
        l.length > 0 &&
        !/^\*\*\* Starting tsgi /.test(l) &&
        !/^tsgi socket \d+ bound to /.test(l) &&
        !/^tsgi: \*\*\* WARNING: you are running tsgi as root/.test(l) &&
        !/^ {4}at /.test(l),
    );
}

async function assertStartupError(
  args: string[],
  code: number,
  line: RegExp,
  opts: Parameters<typeof runTsgi>[1] = {},
): Promise<void> {
  const r = await runTsgi(args, opts);
  assert.equal(r.code, code, `exit code; output:\n${r.output}`);
  const lines = errorLines(r.output);
  assert.equal(lines.length, 1, `exactly one error line expected; output:\n${r.output}`);
  assert.match(lines[0]!, line);
}

describe('serving (commands 2 and 9)', () => {
  test('--http-socket :0 serves hello world to fetch()', async () => {
    await withTsgi(['--http-socket', ':0', '--wsgi-file', app('hello.js')], async (t) => {
      assert.match(t.output(), /^tsgi socket 0 bound to TCP address 0\.0\.0\.0:\d+ \(http\) fd \d+$/m);
      const r = await httpGet(t.ports[0]!);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'Hello from hello.js');
      assert.equal(r.type, 'text/plain');
      assert.match(
        t.output(),
        /^tsgi app 0 \(mountpoint=''\) ready in \d+ seconds on interpreter node v[\d.]+ \(gateway callable 'application'\) pid: \d+ \(default app\)$/m,
      );
      assert.match(
        t.output(),
        new RegExp(`^spawned tsgi worker 1 \\(and the only\\) \\(pid: ${t.proc.pid}, cores: 1\\)$`, 'm'),
      );
    });
  });

  test('--socket with --callable app serves a Hono-style fetch handler over uwsgi', async () => {
    await withTsgi(['--socket', '127.0.0.1:0', '--wsgi-file', app('fetch-app.ts'), '--callable', 'app'], async (t) => {
      assert.match(t.output(), /\(fetch handler 'app'\)/);
      const r = await uwsgiRequest(
        { port: t.ports[0]! },
        getVars('/users/42', [
          ['SERVER_NAME', 'localhost'],
          ['SERVER_PORT', '80'],
          ['HTTP_HOST', 'localhost'],
        ]),
      );
      assert.equal(r.statusLine, 'HTTP/1.1 200 OK');
      assert.equal(r.body, 'fetch GET /users/42');
      assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
    });
  });

  for (const [file, callable, expected] of [
    ['hello.ts', 'application', 'Hello from hello.ts'],
    ['hello.mts', 'app', 'Hello from hello.mts GET'],
    ['hello.mjs', 'application', 'Hello from hello.mjs'],
    ['hello.cjs', 'application', 'Hello from hello.cjs'],
  ] as const) {
    test(`a ${path.extname(file)} app loads without a build step`, async () => {
      await withTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', app(file), '--callable', callable], async (t) => {
        const r = await httpGet(t.ports[0]!);
        assert.equal(r.status, 200);
        assert.equal(r.body, expected);
      });
    });
  }

  test('--module PATH:callable loads the app from a module path', async () => {
    await withTsgi(['--http-socket', '127.0.0.1:0', '--module', './test/fixtures/apps/hello.mts:app'], async (t) => {
      assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.mts GET');
    });
  });

  test('--chdir makes --wsgi-file relative to the directory', async () => {
    await withTsgi(
      ['--http-socket', '127.0.0.1:0', '--chdir', path.join(APPS, 'pkgdir'), '--wsgi-file', 'sub/wsgi.js'],
      async (t) => {
        assert.match(t.output(), /^tsgi: chdir\(\) to /m);
        assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from pkgdir/sub/wsgi.js');
      },
    );
  });

  test('--chdir with --module resolves the module in the new directory', async () => {
    await withTsgi(['--http-socket', '127.0.0.1:0', '--chdir', APPS, '--module', './hello.mjs'], async (t) => {
      assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.mjs');
    });
  });
});

describe('configuration sources', () => {
  test('--ini file.ini with an [uwsgi] section', async () => {
    const tmp = tempDir();
    try {
      const ini = path.join(tmp.dir, 'app.ini');
      fs.writeFileSync(ini, `[uwsgi]\nhttp-socket = 127.0.0.1:0\nwsgi-file = ${app('hello.js')}\n`);
      await withTsgi(['--ini', ini], async (t) => {
        assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.js');
      });
    } finally {
      tmp.remove();
    }
  });

  test('env = NAME=VALUE in an ini and --env reach the app in every worker process', async () => {
    const tmp = tempDir();
    try {
      const ini = path.join(tmp.dir, 'app.ini');
      fs.writeFileSync(
        ini,
        `[uwsgi]\nhttp-socket = 127.0.0.1:0\nwsgi-file = ${app('probe.mjs')}\nprocesses = 2\nenv = TSGI_TEST_A=from ini=1\n`,
      );
      await withTsgi(['--ini', ini, '--env', 'TSGI_TEST_B=from argv'], async (t) => {
        await t.waitFor(/(spawned tsgi worker[\s\S]*){2}/);
        for (let i = 0; i < 6; i++) {
          const r = await httpGet(t.ports[0]!, '/env?TSGI_TEST_A,TSGI_TEST_B');
          assert.equal(r.body, 'TSGI_TEST_A=from ini=1\nTSGI_TEST_B=from argv\n');
        }
      });
    } finally {
      tmp.remove();
    }
  });

  test('--ini file.ini with a [tsgi] section, which overrides [uwsgi]', async () => {
    const tmp = tempDir();
    try {
      const ini = path.join(tmp.dir, 'app.ini');
      fs.writeFileSync(
        ini,
        `[tsgi]\nwsgi-file = ${app('hello.mjs')}\n\n[uwsgi]\nhttp-socket = 127.0.0.1:0\nwsgi-file = ${app('hello.js')}\n`,
      );
      await withTsgi(['--ini', ini], async (t) => {
        assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.mjs');
      });
    } finally {
      tmp.remove();
    }
  });

  test('an ini with only a [tsgi] section, a positional FILE.ini and %d', async () => {
    const tmp = tempDir();
    try {
      fs.copyFileSync(app('hello.ts'), path.join(tmp.dir, 'hello.ts'));
      const ini = path.join(tmp.dir, 'only.ini');
      fs.writeFileSync(ini, '[tsgi]\nhttp-socket = 127.0.0.1:0\nwsgi-file = %dhello.ts\n');
      await withTsgi([ini], async (t) => {
        assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.ts');
      });
    } finally {
      tmp.remove();
    }
  });

  test('UWSGI_HTTP_SOCKET and UWSGI_WSGI_FILE in the environment are options', async () => {
    await withTsgi(
      [],
      async (t) => {
        assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.js');
      },
      { env: { UWSGI_HTTP_SOCKET: '127.0.0.1:0', UWSGI_WSGI_FILE: app('hello.js') } },
    );
  });

  test('TSGI_* variables override UWSGI_* ones, and the command line overrides both', async () => {
    const env = {
      UWSGI_HTTP_SOCKET: '127.0.0.1:0',
      UWSGI_WSGI_FILE: app('hello.js'),
      TSGI_WSGI_FILE: app('hello.mjs'),
    };
    await withTsgi(
      [],
      async (t) => {
        assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.mjs');
      },
      { env },
    );
    await withTsgi(
      ['--wsgi-file', app('hello.ts')],
      async (t) => {
        assert.equal((await httpGet(t.ports[0]!)).body, 'Hello from hello.ts');
      },
      { env },
    );
  });

  test('TSGI_SOCKET serves uwsgi and TSGI_CALLABLE picks the export', async () => {
    await withTsgi(
      ['--wsgi-file', app('fetch-app.ts')],
      async (t) => {
        const port = portOf(t.output(), 'uwsgi');
        const r = await uwsgiRequest(
          { port },
          getVars('/env', [
            ['SERVER_NAME', 'localhost'],
            ['SERVER_PORT', '80'],
          ]),
        );
        assert.equal(r.body, 'fetch GET /env');
      },
      { env: { TSGI_SOCKET: '127.0.0.1:0', TSGI_CALLABLE: 'app' } },
    );
  });
});

describe('startup errors: one line naming the cause, non-zero exit', () => {
  test('an unknown option exits 1', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', app('hello.js'), '--no-such-option'],
      1,
      /^tsgi: unknown option --no-such-option/,
    );
  });

  test('--http on an address already in use exits 1 with one line', async () => {
    const busy = await occupyPort();
    try {
      await assertStartupError(
        ['--http', `127.0.0.1:${busy.port}`, '--wsgi-file', app('hello.js')],
        1,
        /^tsgi: cannot bind 127\.0\.0\.1:\d+: address already in use$/,
      );
    } finally {
      await busy.close();
    }
  });

  test('a bad option value exits 1', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', app('hello.js'), '--processes', 'abc'],
      1,
      /^tsgi: invalid value "abc" for --processes: not an integer$/,
    );
  });

  test('a bad address exits 1', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:99999', '--wsgi-file', app('hello.js')],
      1,
      /^tsgi: invalid address "127\.0\.0\.1:99999" for --http-socket: port 99999 is out of range/,
    );
  });

  test('no app exits 1', async () => {
    await assertStartupError(['--http-socket', '127.0.0.1:0'], 1, /^tsgi: no app to load/);
  });

  test('nothing to serve exits 1', async () => {
    await assertStartupError(['--wsgi-file', app('hello.js')], 1, /^tsgi: nothing to serve/);
  });

  test('a missing app file exits 22', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', app('does-not-exist.js')],
      22,
      /^tsgi: --wsgi-file .*does-not-exist\.js: no such file/,
    );
  });

  test('a missing module exits 22', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--module', './no-such-module'],
      22,
      /^tsgi: app module not found: \.\/no-such-module/,
    );
  });

  test('a missing callable exits 22', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', app('no-callable.mjs')],
      22,
      /has no export named "application" and no default export, and did not call server\.listen\(\); exports found: somethingElse$/,
    );
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', app('hello.mjs'), '--callable', 'nothere'],
      22,
      /has no export named "nothere" and no default export, and did not call server\.listen\(\); exports found: application$/,
    );
  });

  test('an app that throws on load exits 22', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', app('throws-on-load.mjs')],
      22,
      /^tsgi: loading .*throws-on-load\.mjs failed: Error: boom while loading$/,
    );
    // Followed by the stack frames in the app's own file, and no others (tsgi, tsx, Node).
    const r = await runTsgi(['--http-socket', '127.0.0.1:0', '--wsgi-file', app('throws-on-load.mjs')]);
    const frames = r.output.split('\n').filter((l) => /^ {4}at /.test(l));
    assert.deepEqual(frames, ['    at file://' + app('throws-on-load.mjs') + ':1:7'], r.output);
  });

  test('an app with a syntax error exits 22', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--wsgi-file', app('broken.ts')],
      22,
      /^tsgi: loading .*broken\.ts failed: /,
    );
  });

  test('an address already in use exits non-zero and says so', async () => {
    const busy = await occupyPort();
    try {
      const r = await runTsgi(['--http-socket', `127.0.0.1:${busy.port}`, '--wsgi-file', app('hello.js')]);
      assert.notEqual(r.code, 0);
      assert.notEqual(r.code, null);
      const lines = errorLines(r.output);
      assert.equal(lines.length, 1, r.output);
      assert.match(lines[0]!, new RegExp(`^tsgi: cannot bind 127\\.0\\.0\\.1:${busy.port}: address already in use$`));
    } finally {
      await busy.close();
    }
  });

  test('a missing --chdir directory exits non-zero', async () => {
    await assertStartupError(
      ['--http-socket', '127.0.0.1:0', '--chdir', '/nonexistent-tsgi-dir', '--wsgi-file', 'x.js'],
      1,
      /^tsgi: --chdir \/nonexistent-tsgi-dir: no such directory/,
    );
  });
});

describe('information', () => {
  test('--help prints grouped options with defaults and exits 0', async () => {
    const r = await runTsgi(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.output, /^Usage: tsgi \[options\]/);
    for (const group of [
      'Sockets:',
      'Application:',
      'Processes and concurrency:',
      'Timeouts and limits:',
      'Logging:',
    ]) {
      assert.match(r.output, new RegExp(`^${group}$`, 'm'));
    }
    assert.match(r.output, /--listen N .*\n?.*\[default: 1024\]/);
    assert.match(r.output, /--buffer-size BYTES[\s\S]*?\[default: 8192\]/);
    assert.match(r.output, /--callable NAME[\s\S]*?\[default: application\]/);
    assert.doesNotMatch(r.output, /Starting tsgi/);
  });

  test('--version prints the version and exits 0, without reading later options', async () => {
    const r = await runTsgi(['--version', '--no-such-option']);
    assert.equal(r.code, 0);
    assert.equal(r.output, `tsgi ${VERSION}\n`);
  });
});
