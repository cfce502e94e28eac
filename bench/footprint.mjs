// Memory and start-up of tsgi configurations against node:http and node:cluster, measured the
// same way in one run, rounds interleaved (A B C … A B C …):
//   - first answer: from spawn to the first 200 on a new connection (polled every 5 ms);
//   - RSS: VmRSS summed over the whole process tree after 300 hello-world requests;
//   - idle CPU (--idle SECS): CPU time the tree uses while nothing is asked of it.
// Usage: node bench/footprint.mjs [--rounds N] [--idle SECS] [--only name,name] [--per-process]
// Prints a markdown table of medians with min–max; --per-process also prints, for every
// measurement, each process's name (/proc/PID/comm) and VmRSS in kB to stderr. Needs `npm run build:ts` (runs dist/).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'bin', 'tsgi.js');
const HELLO = path.join(ROOT, 'bench', 'apps', 'hello.js');
const HELLO_TS = path.join(ROOT, 'test', 'fixtures', 'apps', 'hello.ts');
const NODE_HTTP = path.join(ROOT, 'bench', 'servers', 'node-http.mjs');
const CLK_TCK = 100;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt('--rounds', '3'));
const IDLE_S = Number(opt('--idle', '0'));
const ONLY = opt('--only', '')?.split(',').filter(Boolean) ?? [];
const PER_PROCESS = args.includes('--per-process');

const tsgi =
  (...extra) =>
  (addr) => [CLI, '--http-socket', addr, '--disable-logging', ...extra];
const CONFIGS = [
  { name: 'node:http', argv: (addr) => [NODE_HTTP, addr, 'hello'] },
  { name: 'tsgi 1 process', argv: tsgi('--wsgi-file', HELLO) },
  { name: 'tsgi 1 process (.ts app)', argv: tsgi('--wsgi-file', HELLO_TS) },
  { name: 'node:cluster 2', argv: (addr) => [NODE_HTTP, addr, 'hello', '2'] },
  { name: 'tsgi master + 1', argv: tsgi('--wsgi-file', HELLO, '--master') },
  { name: 'tsgi master + 2', argv: tsgi('--wsgi-file', HELLO, '--master', '--processes', '2') },
  { name: 'node:cluster 4', argv: (addr) => [NODE_HTTP, addr, 'hello', '4'] },
  { name: 'tsgi master + 4', argv: tsgi('--wsgi-file', HELLO, '--master', '--processes', '4') },
  { name: 'tsgi 1 process × 4 threads', argv: tsgi('--wsgi-file', HELLO, '--threads', '4') },
  {
    name: 'tsgi --http router + master + 1',
    argv: (addr) => [CLI, '--http', addr, '--wsgi-file', HELLO, '--master', '--disable-logging'],
  },
].filter((c) => ONLY.length === 0 || ONLY.includes(c.name));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** pid and every descendant, from /proc's parent links. */
function tree(root) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

function rssKb(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb;
}

/** "name kB" of one process, for --per-process. */
function perProcess(pid) {
  try {
    const name = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return `${name} ${rssKb([pid])}`;
  } catch {
    return `${pid} gone`;
  }
}

function cpuTicks(pids) {
  let t = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').slice(0).split(') ')[1].split(' ');
      t += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return t;
}

function get(port, agent) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(10000, () => req.destroy());
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(config) {
  const port = await freePort();
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, config.argv(`127.0.0.1:${port}`), { detached: true, stdio: 'ignore' });
  try {
    let firstMs = null;
    for (let i = 0; i < 12000 && firstMs === null; i++) {
      if ((await get(port, false)) === 200) firstMs = Number(process.hrtime.bigint() - start) / 1e6;
      else await sleep(5);
    }
    if (firstMs === null) throw new Error(`${config.name}: no answer within 60 s`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    for (let i = 0; i < 300; i += 4) await Promise.all([0, 1, 2, 3].map(() => get(port, agent)));
    agent.destroy();
    await sleep(200);
    const pids = tree(child.pid);
    const result = { firstMs, rssKb: rssKb(pids), processes: pids.length };
    if (PER_PROCESS) process.stderr.write(`${config.name}: ${pids.map(perProcess).join(', ')}\n`);
    if (IDLE_S > 0) {
      await sleep(5000); // past the start-up's garbage collections and compilations
      const t0 = cpuTicks(pids);
      await sleep(IDLE_S * 1000);
      result.idlePct = (100 * (cpuTicks(pids) - t0)) / CLK_TCK / IDLE_S;
    }
    return result;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid, 'SIGKILL');
    await exited;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const span = (xs, f) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

const results = new Map(CONFIGS.map((c) => [c.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const c of CONFIGS) results.get(c.name).push(await measure(c));
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}

const mib = (kb) => (kb / 1024).toFixed(1);
const ms = (x) => x.toFixed(0);
console.log(`node bench/footprint.mjs ${args.join(' ')}  (${ROUNDS} rounds, interleaved; medians, min–max)`);
console.log('');
console.log(`| configuration | processes | RSS MiB | first answer ms |${IDLE_S > 0 ? ' idle CPU % |' : ''}`);
console.log(`|---|---:|---:|---:|${IDLE_S > 0 ? '---:|' : ''}`);
for (const [name, runs] of results) {
  const rss = runs.map((x) => x.rssKb);
  const first = runs.map((x) => x.firstMs);
  const idle = IDLE_S > 0 ? ` ${median(runs.map((x) => x.idlePct)).toFixed(2)} |` : '';
  console.log(
    `| ${name} | ${runs[0].processes} | ${mib(median(rss))} (${span(rss, mib)}) | ${ms(median(first))} (${span(first, ms)}) |${idle}`,
  );
}
