// The deployment files agree with the Kubernetes OpenAPI schemas (kubernetes-models, and the
// Prometheus Operator's for the ServiceMonitor) and with each other: the ports, the probe paths,
// the stop timings and the user that deploy/container/tsgi.ini and the Dockerfile set.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { findNginx } from '../integration/helpers/nginx';
import {
  CONTAINER_DIR,
  composeErrors,
  composeSeconds,
  imageSettings,
  loadManifests,
  one,
  ROOT,
  selects,
  validateManifest,
} from './helpers/deploy-files';

const settings = imageSettings();
const manifests = loadManifests();
const deployment = one(manifests, 'apps/v1 Deployment').doc;
const pod = deployment.spec.template;
const container = pod.spec.containers[0];
const portByName = new Map<string, number>(
  container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
);
const resolvePort = (p: string | number): number => (typeof p === 'number' ? p : (portByName.get(p) ?? -1));

describe('Kubernetes manifests', () => {
  test('every document under deploy/kubernetes validates against the OpenAPI schema of its kind', () => {
    assert.ok(manifests.length >= 4, `only ${manifests.length} documents`);
    for (const m of manifests) assert.doesNotThrow(() => validateManifest(m), `${m.file} (${m.kind})`);
  });

  test('a manifest with a wrongly typed field is refused by the schema check', () => {
    const broken = structuredClone(one(manifests, 'apps/v1 Deployment'));
    broken.doc.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    assert.throws(() => validateManifest(broken), /containerPort must be integer/);
  });

  test("the container's ports are the ini's http-socket and metrics ports", () => {
    assert.equal(portByName.get('http'), settings.appPort);
    assert.equal(portByName.get('metrics'), settings.metricsPort);
  });

  test('readiness asks /readyz, liveness and startup /healthz, all on the metrics port', () => {
    const probes = { readinessProbe: '/readyz', livenessProbe: '/healthz', startupProbe: '/healthz' };
    for (const [probe, p] of Object.entries(probes)) {
      const get = container[probe]?.httpGet;
      assert.ok(get, `${probe} has no httpGet`);
      assert.equal(get.path, p, probe);
      assert.equal(resolvePort(get.port), settings.metricsPort, `${probe} port ${get.port}`);
    }
  });

  test('the grace period covers shutdown-delay and the reload mercy, with a margin of at least 5 s', () => {
    const need = settings.shutdownDelay + settings.mercy + 5;
    assert.ok(
      pod.spec.terminationGracePeriodSeconds >= need,
      `terminationGracePeriodSeconds ${pod.spec.terminationGracePeriodSeconds} < ${need}`,
    );
    assert.ok(settings.shutdownDelay > 0, 'shutdown-delay must be set for endpoints to be removed first');
  });

  test('the pod runs as the non-root numeric user of the image, without privilege escalation', () => {
    const sc = { ...pod.spec.securityContext, ...container.securityContext };
    assert.equal(sc.runAsNonRoot, true);
    assert.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0, `runAsUser ${sc.runAsUser}`);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(sc.capabilities?.drop, ['ALL']);
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(fs.readFileSync(path.join(CONTAINER_DIR, 'Dockerfile'), 'utf8'));
    assert.ok(user, 'the Dockerfile sets no numeric USER');
    assert.equal(sc.runAsUser, Number(user[1]));
  });

  test('the scrape annotations name the metrics port and /metrics', () => {
    const a = pod.metadata.annotations;
    assert.equal(a['prometheus.io/scrape'], 'true');
    assert.equal(Number(a['prometheus.io/port']), settings.metricsPort);
    assert.equal(a['prometheus.io/path'], '/metrics');
  });

  test('one worker per requested CPU, and a memory limit equal to the request', () => {
    assert.equal(Number(container.resources.requests.cpu), settings.processes);
    assert.equal(container.resources.limits.memory, container.resources.requests.memory);
    assert.equal(container.resources.limits.cpu, undefined, 'a CPU limit throttles every worker');
  });

  test('the Service, the PodDisruptionBudget and the ServiceMonitor select the pods and name existing ports', () => {
    const labels = pod.metadata.labels;
    assert.ok(selects(deployment.spec.selector.matchLabels, labels), 'the Deployment selects its own pods');
    const service = one(manifests, 'v1 Service').doc;
    assert.ok(selects(service.spec.selector, labels), 'the Service selects the pods');
    for (const p of service.spec.ports) assert.ok(resolvePort(p.targetPort) > 0, `targetPort ${p.targetPort}`);
    assert.ok(selects(one(manifests, 'policy/v1 PodDisruptionBudget').doc.spec.selector.matchLabels, labels));
    const monitor = one(manifests, 'monitoring.coreos.com/v1 ServiceMonitor').doc;
    assert.ok(selects(monitor.spec.selector.matchLabels, service.metadata.labels), 'the ServiceMonitor selects it');
    const endpoint = monitor.spec.endpoints[0];
    const servicePort = service.spec.ports.find((p: { name: string }) => p.name === endpoint.port);
    assert.ok(servicePort, `the Service has no port named ${endpoint.port}`);
    assert.equal(resolvePort(servicePort.targetPort), settings.metricsPort);
    assert.equal(endpoint.path, '/metrics');
  });
});

