// A bench app on uWebSockets.js (npm build @trufflesuite/uws-js-unofficial, the one that loads on
// Debian 12 / glibc 2.36). Usage: node bench/servers/uws.mjs 127.0.0.1:PORT [APP]
// APP is a name from bench/apps/baselines.mjs (default hello).
//
// That package silently falls back to a pure-JS implementation on top of `ws` when its binary does
// not load (or when UWS_USE_FALLBACK is set). A benchmark against the fallback would be meaningless,
// so this file never goes through the package's loader: it requires the .node binary for this
// platform/ABI directly, then checks that the shared object is really mapped into the process.
// Any failure exits with status 3 and a clear message.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pickApp, uwsApps } from '../apps/baselines.mjs';
import { parseAddr } from './addr.mjs';

const require = createRequire(import.meta.url);
const PKG = '@trufflesuite/uws-js-unofficial';

function fail(msg) {
  console.error(`uws.mjs: ${msg}`);
  process.exit(3);
}

export function loadNativeUws() {
  if (/^(true|1)$/i.test(process.env.UWS_USE_FALLBACK ?? '')) {
    fail(`UWS_USE_FALLBACK=${process.env.UWS_USE_FALLBACK} is set: refusing to run the pure-JS fallback`);
  }
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve(`${PKG}/package.json`));
  } catch (e) {
    fail(`${PKG} is not installed (npm install): ${e.message}`);
  }
  const binary = path.join(
    pkgDir,
    'binaries',
    `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
  );
  if (!fs.existsSync(binary)) {
    fail(
      `no native binary for ${process.platform}/${process.arch}/ABI ${process.versions.modules}: ${binary} is missing`,
    );
  }
  let uWS;
  try {
    uWS = require(binary);
  } catch (e) {
    fail(`the native binary ${binary} does not load: ${e.message}`);
  }
  // Verification 1: the module object came from the .node file (require cache key).
  const cached = require.cache[binary];
  if (!cached || cached.exports !== uWS) fail(`${binary} is not in the require cache after loading`);
  // Verification 2: the shared object is mapped into this process.
  const real = fs.realpathSync(binary);
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes(real)) fail(`${real} is not mapped into the process (/proc/self/maps)`);
  // Verification 3: App is a native function, not the fallback's JS class.
  if (typeof uWS.App !== 'function' || !/\[native code\]/.test(Function.prototype.toString.call(uWS.App))) {
    fail('uWS.App is not a native function: this is not the native build');
  }
  return { uWS, binary: real };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const { host, port } = parseAddr(process.argv[2]);
  const handler = pickApp(uwsApps, process.argv[3]);
  const { uWS, binary } = loadNativeUws();
  const app = uWS.App();
  app.any('/*', handler);
  app.listen(host, port, (token) => {
    if (!token) fail(`cannot listen on ${host}:${port}`);
    console.log(`uWS native ${binary} listening on ${host}:${port} (pid ${process.pid})`);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}
