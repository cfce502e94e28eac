// In-process cost of a node:http app request: dispatcher.onRequest -> NodeExchange -> the
// framework's hello world -> a Transport that records nothing. 64 requests per event-loop
// turn, as a busy worker sees them. Usage (after `npm run build:ts`):
//   node bench/micro/node-apps.mjs fastify|koa|express
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { createDispatcher, loadApp } = createRequire(import.meta.url)(path.join(root, 'dist', 'app', 'index.js'));
const which = process.argv[2] ?? 'fastify';
const app = await loadApp({ wsgiFile: path.join(root, 'bench', 'apps', `${which}.mjs`), callable: 'app' });

let done = 0;
const transport = {
  respond() {
    done++;
  },
  writeHead() {},
  write() {
    return true;
  },
  end() {
    done++;
  },
  abort() {},
  pauseInput() {},
  resumeInput() {},
  log(line) {
    console.log(line);
  },
};
// The vars the core builds for `GET / HTTP/1.1` from wrk.
const vars = [
  ['REQUEST_METHOD', 'GET'],
  ['REQUEST_URI', '/'],
  ['PATH_INFO', '/'],
  ['QUERY_STRING', ''],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['SERVER_NAME', '127.0.0.1'],
  ['SERVER_PORT', '8080'],
  ['REMOTE_ADDR', '127.0.0.1'],
  ['REMOTE_PORT', '5555'],
  ['HTTP_HOST', '127.0.0.1:8080'],
];
let blob = '';
const meta = new Uint32Array(vars.length * 4);
vars.forEach(([k, v], i) => {
  meta[i * 4] = blob.length;
  blob += k;
  meta[i * 4 + 1] = meta[i * 4 + 2] = blob.length;
  blob += v;
  meta[i * 4 + 3] = blob.length;
});
const d = createDispatcher(app, transport, {
  workerId: 1,
  coreId: 0,
  multithread: false,
  multiprocess: false,
  allowMagicVars: false,
  meta,
});
const flags = 1 | 8 | (1 << 16); // BodyDone | KeepAlive | shape id 1

async function turn() {
  for (let i = 0; i < 64; i++) d.onRequest(i + 1, flags, blob, vars.length, undefined);
  await new Promise((resolve) => setImmediate(resolve));
}

for (let i = 0; i < 2000; i++) await turn();
const before = done;
const t0 = process.cpuUsage();
for (let i = 0; i < 5000; i++) await turn();
const t = process.cpuUsage(t0);
console.log(
  `${which}: ${((t.user + t.system) / (done - before)).toFixed(2)} us of CPU per request (${done - before} requests)`,
);
