#!/usr/bin/env node
// Runs the steps of deploy/container/Dockerfile without a Docker engine, as far as one machine
// allows (docs/deploy.md, "What the container check covers"):
//   1. the build stage: the context copied into a scratch root (.dockerignore honoured), each
//      WORKDIR, COPY, ARG, ENV and RUN in order, RUN as `/bin/sh -c` in the mapped WORKDIR, with
//      this machine's Node and npm;
//   2. the runtime stage: COPY --from=<stage> into a second scratch root, then the CMD started
//      as an unprivileged user (setpriv to nobody: the USER of the image need not exist here),
//      each EXPOSEd port mapped to a free loopback port (the `0.0.0.0:PORT` addresses in the ini
//      file the CMD names are rewritten: what `docker run -p 127.0.0.1:Q:PORT` does);
//   3. checks: GET / answers 200; GET /healthz answers 200 and the HEALTHCHECK command exits 0;
//      GET /readyz answers 200; after the STOPSIGNAL /readyz answers 503 while GET / still
//      answers 200 (the --shutdown-delay drain), and the CMD then ends with exit status 0.
// Usage: node scripts/container-steps.mjs [--context DIR] [--dockerfile FILE]
//        [--build-arg NAME=VALUE]... [--keep]
// Exit status 0 when every step and check passed. Needs root (setpriv changes the user).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerignoreMatchers, lastOf, parseDockerfile } from './dockerfile.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NOBODY = '65534';
// Every wait is bounded generously: a busy machine is slow, never stuck.
const STEP_TIMEOUT_MS = 15 * 60 * 1000;
const WAIT_MS = 60 * 1000;

function parseArgs(argv) {
  const o = { context: ROOT, dockerfile: null, buildArgs: {}, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--context') o.context = path.resolve(argv[++i]);
    else if (a === '--dockerfile') o.dockerfile = path.resolve(argv[++i]);
    else if (a === '--build-arg') {
      const [k, ...v] = argv[++i].split('=');
      o.buildArgs[k] = v.join('=');
    } else if (a === '--keep') o.keep = true;
    else throw new Error(`container-steps: unknown argument ${a}`);
  }
  o.dockerfile ??= path.join(o.context, 'deploy', 'container', 'Dockerfile');
  return o;
}

const log = (msg) => process.stdout.write(`container-steps: ${msg}\n`);

/** The context's .dockerignore as matchers (none without the file). */
function ignoreMatchers(context) {
  const file = path.join(context, '.dockerignore');
  return fs.existsSync(file) ? dockerignoreMatchers(fs.readFileSync(file, 'utf8')) : [];
}

function copyContext(context, dest, matchers) {
  fs.cpSync(context, dest, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => {
      const rel = path.relative(context, src);
      return rel === '' || !matchers.some((m) => m.test(rel));
    },
  });
}

