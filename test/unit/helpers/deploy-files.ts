// Readers for the files under deploy/ (the image's ini, the Kubernetes manifests, the compose
// file), for test/unit/deploy-manifests.test.ts. Each reader fails loudly on a file it cannot
// read: a check that found nothing to check must not pass.
import fs from 'node:fs';
import path from 'node:path';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import Ajv from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CONTAINER_DIR = path.join(ROOT, 'deploy', 'container');
export const KUBERNETES_DIR = path.join(ROOT, 'deploy', 'kubernetes');

/** The [uwsgi] keys of an ini file (the last value of each), as tsgi reads them. */
export function readIni(file: string): Map<string, string> {
  const keys = new Map<string, string>();
  let section = '';
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1];
    else if (section === 'uwsgi') {
      const eq = line.indexOf('=');
      keys.set((eq < 0 ? line : line.slice(0, eq)).trim(), eq < 0 ? 'true' : line.slice(eq + 1).trim());
    }
  }
  return keys;
}

/** The port of an ini address such as `0.0.0.0:8080`. */
export function portOf(addr: string | undefined): number {
  const m = /:(\d+)$/.exec(addr ?? '');
  if (!m) throw new Error(`not a host:port address: ${addr}`);
  return Number(m[1]);
}

/** What the image's ini says about ports and stopping. */
export function imageSettings() {
  const ini = readIni(path.join(CONTAINER_DIR, 'tsgi.ini'));
  const need = (k: string): string => {
    const v = ini.get(k);
    if (v === undefined) throw new Error(`deploy/container/tsgi.ini sets no ${k}`);
    return v;
  };
  return {
    ini,
    appPort: portOf(need('http-socket')),
    metricsPort: portOf(need('metrics')),
    shutdownDelay: Number(need('shutdown-delay')),
    // docs/config.md: worker-reload-mercy defaults to 60 s.
    mercy: Number(ini.get('worker-reload-mercy') ?? '60'),
    processes: Number(need('processes')),
  };
}

// The model class of each kind the manifests may hold; another kind fails the test.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
};

export interface Manifest {
  file: string;
  kind: string;
  // biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document, checked field by field
  doc: any;
}

/** Every YAML document under deploy/kubernetes, parsed (a YAML error throws). */
export function loadManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const name of fs.readdirSync(KUBERNETES_DIR).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    const file = path.join(KUBERNETES_DIR, name);
    for (const d of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${name}: ${d.errors[0].message}`);
      const doc = d.toJS();
      if (doc === null) continue;
      out.push({ file: name, kind: `${doc.apiVersion} ${doc.kind}`, doc });
    }
  }
  return out;
}

/** Validates a document against the OpenAPI schema of its kind; throws with the schema's message. */
export function validateManifest(m: Manifest): void {
  const Model = MODELS[m.kind];
  if (!Model) throw new Error(`${m.file}: no schema for ${m.kind}`);
  new Model(m.doc as never).validate();
}

export function one(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} under deploy/kubernetes, found ${found.length}`);
  return found[0];
}

/** Whether `selector` (matchLabels) selects objects labelled `labels`. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** A duration of compose (`35s`, `1m30s`) in seconds. */
export function composeSeconds(d: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === '') throw new Error(`not a compose duration: ${d}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

// The Compose Specification's schema (test/fixtures/compose-spec/README.md says which version).
// Its $schema names draft-07 by an https address Ajv does not register, hence no meta-schema
// check; formats are not checked either (Compose's own loader reads durations, not the schema).
const composeSchema = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'compose-spec', 'compose-spec.json'), 'utf8'),
);
const validateComposeDoc = new Ajv({
  strict: false,
  allErrors: true,
  validateFormats: false,
  validateSchema: false,
}).compile(composeSchema);

/** The schema errors of a parsed compose file, as `path: message` lines (empty when valid). */
export function composeErrors(doc: unknown): string[] {
  if (validateComposeDoc(doc)) return [];
  return (validateComposeDoc.errors ?? []).map(
    (e) =>
      `${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`,
  );
}
