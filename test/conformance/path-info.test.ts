// PATH_INFO decoding through the addon's test-only _decodePathInfo (native/src/proto/uri.h).
// tsgi computes PATH_INFO the way nginx computes $document_uri for uwsgi_params: percent-decode,
// then remove dot segments (RFC 3986 5.2.4). It departs from uWSGI 2.0's http_url_decode
// (docs/protocol-uwsgi.md, "PATH_INFO on the HTTP side") where that one is defective:
// "%2e%2e" is a real "..", and %00 or a malformed escape is refused instead of becoming a NUL
// byte.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

interface PathTestApi {
  _decodePathInfo(path: string): string | { error: string };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const native: PathTestApi = require(join(__dirname, '..', '..', 'build', 'Release', 'tsgi_native.node'));

// [input, expected PATH_INFO or error name, what the case shows]
const cases: [string, string | { error: string }, string][] = [
  ['/', '/', 'the root is kept'],
  ['/hello/world', '/hello/world', 'a plain path is copied as it is'],
  ['/a%20b', '/a b', 'a percent-encoded space is decoded'],
  ['/a/b/../c', '/a/c', '".." removes the segment before it (RFC 3986 5.2.4)'],
  ['/a%2Fb', '/a/b', '"%2F" decodes to "/", as nginx and uWSGI do'],
  ['/a%2fb', '/a/b', 'hex digits are case-insensitive'],
  ['/a/%2e%2e/b', '/b', '"%2e%2e" is decoded before dot segments are removed, unlike uWSGI 2.0'],
  ['/a/.%2E/b', '/b', 'a half-encoded ".." is a ".." too'],
  ['/a/%2e/b', '/a/b', '"%2e" alone is a "." segment'],
  ['/a%2F..%2Fb', '/b', 'encoded slashes around ".." make it a dot segment'],
  ['/a+b', '/a+b', '"+" is not a space in a path and stays as it is'],
  ['/a/./b', '/a/b', '"." segments are removed'],
  ['/a/.', '/a/', 'a final "." leaves a trailing slash'],
  ['/a/b/..', '/a/', 'a final ".." leaves a trailing slash'],
  ['/a/..', '/', 'climbing back to the root is allowed'],
  ['/.', '/', 'a lone "." is the root'],
  ['/a//b', '/a//b', 'double slashes are kept (nginx merges them only with merge_slashes)'],
  ['/a//../b', '/a/b', '".." after an empty segment removes only that empty segment'],
  ['/a/.../b', '/a/.../b', 'three dots are an ordinary segment'],
  ['/a/..b/.c', '/a/..b/.c', 'segments that merely start with dots are ordinary'],
  ['/f%2e%2e/x', '/f../x', 'an encoded ".." inside a longer segment is ordinary'],
  [
    '/a%20b/c%2Fd/./e/../x/%2e%2e/f%2e%2e/%7Euser',
    '/a b/c/d/f../~user',
    'the same result nginx 1.22 sent as PATH_INFO (test/fixtures/uwsgi/nginx-captures.md)',
  ],
  ['/caf%C3%A9', '/caf\u00c3\u00a9', 'non-ASCII bytes come back as latin1 chars, one per byte'],
  ['/%25', '/%', '"%25" decodes to a literal percent sign'],
  ['/%252e%252e/', '/%2e%2e/', 'decoding happens once: "%252e" is "%2e", not "."'],
  ['/a%00b', { error: 'HTTP_NUL_IN_PATH' }, '"%00" is refused, where uWSGI 2.0 lets a NUL through'],
  ['/a%zzb', { error: 'HTTP_BAD_PATH' }, 'a malformed escape is refused, where uWSGI 2.0 makes it a NUL'],
  ['/a%2', { error: 'HTTP_BAD_PATH' }, 'an escape cut short at the end is refused'],
  ['/a%', { error: 'HTTP_BAD_PATH' }, 'a lone "%" at the end is refused'],
  ['/a%g0', { error: 'HTTP_BAD_PATH' }, 'a non-hex first digit is refused'],
  ['/..', { error: 'HTTP_BAD_PATH' }, '".." above the root is refused (nginx answers 400)'],
  ['/a/../..', { error: 'HTTP_BAD_PATH' }, '".." climbing above the root later in the path is refused'],
  ['/%2e%2e/etc/passwd', { error: 'HTTP_BAD_PATH' }, 'an encoded ".." above the root is refused'],
  ['a/b', { error: 'HTTP_BAD_PATH' }, 'a path that does not start with "/" is refused'],
  ['', { error: 'HTTP_BAD_PATH' }, 'an empty path is refused'],
  ['/a\u0000b', { error: 'HTTP_NUL_IN_PATH' }, 'a raw NUL byte is refused as well'],
];

for (const [input, want, what] of cases) {
  test(`${what}: ${JSON.stringify(input)}`, () => {
    assert.deepEqual(native._decodePathInfo(input), want);
  });
}

test('a string with a char above U+00FF is a TypeError, not a path', () => {
  assert.throws(() => native._decodePathInfo('/\u0100'), TypeError);
});

test('a decoded path is never longer than its input', () => {
  for (const [input] of cases) {
    const out = native._decodePathInfo(input);
    if (typeof out === 'string') assert.ok(out.length <= input.length, input);
  }
});
