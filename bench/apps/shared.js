// Logic shared by the benchmark apps and their twins (bench/apps/*.js for tsgi,
// bench/apps/baselines.mjs for node:http and uWebSockets.js, bench/apps/*.py for uWSGI), and by
// the harness, which checks every server's answer against these values before measuring.
'use strict';

/** The 1 KB JSON document of the `json` app: built per request, serialised per request. */
function jsonDocument() {
  const items = [];
  for (let i = 0; i < 16; i++) items.push({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'], price: 100 + i });
  return { ok: true, server: 'bench', count: items.length, items };
}

/** CPU work of the `cpu` app: PBKDF2-HMAC-SHA256 with a fixed iteration count (OpenSSL in both
 * Node and CPython, so the twins do the same work and give the same answer); ~1 ms here. */
const CPU_ITERATIONS = 5500;
const CPU_PASSWORD = 'tsgi';
const CPU_SALT = 'bench';

function cpuWork() {
  return require('node:crypto').pbkdf2Sync(CPU_PASSWORD, CPU_SALT, CPU_ITERATIONS, 32, 'sha256').toString('hex');
}

/** The `sleep` app waits this long before answering. */
const SLEEP_MS = 10;

/** The body the harness POSTs to the `echo` app: 64 KiB of a repeating printable pattern. */
const ECHO_BYTES = 64 * 1024;
function echoBody() {
  const pattern = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_');
  const out = Buffer.alloc(ECHO_BYTES);
  for (let i = 0; i < ECHO_BYTES; i += pattern.length) pattern.copy(out, i);
  return out;
}

module.exports = { jsonDocument, CPU_ITERATIONS, CPU_PASSWORD, CPU_SALT, cpuWork, SLEEP_MS, ECHO_BYTES, echoBody };
