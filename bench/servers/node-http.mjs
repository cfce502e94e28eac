// A bench app on node:http. Usage:
//   node bench/servers/node-http.mjs 127.0.0.1:PORT [APP] [PROCESSES]
// APP is a name from bench/apps/baselines.mjs (default hello). PROCESSES > 1 runs node:cluster
// with that many workers sharing the port (the primary only forks and waits).
import cluster from 'node:cluster';
import http from 'node:http';
import { nodeApps, pickApp } from '../apps/baselines.mjs';
import { parseAddr } from './addr.mjs';

const { host, port } = parseAddr(process.argv[2]);
const appName = process.argv[3] ?? 'hello';
const handler = pickApp(nodeApps, appName);
const processes = Number(process.argv[4] ?? 1);

if (processes > 1 && cluster.isPrimary) {
  for (let i = 0; i < processes; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === processes)
      console.log(`node:http cluster (${processes} workers, app ${appName}) listening on ${host}:${port}`);
  });
  cluster.on('exit', (w, code, signal) => console.error(`cluster worker ${w.process.pid} exited (${code ?? signal})`));
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      process.exit(0);
    });
  }
} else {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  server.listen(port, host, () => {
    if (processes === 1) console.log(`node:http (app ${appName}) listening on ${host}:${port} (pid ${process.pid})`);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}