/** Runs a command to its end (bounded), streaming its output with a prefix; rejects on failure. */
function run(argv, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { ...opts, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** A container path (absolute, as in the Dockerfile) inside a scratch root. */
const inRoot = (root, p) => path.join(root, path.resolve('/', p));

async function buildStage(stage, ctx) {
  // npm answers from this machine's cache when it can (a Docker build would have no cache):
  // the same packages, fewer round trips to the registry. node-gyp compiles with every CPU (JOBS).
  const env = { ...process.env, npm_config_prefer_offline: 'true', JOBS: String(os.availableParallelism()) };
  let workdir = '/';
  for (const step of stage.steps) {
    const where = `[${stage.name ?? 'stage'} line ${step.line}]`;
    switch (step.keyword) {
      case 'WORKDIR':
        workdir = path.resolve(workdir, step.value);
        fs.mkdirSync(inRoot(ctx.root, workdir), { recursive: true });
        break;
      case 'ARG':
        env[step.name] = ctx.buildArgs[step.name] ?? step.value ?? '';
        break;
      case 'ENV':
        for (const [k, v] of step.pairs) env[k] = v;
        break;
      case 'COPY':
        copyStep(step, workdir, ctx);
        break;
      case 'RUN': {
        log(`${where} RUN ${step.shell ?? JSON.stringify(step.exec)}`);
        const argv = step.exec ?? ['/bin/sh', '-c', step.shell];
        const code = await run(argv, { cwd: inRoot(ctx.root, workdir), env });
        if (code !== 0) throw new Error(`${where} RUN exited with ${code}`);
        break;
      }
      case 'LABEL':
        break;
      default:
        throw new Error(`${where} ${step.keyword} is not expected in a build stage`);
    }
  }
  return { workdir, env };
}

function copyStep(step, workdir, ctx) {
  const dest = inRoot(ctx.root, path.resolve(workdir, step.dest));
  log(`[line ${step.line}] COPY ${step.from ? `--from=${step.from} ` : ''}${step.sources.join(' ')} ${step.dest}`);
  for (const src of step.sources) {
    if (step.from) {
      const from = ctx.stageRoots.get(step.from);
      if (!from) throw new Error(`COPY --from=${step.from}: no stage of that name was built`);
      fs.cpSync(inRoot(from, src), dest, { recursive: true, verbatimSymlinks: true });
    } else {
      if (src !== '.') throw new Error(`COPY ${src}: only the whole context (.) is supported`);
      copyContext(ctx.context, dest, ctx.matchers);
    }
  }
}

/** A TCP port that is free on 127.0.0.1 at this moment. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Rewrites `0.0.0.0:PORT` (or `:PORT`) in the CMD's ini file to loopback ports: `docker run -p`. */
async function mapPorts(cmd, exposed, runWorkdir, root) {
  const iniArg = cmd.indexOf('--ini');
  if (iniArg < 0) throw new Error('CMD names no --ini file: nothing says where the EXPOSEd ports are bound');
  const iniPath = inRoot(root, path.resolve(runWorkdir, cmd[iniArg + 1]));
  let ini = fs.readFileSync(iniPath, 'utf8');
  const map = new Map();
  for (const port of exposed) {
    const re = new RegExp(`=\\s*(0\\.0\\.0\\.0)?:${port}\\s*$`, 'm');
    if (!re.test(ini)) throw new Error(`EXPOSE ${port}: ${cmd[iniArg + 1]} binds nothing on 0.0.0.0:${port}`);
    const mapped = await freePort();
    ini = ini.replace(re, `= 127.0.0.1:${mapped}`);
    map.set(port, mapped);
  }
  fs.writeFileSync(iniPath, ini);
  return map;
}

function get(port, p) {
  return new Promise((resolve) => {
    // A connection per request: a kept one would outlive the server's close and hide it.
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: WAIT_MS, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
  });
}

/** Polls `port` until a GET answers (any status), within the bound. */
async function waitServing(port, p, child) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the CMD exited (${child.exitCode}) before serving`);
    const r = await get(port, p);
    if (r.status) return r;
    if (Date.now() > deadline) throw new Error(`nothing answered on 127.0.0.1:${port}${p} within ${WAIT_MS} ms`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Polls `port` until GET `p` answers `status`, within the bound. */
async function waitStatus(port, p, status, child) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the CMD exited (${child.exitCode}) before ${p} answered ${status}`);
    last = await get(port, p);
    if (last.status === status) return;
    if (Date.now() > deadline)
      throw new Error(`${p} did not answer ${status} within ${WAIT_MS} ms (last: ${last.status ?? last.error})`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const asUser = (argv) => ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv];

async function runtimeStage(stage, ctx, o) {
  const root = ctx.root;
  const built = await buildStage(
    { ...stage, steps: stage.steps.filter((s) => ['WORKDIR', 'ENV', 'COPY', 'ARG'].includes(s.keyword)) },
    ctx,
  );
  const cmd = lastOf(stage, 'CMD')?.exec;
  const user = lastOf(stage, 'USER')?.value;
  const stopsignal = lastOf(stage, 'STOPSIGNAL')?.value ?? 'SIGTERM';
  const health = lastOf(stage, 'HEALTHCHECK');
  const exposed = stage.steps.filter((s) => s.keyword === 'EXPOSE').flatMap((s) => s.ports);
  if (!cmd) throw new Error('the runtime stage has no CMD');
  if (!user || /^(root|0)(:|$)/.test(user)) throw new Error(`the runtime stage must set a non-root USER (${user})`);
  if (exposed.length < 2) throw new Error('EXPOSE must name the app port and the metrics port');
  const [appPort, metricsPort] = exposed;
  const ports = await mapPorts(cmd, exposed, built.workdir, root);
  log(
    `USER ${user} runs here as nobody (${NOBODY}); ports ${[...ports].map(([a, b]) => `${a}→127.0.0.1:${b}`).join(', ')}`,
  );

  // The image's user has a home; nobody's does not exist, so it gets one in the scratch dir.
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  fs.chownSync(home, Number(NOBODY), Number(NOBODY));
  const env = { PATH: process.env.PATH, HOME: home, ...built.env };
  delete env.NODE_OPTIONS;
  const cwd = inRoot(root, built.workdir);
  log(`CMD ${JSON.stringify(cmd)}`);
  // Its own process group, so that a failed check can end the whole tree (workers included).
  const child = spawn(asUser(cmd)[0], asUser(cmd).slice(1), {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  ctx.child = child;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  const app = await waitServing(ports.get(appPort), '/', child);
  if (app.status !== 200) throw new Error(`GET / answered ${app.status}, not 200`);
  log(`GET / on the app port: ${app.status}`);

  const healthCmd = health.exec.map((a) => a.replaceAll(`:${metricsPort}/`, `:${ports.get(metricsPort)}/`));
  const hz = await waitServing(ports.get(metricsPort), '/healthz', child);
  if (hz.status !== 200) throw new Error(`GET /healthz answered ${hz.status}, not 200`);
  const code = await run(asUser(healthCmd), { cwd, env });
  if (code !== 0) throw new Error(`the HEALTHCHECK command exited with ${code}`);
  log('GET /healthz: 200; the HEALTHCHECK command: exit 0');
  await waitStatus(ports.get(metricsPort), '/readyz', 200, child);
  log('GET /readyz: 200');

  log(`${stopsignal} to the CMD (pid ${child.pid})`);
  child.kill(stopsignal);
  // The drain (--shutdown-delay in the image's ini): not ready at once, still serving.
  await waitStatus(ports.get(metricsPort), '/readyz', 503, child);
  const during = await get(ports.get(appPort), '/');
  if (during.status !== 200)
    throw new Error(`while /readyz answered 503, GET / answered ${during.status ?? during.error}`);
  log(`after ${stopsignal}: GET /readyz: 503 while GET / still answers 200`);
  const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS * 2);
  const end = await exited;
  clearTimeout(timer);
  ctx.child = null;
  if (end.code !== 0) throw new Error(`after ${stopsignal} the CMD ended with ${end.code ?? end.signal}, not 0`);
  log(`${stopsignal}: exit status 0`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid() !== 0) throw new Error('needs root: the CMD is started as nobody with setpriv');
  const stages = parseDockerfile(fs.readFileSync(o.dockerfile, 'utf8'));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-container-'));
  // Readable by nobody, who runs the CMD from inside it.
  fs.chmodSync(scratch, 0o755);
  const ctx = {
    context: o.context,
    matchers: ignoreMatchers(o.context),
    buildArgs: o.buildArgs,
    stageRoots: new Map(),
  };
  const stop = () => {
    if (ctx.child?.exitCode === null) process.kill(-ctx.child.pid, 'SIGKILL');
  };
  // Stopped from outside (a test's time bound): end the CMD and leave nothing behind.
  process.on('SIGTERM', () => {
    stop();
    if (!o.keep) fs.rmSync(scratch, { recursive: true, force: true });
    process.exit(143);
  });
  try {
    for (const [i, stage] of stages.entries()) {
      ctx.root = path.join(scratch, `stage-${i}`);
      fs.mkdirSync(ctx.root, { mode: 0o755 });
      log(`stage ${i} (${stage.name ?? 'final'}): FROM ${stage.image} → ${ctx.root}`);
      if (i < stages.length - 1) await buildStage(stage, ctx);
      else await runtimeStage(stage, ctx, o);
      if (stage.name) ctx.stageRoots.set(stage.name, ctx.root);
    }
    log('every step and check passed');
  } finally {
    stop();
    if (o.keep) log(`kept ${scratch}`);
    else fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`container-steps: FAILED: ${e.message}\n`);
  process.exit(1);
});