describe('docker-compose.yml and nginx.conf', () => {
  const compose = parse(fs.readFileSync(path.join(CONTAINER_DIR, 'docker-compose.yml'), 'utf8'));
  const nginxConf = fs.readFileSync(path.join(CONTAINER_DIR, 'nginx.conf'), 'utf8');
  const apps = Object.entries(compose.services).filter(([name]) => name !== 'nginx');

  test('docker-compose.yml validates against the Compose Specification schema', () => {
    assert.deepEqual(composeErrors(compose), []);
  });

  test('a compose file with a misspelt service key is refused by the schema check', () => {
    const broken = structuredClone(compose);
    broken.services.nginx.stop_grace_periode = '35s';
    assert.deepEqual(composeErrors(broken), [
      '/services/nginx: must NOT have additional properties (stop_grace_periode)',
    ]);
  });

  test('two tsgi replicas build the Dockerfile and are given longer than shutdown-delay + mercy to stop', () => {
    assert.equal(apps.length, 2);
    for (const [name, s] of apps as Array<[string, Record<string, never>]>) {
      const build = s.build as unknown as { context: string; dockerfile: string };
      assert.ok(fs.existsSync(path.resolve(CONTAINER_DIR, build.context, build.dockerfile)), `${name}: Dockerfile`);
      assert.equal(s.stop_signal, 'SIGTERM');
      assert.ok(composeSeconds(s.stop_grace_period) >= settings.shutdownDelay + settings.mercy + 5, name);
      assert.deepEqual(s.expose, [String(settings.appPort), String(settings.metricsPort)]);
      assert.match((s.healthcheck as unknown as { test: string[] }).test.join(' '), /:\d+\/healthz/);
      assert.ok((s.healthcheck as unknown as { test: string[] }).test.join(' ').includes(`:${settings.metricsPort}/`));
    }
  });

  test("nginx's upstream is every replica on the ini's app port, and nginx waits for them to be healthy", () => {
    const servers = [...nginxConf.matchAll(/^\s*server\s+([\w.-]+):(\d+)\s*;/gm)].map((m) => `${m[1]}:${m[2]}`);
    assert.deepEqual(servers.sort(), apps.map(([name]) => `${name}:${settings.appPort}`).sort());
    for (const [name] of apps) assert.equal(compose.services.nginx.depends_on[name].condition, 'service_healthy');
    assert.ok(compose.services.nginx.healthcheck, 'nginx has a healthcheck');
  });

  test('nginx accepts nginx.conf (nginx -t, the replicas named by a loopback address)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-nginx-t-'));
    try {
      const conf = nginxConf
        .replace(/server\s+app\d+:/g, 'server 127.0.0.1:')
        .replace('listen 80;', 'listen 127.0.0.1:8;')
        .replace('http {', `pid ${dir}/nginx.pid;\nhttp {\n    client_body_temp_path ${dir};`);
      fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
      const r = spawnSync(findNginx(), ['-t', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', 'nginx.conf'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /syntax is ok/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  test('builds on node:20-bookworm, runs on its slim twin, stops on SIGTERM and exposes the ini ports', async () => {
    const { parseDockerfile, lastOf } = await import(path.join(ROOT, 'scripts', 'dockerfile.mjs'));
    const [build, runtime] = parseDockerfile(fs.readFileSync(path.join(CONTAINER_DIR, 'Dockerfile'), 'utf8'));
    assert.equal(build.image, 'node:20-bookworm');
    assert.equal(runtime.image, 'node:20-bookworm-slim');
    assert.equal(lastOf(runtime, 'STOPSIGNAL').value, 'SIGTERM');
    const exposed = runtime.steps
      .filter((s: { keyword: string }) => s.keyword === 'EXPOSE')
      .flatMap((s: { ports: number[] }) => s.ports);
    assert.deepEqual(exposed, [settings.appPort, settings.metricsPort]);
    const health = lastOf(runtime, 'HEALTHCHECK').exec.join(' ');
    assert.ok(health.includes(`127.0.0.1:${settings.metricsPort}/healthz`), health);
    const cmd = lastOf(runtime, 'CMD').exec;
    assert.equal(cmd[0], 'node', 'node itself is PID 1 and gets the STOPSIGNAL');
    assert.ok(fs.existsSync(path.join(ROOT, cmd[cmd.indexOf('--ini') + 1])), 'the CMD names the ini');
  });

  test(".dockerignore patterns match as Docker's do: anchored at the root, ** across directories", async () => {
    const { dockerignoreMatchers } = await import(path.join(ROOT, 'scripts', 'dockerfile.mjs'));
    const ignored = (patterns: string, p: string): boolean =>
      dockerignoreMatchers(patterns).some((re: RegExp) => re.test(p));
    assert.ok(ignored('node_modules', 'node_modules/x/index.js'));
    assert.ok(!ignored('node_modules', 'examples/p/node_modules'));
    assert.ok(ignored('**/node_modules', 'node_modules'));
    assert.ok(ignored('**/node_modules', 'examples/p/node_modules/y'));
    assert.ok(ignored('*.log', 'a.log'));
    assert.ok(!ignored('*.log', 'logs/a.log'));
    assert.ok(ignored('# comment\nbench/results', 'bench/results/x.json'));
    assert.ok(!ignored('bench/results', 'bench/results.md'));
    assert.throws(() => dockerignoreMatchers('!keep'), /exceptions \(!keep\) are not supported/);
  });

  test('the step runner refuses what it cannot honour: unknown instructions, shell-form CMD, a cut-off line', async () => {
    const { parseDockerfile } = await import(path.join(ROOT, 'scripts', 'dockerfile.mjs'));
    assert.throws(() => parseDockerfile('FROM a\nVOLUME /x\n'), /line 2: instruction VOLUME is not supported/);
    assert.throws(() => parseDockerfile('FROM a\nCMD node app.js\n'), /CMD must be exec form/);
    assert.throws(() => parseDockerfile('FROM a\nRUN true \\\n'), /ends inside a continued line/);
    assert.throws(() => parseDockerfile('FROM a\nCOPY --chown=1 . .\n'), /unsupported flag --chown/);
    const [stage] = parseDockerfile('FROM a AS b\nRUN echo a \\\n  # note\n  b\n');
    assert.equal(stage.name, 'b');
    assert.equal(stage.steps[0].shell, 'echo a b');
  });
});
