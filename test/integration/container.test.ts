// The container image's steps, run without a Docker engine by scripts/container-steps.mjs
// (docs/deploy.md, "What the container check covers"): the build stage's RUN commands in a
// scratch copy of the context, the runtime stage's COPY --from, then the CMD as nobody with the
// EXPOSEd ports mapped to loopback. The script cleans up after itself; the test ends its whole
// process group if the bound runs out.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/tsgi';

// npm ci with the network cache and node-gyp take about a minute and a half on this 2-CPU
// machine; the bound is for a busy one.
const BOUND_MS = 12 * 60 * 1000;

// The health listener (--metrics with /healthz) is built on another branch: until it is merged
// here the script checks that nothing answers on the metrics port, and fails once something
// does, so that this switch is turned to 'expect' then.
const HEALTH = 'absent';

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

test("the Dockerfile's steps build the project, start the CMD as an unprivileged user that answers 200, and its STOPSIGNAL stops it with status 0", {
  timeout: BOUND_MS + 60_000,
}, async () => {
  const { code, output } = await runSteps(['--health', HEALTH]);
  assert.equal(code, 0, output);
  // Each stage ran, in order, and the checks were made, not skipped.
  const order = [
    /stage 0 \(build\): FROM node:20-bookworm /,
    /RUN npm ci/,
    /RUN npm prune --omit=dev/,
    /stage 1 \(final\): FROM node:20-bookworm-slim /,
    /COPY --from=build \/app \/app/,
    /USER 1000:1000 runs here as nobody \(65534\)/,
    /GET \/ on the app port: 200/,
    /SIGTERM: exit status 0/,
    /every step and check passed/,
  ];
  let from = 0;
  for (const re of order) {
    const m = re.exec(output.slice(from));
    assert.ok(m, `${re} missing after offset ${from}:\n${output}`);
    from += m.index + m[0].length;
  }
  assert.match(output, HEALTH === 'absent' ? /--health absent: nothing listens/ : /GET \/healthz: 200/);
  // The app ran as nobody: tsgi warns when it runs as root.
  assert.doesNotMatch(output, /running tsgi as root/);
});

test('a Dockerfile instruction the step runner does not know stops it instead of being skipped', async () => {
  const { code, output } = await runSteps([
    '--dockerfile',
    path.join(ROOT, 'test', 'fixtures', 'container', 'Dockerfile.volume'),
  ]);
  assert.equal(code, 1, output);
  assert.match(output, /FAILED: Dockerfile line 3: instruction VOLUME is not supported/);
});
