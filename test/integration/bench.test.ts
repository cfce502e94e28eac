// `tsgi bench` end to end: a 2-point run (tsgi and node:http on the hello app, 1 s rounds)
// writes a valid report with figures for both points; --compare reads it back; --frameworks
// puts a fetch app beside its own server; usage errors exit 2 before anything starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { renderMarkdown } from '../../src/bench/report';
import { type Report, validateReport } from '../../src/bench/schema';
import { CLI, ROOT } from './helpers/tsgi';

function tsgiBench(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, 'bench', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      p.kill('SIGTERM');
      reject(new Error(`tsgi bench timed out\n${stderr}`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a 2-point run with 1 s rounds measures both points and writes JSON, Markdown and SVG', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsgi-bench-it-'));
  const r = await tsgiBench([
    '--app',
    'hello',
    '--only',
    'tsgi,node-http',
    '--rounds',
    '2',
    '--duration',
    '1',
    '--warmup',
    '1',
    '--connections',
    '10',
    '--no-wrk-check',
    '--no-push',
    '--quiet-wait',
    '0',
    '--retries',
    '0',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(out).sort();
  assert.equal(files.length, 3, files.join(', '));
  const json = files.find((f) => f.endsWith('.json'))!;
  const report = JSON.parse(readFileSync(path.join(out, json), 'utf8')) as Report;
  assert.deepEqual(validateReport(report), []);
  assert.deepEqual(
    report.points.map((p) => [p.id, p.status]),
    [
      ['tsgi/hello/p1-t1-a1/http', 'ok'],
      ['node-http/hello', 'ok'],
    ],
  );
  for (const p of report.points) {
    const s = p.summary!;
    assert.equal(s.runs, 2);
    assert.ok(s.rps.median > 100, `${p.id}: ${s.rps.median} req/s`);
    assert.deepEqual(s.errors, { errors: 0, timeouts: 0, non2xx: 0 });
    assert.ok(s.serverUsPerRequest! > 0, `${p.id}: server CPU per request`);
    assert.ok(s.peakRssMiB! > 10, `${p.id}: peak RSS`);
    assert.equal(p.runs.filter((x) => x.warmup).length, 1);
    assert.match(p.serverCommands[0]!, /node /);
  }
  assert.match(
    report.points[0]!.serverCommands[0]!,
    /bin\/tsgi\.js --http-socket 127\.0\.0\.1:\d+ --wsgi-file bench\/apps\/hello\.js --disable-logging/,
  );
  assert.match(r.stdout, /## `hello`: hello world/);
  assert.match(r.stdout, /\| tsgi 1 proc × 1 thr × async 1, HTTP \| \*\*[\d,]+\*\* \|/);
  assert.match(readFileSync(path.join(out, files.find((f) => f.endsWith('.svg'))!), 'utf8'), /^<svg /);

  const c = await tsgiBench(['--compare', path.join(out, json), path.join(out, json)]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /\| tsgi\/hello\/p1-t1-a1\/http \| [\d,]+ \| [\d,]+ \| \+0\.0 % \|/);
  rmSync(out, { recursive: true, force: true });
});

test('--frameworks measures the fetch app under tsgi and on node:http, and prints the tsgi ÷ own-server row', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsgi-bench-it-'));
  const r = await tsgiBench([
    '--frameworks',
    '--only',
    '/fetch',
    '--rounds',
    '2',
    '--duration',
    '1',
    '--warmup',
    '1',
    '--connections',
    '10',
    '--no-wrk-check',
    '--no-push',
    '--quiet-wait',
    '0',
    '--retries',
    '0',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const json = readdirSync(out).find((f) => f.endsWith('.json'))!;
  const report = JSON.parse(readFileSync(path.join(out, json), 'utf8')) as Report;
  assert.deepEqual(validateReport(report), []);
  assert.deepEqual(
    report.points.map((p) => [p.id, p.status]),
    [
      ['tsgi/fetch/p1-t1-a1/http', 'ok'],
      ['own/fetch', 'ok'],
    ],
  );
  for (const p of report.points) assert.ok(p.summary!.serverUsPerRequest! > 0, `${p.id}: server CPU per request`);
  assert.match(
    report.points[0]!.serverCommands[0]!,
    /bin\/tsgi\.js --http-socket 127\.0\.0\.1:\d+ --wsgi-file bench\/apps\/fetch\.mjs --disable-logging/,
  );
  assert.match(report.points[1]!.serverCommands[0]!, /node bench\/servers\/own\.mjs 127\.0\.0\.1:\d+ fetch$/);
  assert.match(r.stdout, /## Real apps against their own servers/);
  assert.match(
    r.stdout,
    /\| `fetch` \| tsgi\/fetch\/p1-t1-a1\/http \| \*\*[\d.]+\*\* \([\d.]+ – [\d.]+\) \| node:http, the same answer \| \*\*[\d.]+\*\* .* \| \*\*[\d.]+\*\* \(/,
  );
  // --report prints the same report again from the JSON (how RESULTS.md tables are regenerated).
  const again = await tsgiBench(['--report', path.join(out, json)]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, renderMarkdown(report));
  rmSync(out, { recursive: true, force: true });
});

test('usage errors exit 2 and name the problem', async () => {
  const r = await tsgiBench(['--matrix', 'threads=0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /threads=0: must be from 1 to 256/);
  const c = await tsgiBench(['--compare', path.join(ROOT, 'package.json'), path.join(ROOT, 'package.json')]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /is not a tsgi bench results file: schema is undefined/);
});
