// `tsgi bench --compare old.json new.json`: per point, the difference of new over old with
// autocannon-compare's t-test (Welch, alpha 0.10). The samples are the rounds: each round is
// one independent measurement of the point, so n = the number of rounds on each side.
import * as fs from 'node:fs';
import { fmtInt } from './format';
import { type PointRecord, type Report, validateReport } from './schema';
import { mean, stddev } from './stats';

interface Stat {
  valid: boolean;
  difference: string;
  pValue: number;
  significant: string;
}
interface CompareResult {
  requests: Stat;
  throughput: Stat;
  latency: Stat;
  aWins: boolean;
  bWins: boolean;
  equal: boolean;
}
type CompareFn = (a: unknown, b: unknown) => CompareResult;

export interface PointComparison {
  id: string;
  label: string;
  oldRps: number | null;
  newRps: number | null;
  /** (new − old) / old of the medians, in percent. */
  medianDiffPct: number | null;
  test: CompareResult | null;
  verdict: string;
}

/** The shape autocannon-compare reads, built from the counted rounds of a point. */
export function asAutocannonResult(
  p: PointRecord,
): { requests: object; throughput: object; latency: object; duration: number } | null {
  const runs = p.runs.filter((r) => !r.warmup && !r.discarded && !r.error && r.rps !== null);
  if (!runs.length) return null;
  const rps = runs.map((r) => r.rps!);
  const bps = runs.map((r) => r.bytesPerS ?? 0);
  const lat = runs.map((r) => r.autocannon?.latency.mean ?? r.latencyMs.avg ?? 0);
  const n = runs.length;
  return {
    requests: { mean: mean(rps), stddev: stddev(rps), total: n },
    throughput: { mean: mean(bps), stddev: stddev(bps), total: n },
    latency: { mean: mean(lat), stddev: stddev(lat), total: n },
    duration: n,
  };
}

export function comparePoints(oldR: Report, newR: Report): PointComparison[] {
  const compare = require('autocannon-compare') as CompareFn;
  const out: PointComparison[] = [];
  const ids = [...new Set([...oldR.points.map((p) => p.id), ...newR.points.map((p) => p.id)])];
  for (const id of ids) {
    const a = oldR.points.find((p) => p.id === id);
    const b = newR.points.find((p) => p.id === id);
    const oldRps = a?.summary?.rps.median ?? null;
    const newRps = b?.summary?.rps.median ?? null;
    const row: PointComparison = {
      id,
      label: (b ?? a)!.label,
      oldRps,
      newRps,
      medianDiffPct: oldRps && newRps !== null ? ((newRps - oldRps) / oldRps) * 100 : null,
      test: null,
      verdict: '',
    };
    if (!a?.summary || !b?.summary) {
      row.verdict = `only measured in ${a?.summary ? 'old' : b?.summary ? 'new' : 'neither'}`;
      out.push(row);
      continue;
    }
    const ra = asAutocannonResult(b);
    const rb = asAutocannonResult(a);
    if (!ra || !rb || a.summary.runs < 2 || b.summary.runs < 2) {
      row.verdict = 'fewer than 2 rounds on a side: no significance test';
      out.push(row);
      continue;
    }
    row.test = compare(ra, rb);
    const t = row.test.requests;
    const sig = !t.valid && Number.isFinite(t.pValue);
    row.verdict = !sig
      ? `no significant difference (p = ${fmtP(t.pValue)})`
      : `new is ${(row.medianDiffPct ?? 0) >= 0 ? 'faster' : 'slower'} (p = ${fmtP(t.pValue)} ${t.significant})`;
    out.push(row);
  }
  return out;
}

const fmtP = (p: number): string => (Number.isFinite(p) ? (p < 0.001 ? '< 0.001' : p.toFixed(3)) : 'n/a');

export function renderComparison(
  oldFile: string,
  newFile: string,
  oldR: Report,
  newR: Report,
  rows: PointComparison[],
): string {
  const L: string[] = [];
  L.push(
    `# tsgi bench --compare`,
    '',
    `old: \`${oldFile}\` (${oldR.startedAt}, commit ${oldR.gitCommit?.slice(0, 10) ?? '?'}, ${oldR.settings.rounds} rounds × ${oldR.settings.durationS} s)`,
  );
  L.push(
    `new: \`${newFile}\` (${newR.startedAt}, commit ${newR.gitCommit?.slice(0, 10) ?? '?'}, ${newR.settings.rounds} rounds × ${newR.settings.durationS} s)`,
    '',
  );
  if (oldR.machine.cpuModel !== newR.machine.cpuModel || oldR.machine.cores !== newR.machine.cores) {
    L.push(
      `**Different machines** (${oldR.machine.cpuModel} × ${oldR.machine.cores} vs ${newR.machine.cpuModel} × ${newR.machine.cores}): differences are not the code's alone.`,
      '',
    );
  }
  L.push(
    '| point | old req/s | new req/s | difference (medians) | req/s t-test (rounds) | latency (mean) | verdict |',
    '|---|---:|---:|---:|---:|---:|---|',
  );
  for (const r of rows) {
    const t = r.test;
    L.push(
      `| ${r.id} | ${fmtInt(r.oldRps)} | ${fmtInt(r.newRps)} | ${r.medianDiffPct == null ? '–' : `${r.medianDiffPct >= 0 ? '+' : ''}${r.medianDiffPct.toFixed(1)} %`} ` +
        `| ${t ? `${t.requests.difference}, p ${fmtP(t.requests.pValue)} ${t.requests.significant}` : '–'} | ${t ? `${t.latency.difference} ${t.latency.significant}` : '–'} | ${r.verdict} |`,
    );
  }
  L.push(
    '',
    'Significance: Welch t-test by autocannon-compare at alpha 0.10 over the per-round figures; * p < 0.05, ** p < 0.01, *** p < 0.001. ' +
      'With few rounds only large differences can be significant; a difference within the min–max of both runs is not established.',
    '',
  );
  return L.join('\n');
}

export function loadReport(file: string): Report {
  let x: unknown;
  try {
    x = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const errs = validateReport(x);
  if (errs.length) throw new Error(`${file} is not a tsgi bench results file: ${errs.slice(0, 5).join('; ')}`);
  return x as Report;
}
