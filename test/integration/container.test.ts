// The container image's steps, run without a Docker engine by scripts/container-steps.mjs
// (docs/deploy.md, "What the container check covers"): the build stage's RUN commands in a
// scratch copy of the context, the runtime stage's COPY --from, then the CMD as nobody with the
// EXPOSEd ports mapped to loopback. The script cleans up after itself; the test ends its whole
// process group if the bound runs out.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/tsgi';

// npm ci with the network cache and node-gyp take under a minute on this 2-CPU machine; the
// bound is for a busy one.
const BOUND_MS = 12 * 60 * 1000;

function runSteps(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'container-steps.mjs'), ...args], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGTERM'), BOUND_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Asserts that each pattern matches the output after the previous one's match. */
function assertInOrder(output: string, patterns: RegExp[]): void {
  let from = 0;
  for (const re of patterns) {
    const m = re.exec(output.slice(from));
    assert.ok(m, `${re} missing after offset ${from}:\n${output}`);
    from += m.index + m[0].length;
  }
}

/** Runs a command to its end (bounded); fails the test with its output when it fails. */
function mustRun(argv: string[], cwd: string): void {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, encoding: 'utf8', timeout: BOUND_MS });
  assert.equal(r.status, 0, `${argv.join(' ')}:\n${r.stdout}${r.stderr}`);
}

const HEALTH_LINES = [
  /GET \/healthz: 200; the HEALTHCHECK command: exit 0/,
  /GET \/readyz: 200/,
  /after SIGTERM: GET \/readyz: 503 while GET \/ still answers 200/,
];

test("the Dockerfile's steps build this repository, start the CMD as an unprivileged user that answers 200, and its STOPSIGNAL stops it with status 0", {
  timeout: BOUND_MS + 60_000,
}, async () => {
  // This repository's npm ci builds the addon and dist/ already (docs/deploy.md): the second
  // build is skipped, as the docs tell its users.
  const { code, output } = await runSteps(['--build-arg', 'BUILD_SCRIPT=']);
  assert.equal(code, 0, output);
  // Each stage ran, in order, and the checks were made, not skipped.
  assertInOrder(output, [
    /stage 0 \(build\): FROM node:20-bookworm /,
    /RUN npm ci/,
    /RUN npm prune --omit=dev/,
    /stage 1 \(final\): FROM node:20-bookworm-slim /,
    /COPY --from=build \/app \/app/,
    /USER 1000:1000 runs here as nobody \(65534\)/,
    /GET \/ on the app port: 200/,
    ...HEALTH_LINES,
    /SIGTERM: exit status 0/,
    /every step and check passed/,
  ]);
  // The app ran as nobody: tsgi warns when it runs as root.
  assert.doesNotMatch(output, /running tsgi as root/);
});

test('a project that installs tsgi from its npm pack tarball builds with the same Dockerfile and serves its own app', {
  timeout: BOUND_MS * 2,
}, async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-container-project-'));
  try {
    // What examples/container-project/README.md has a user do before `docker build`.
    const project = path.join(scratch, 'project');
    fs.cpSync(path.join(ROOT, 'examples', 'container-project'), project, { recursive: true, dereference: true });
    // --ignore-scripts: dist/ is built already, and building it again here would rewrite files
    // that the tests running beside this one read.
    fs.mkdirSync(path.join(project, 'vendor'));
    mustRun(['npm', 'pack', '--ignore-scripts', '--pack-destination', path.join(project, 'vendor')], ROOT);
    mustRun(['npm', 'install', '--package-lock-only', '--no-audit', '--no-fund', '--prefer-offline'], project);
    // The tarball holds no addon build, so a CMD that serves proves that npm ci built it
    // (tsgi's install script) inside the image's node_modules/tsgi.
    const tarball = spawnSync('tar', ['tzf', path.join(project, 'vendor', 'tsgi-0.1.0.tgz')], { encoding: 'utf8' });
    assert.equal(tarball.status, 0, tarball.stderr);
    assert.match(tarball.stdout, /package\/dist\/native\/index\.js/);
    assert.doesNotMatch(tarball.stdout, /tsgi_native\.node/);
    const { code, output } = await runSteps(['--context', project]);
    assert.equal(code, 0, output);
    assertInOrder(output, [
      /RUN npm ci/,
      /COPY --from=build \/app \/app/,
      /ready in \d+ seconds .*\(fetch handler/,
      /GET \/ on the app port: 200/,
      ...HEALTH_LINES,
      /SIGTERM: exit status 0/,
      /every step and check passed/,
    ]);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('a Dockerfile instruction the step runner does not know stops it instead of being skipped', async () => {
  const { code, output } = await runSteps([
    '--dockerfile',
    path.join(ROOT, 'test', 'fixtures', 'container', 'Dockerfile.volume'),
  ]);
  assert.equal(code, 1, output);
  assert.match(output, /FAILED: Dockerfile line 3: instruction VOLUME is not supported/);
});

// The script's own checks, against a stand-in image whose CMD answers like tsgi with --metrics.
const STAND_IN = path.join(ROOT, 'test', 'fixtures', 'container', 'health');
const standIn = (args: string[]) =>
  runSteps(['--context', STAND_IN, '--dockerfile', path.join(STAND_IN, 'Dockerfile'), ...args]);

test('a metrics port that answers /healthz and /readyz, a HEALTHCHECK that exits 0 and a drain on SIGTERM pass', async () => {
  const { code, output } = await standIn([]);
  assert.equal(code, 0, output);
  assertInOrder(output, [/GET \/ on the app port: 200/, ...HEALTH_LINES, /SIGTERM: exit status 0/]);
});

test('a CMD that stops serving at once on its STOPSIGNAL, without answering 503 on /readyz first, fails the check', async () => {
  const { code, output } = await standIn(['--build-arg', 'DRAIN=0']);
  assert.equal(code, 1, output);
  assert.match(output, /FAILED: .*\/readyz/);
});

test('a CMD that exits with a status other than 0 on its STOPSIGNAL fails the check', async () => {
  const { code, output } = await standIn(['--build-arg', 'EXIT_CODE=3']);
  assert.equal(code, 1, output);
  assert.match(output, /FAILED: after SIGTERM the CMD ended with 3, not 0/);
});
