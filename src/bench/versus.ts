// tsgi against each framework app's own server (`own/APP` points): one row per tsgi point of
// an app that has an own point, compared by server CPU per request — the figure that does not
// depend on the load generator keeping up. Requests/s is shown too, but a point whose client
// was the limit only gives a floor, so its req/s never reads as a slower server.

import { fmtInt } from './format';
import type { PointRecord, Report, RunRecord } from './schema';
import { median, spreadPct } from './stats';

export interface Figure {
  median: number;
  min: number;
  max: number;
  spreadPct: number | null;
}

export interface Side {
  id: string;
  label: string;
  status: PointRecord['status'];
  reason: string | null;
  /** Server µs of CPU per request over the counted rounds (null when none was measured). */
  us: Figure | null;
  rps: number | null;
  clientBound: boolean;
  contended: boolean;
  /** Errors, timeouts and non-2xx answers over the counted rounds ('' when none). */
  failures: string;
}

export interface VersusRow {
  app: string;
  tsgi: Side;
  own: Side;
  /** Median tsgi µs/req ÷ median own µs/req (< 1: tsgi costs less CPU per request). */
  cpuRatio: number | null;
  /** The same ratio round by round (rounds are interleaved, so round i of both ran back to back). */
  cpuRatioRounds: { min: number; max: number } | null;
  /** Median req/s of tsgi ÷ own, and what it is worth when a client was the limit. */
  rpsRatio: number | null;
  rpsBound: 'exact' | 'floor' | 'ceiling' | 'none';
  verdict: string;
}

const counted = (p: PointRecord): RunRecord[] =>
  p.runs.filter((r) => !r.warmup && !r.discarded && !r.error && r.rps !== null);

function usFigure(runs: RunRecord[]): Figure | null {
  const xs = runs
    .map((r) => r.serverCpu['total']?.usPerRequest)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const m = median(xs);
  return m === null ? null : { median: m, min: Math.min(...xs), max: Math.max(...xs), spreadPct: spreadPct(xs) };
}

function failuresOf(p: PointRecord): string {
  const e = p.summary!.errors;
  return [e.errors && `${e.errors} errors`, e.timeouts && `${e.timeouts} timeouts`, e.non2xx && `${e.non2xx} non-2xx`]
    .filter(Boolean)
    .join(', ');
}

function side(p: PointRecord): Side {
  const ok = p.status === 'ok' && p.summary !== null;
  return {
    id: p.id,
    label: p.label,
    status: p.status,
    reason: p.reason,
    us: ok ? usFigure(counted(p)) : null,
    rps: ok ? p.summary!.rps.median : null,
    clientBound: ok && p.summary!.saturation.limit === 'client',
    contended: ok && p.summary!.saturation.limit === 'contended',
    failures: ok ? failuresOf(p) : '',
  };
}

/** Per-round ratios of µs/req, pairing the rounds of the same number. */
function roundRatios(t: PointRecord, o: PointRecord): number[] {
  const us = (r: RunRecord): number | null => r.serverCpu['total']?.usPerRequest ?? null;
  const out: number[] = [];
  for (const r of counted(t)) {
    const q = counted(o).find((x) => x.round === r.round);
    const a = us(r);
    const b = q ? us(q) : null;
    if (a !== null && b) out.push(a / b);
  }
  return out;
}

function verdictOf(row: Omit<VersusRow, 'verdict'>, rounds: number): string {
  if (row.tsgi.status !== 'ok') return `tsgi ${row.tsgi.status}: ${row.tsgi.reason ?? 'no figures'}`;
  if (row.own.status !== 'ok') return `own server ${row.own.status}: ${row.own.reason ?? 'no figures'}`;
  if (row.cpuRatio === null) return 'no CPU figures';
  const r = row.cpuRatioRounds;
  let v: string;
  if (rounds < 2 || !r)
    v = `${row.cpuRatio < 1 ? 'tsgi cheaper' : 'tsgi costlier'} per request (one round: not established)`;
  else if (r.max < 1) v = '**tsgi cheaper** per request in every round';
  else if (r.min > 1) v = '**tsgi costlier** per request in every round';
  else v = 'not distinguishable: the rounds disagree';
  const bound = [row.tsgi.clientBound && 'tsgi', row.own.clientBound && 'own server'].filter(Boolean);
  if (bound.length) v += `; client-bound: ${bound.join(' and ')} (req/s a floor)`;
  const busy = [row.tsgi.contended && 'tsgi', row.own.contended && 'own server'].filter(Boolean);
  if (busy.length) v += `; contended: ${busy.join(' and ')}`;
  // A point that dropped requests failed, whatever its CPU per completed request.
  if (row.tsgi.failures) v += `; **tsgi failed requests: ${row.tsgi.failures}**`;
  if (row.own.failures) v += `; **own server failed requests: ${row.own.failures}**`;
  return v;
}

/** The rows: every tsgi point of an app that has an `own/APP` point, in report order. */
export function versusRows(r: Report): VersusRow[] {
  const rows: VersusRow[] = [];
  for (const o of r.points.filter((p) => p.kind === 'own')) {
    for (const t of r.points.filter(
      (p) => p.kind === 'tsgi' && p.app === o.app && p.load.pipelining === o.load.pipelining,
    )) {
      const ts = side(t);
      const os = side(o);
      const cpuRatio = ts.us && os.us ? ts.us.median / os.us.median : null;
      const rr = ts.us && os.us ? roundRatios(t, o) : [];
      const rpsRatio = ts.rps !== null && os.rps ? ts.rps / os.rps : null;
      // A client-bound (or contended) point served at least its req/s: its side is a floor.
      const tFloor = ts.clientBound || ts.contended;
      const oFloor = os.clientBound || os.contended;
      const rpsBound =
        rpsRatio === null || (tFloor && oFloor) ? 'none' : tFloor ? 'floor' : oFloor ? 'ceiling' : 'exact';
      const row = {
        app: o.app,
        tsgi: ts,
        own: os,
        cpuRatio,
        rpsRatio,
        rpsBound,
        cpuRatioRounds: rr.length ? { min: Math.min(...rr), max: Math.max(...rr) } : null,
      } as const;
      rows.push({ ...row, verdict: verdictOf(row, r.settings.rounds) });
    }
  }
  return rows;
}

const fig = (f: Figure | null): string =>
  f === null ? '–' : `**${f.median.toFixed(1)}** (${f.min.toFixed(1)} – ${f.max.toFixed(1)})`;

function sideRps(s: Side): string {
  if (s.status !== 'ok') return s.status;
  return `${s.clientBound || s.contended ? '≥ ' : ''}${fmtInt(s.rps)}`;
}

function rpsRatioText(row: VersusRow): string {
  if (row.rpsRatio === null) return '–';
  if (row.rpsBound === 'none') return 'both floors';
  const sign = { exact: '', floor: '≥ ', ceiling: '≤ ' }[row.rpsBound];
  return `${sign}${row.rpsRatio.toFixed(2)}×`;
}

/** The Markdown section (empty when the run has no own-server points). */
export function renderVersus(r: Report): string[] {
  const rows = versusRows(r);
  if (!rows.length) return [];
  const L: string[] = [];
  L.push('## Real apps against their own servers', '');
  L.push(
    'Server CPU per request (µs, the whole process tree; median of the rounds, min – max beside it), tsgi against the server ' +
      "the app's users run without it, measured in the same interleaved rounds. **CPU ÷** is tsgi's median over the own server's " +
      "(< 1: tsgi costs less per request), with the per-round ratios' range; req/s marked ≥ come from a client-bound (or contended) " +
      'point and are floors, so a lower req/s there is not a slower server.',
    '',
  );
  L.push(
    '| app | tsgi point | tsgi µs/req | own server | own µs/req | CPU ÷ (rounds) | tsgi req/s | own req/s | req/s × | verdict |',
  );
  L.push('|---|---|---:|---|---:|---:|---:|---:|---:|---|');
  for (const x of rows) {
    const ratio =
      x.cpuRatio === null
        ? '–'
        : `**${x.cpuRatio.toFixed(2)}**${x.cpuRatioRounds ? ` (${x.cpuRatioRounds.min.toFixed(2)} – ${x.cpuRatioRounds.max.toFixed(2)})` : ''}`;
    L.push(
      `| \`${x.app}\` | ${x.tsgi.id} | ${fig(x.tsgi.us)} | ${x.own.label} | ${fig(x.own.us)} | ${ratio} | ${sideRps(x.tsgi)} | ${sideRps(x.own)} ` +
        `| ${rpsRatioText(x)} | ${x.verdict.replaceAll('|', '\\|')} |`,
    );
  }
  L.push('');
  return L;
}
