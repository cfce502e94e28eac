// The report of a run: a Markdown table per app, a hand-written SVG chart (req/s per point,
// with the min–max range and p99 latency alongside), and the JSON of every raw figure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmtInt, fmtK, fmtMs, fmtPct } from './format';
import type { PointRecord, Report } from './schema';
import { renderVersus } from './versus';

const mib = (kb: number | null): string => (kb == null ? '–' : `${kb.toFixed(0)} MiB`);

function notesOf(p: PointRecord, rounds: number): string[] {
  const s = p.summary!;
  const n = [...p.notes];
  if (s.runs < rounds) n.push(`${s.runs}/${rounds} runs`);
  if (s.saturation.limit === 'client')
    n.push(`**client-bound** (${fmtPct(s.saturation.clientShare)} of its CPU): a floor`);
  else if (s.saturation.limit === 'contended')
    n.push(
      `contended: other work used CPU meanwhile (${fmtPct(Math.max(0, ...p.runs.filter((r) => !r.warmup && !r.discarded).map((r) => r.otherCpu)))}); a floor`,
    );
  else if (s.saturation.limit === 'neither') n.push('neither side saturated (latency- or concurrency-bound)');
  const disc = p.runs.filter((r) => r.discarded).length;
  if (disc) n.push(`${disc} disturbed run(s) discarded and repeated`);
  const e = s.errors;
  if (e.errors + e.timeouts + e.non2xx) n.push(`**${e.errors} errors, ${e.timeouts} timeouts, ${e.non2xx} non-2xx**`);
  const parts = Object.entries(s.serverUsPerRequestParts);
  if (parts.length) n.push(parts.map(([k, v]) => `${k} ${v?.toFixed(1) ?? '–'}`).join(' + ') + ' µs/req');
  return n;
}

/** What happened to runs disturbed by other work (--max-other, --retries). */
function repeatsText(maxOther: number, retries: number): string {
  const runs = `runs during which other work used more than ${maxOther} CPU`;
  if (retries === 0) return `${runs} were kept, not repeated (--retries 0)`;
  return `${runs} were repeated (up to ${retries} time${retries === 1 ? '' : 's'})`;
}

/** The Markdown report (also printed to stdout at the end of a run). */
export function renderMarkdown(r: Report, files?: { json: string; svg: string }): string {
  const s = r.settings;
  const m = r.machine;
  const L: string[] = [];
  L.push(
    `# tsgi bench, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC${s.quick ? ' (quick run: a smoke test, not figures)' : ''}`,
    '',
  );
  L.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, kernel ${m.kernel}${m.virtualization ? ` (${m.virtualization})` : ''}; ` +
      `Node ${m.node}; autocannon ${r.tools['autocannon'] ?? '?'}; ${r.tools['nginx'] ?? 'nginx not installed'}; uWSGI ${r.tools['uwsgi'] ?? 'not installed'}.`,
  );
  const pin = r.pinning.enabled
    ? `servers (and nginx) pinned to CPU ${r.pinning.serverCpus?.join(',')}, autocannon to CPU ${r.pinning.clientCpus?.join(',')}`
    : `no CPU pinning (${r.pinning.reason})`;
  L.push(
    `Method: one ${s.warmupS} s warm-up per point, then ${s.rounds} interleaved round(s) × ${s.durationS} s; ${s.connections} keep-alive connections, ` +
      `pipelining ${s.pipelining}${s.workers ? `, ${s.workers} autocannon workers` : ''}; ${pin}; request logging ${s.logging ? 'on' : 'off'}; ` +
      `${repeatsText(s.maxOther, s.retries)}; commit ${r.gitCommit?.slice(0, 10) ?? 'unknown'}.`,
  );
  L.push(`Command: \`${r.command}\``, '');
  L.push(
    "Figures are medians of the rounds; min – max and the spread ((max − min) / median) beside them. Latency is autocannon's (1 ms resolution). " +
      'Server CPU is the whole process tree (and nginx) from /proc, per request; peak RSS is the sum of VmHWM over those processes.',
    '',
  );
  if (files) L.push(`Raw figures: \`${files.json}\`; chart: \`${files.svg}\`.`, '');
  L.push(...renderVersus(r));
  for (const app of r.apps) {
    const pts = r.points.filter((p) => p.app === app.name);
    if (!pts.length) continue;
    L.push(`## \`${app.name}\`: ${app.description}`, '');
    L.push(
      '| point | req/s | min – max (spread) | p50 / p90 / p99 / max ms | MB/s | server µs/req | server CPU | peak RSS | client CPU | × node:http | notes |',
    );
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const p of pts) {
      const x = p.summary;
      if (!x) {
        L.push(`| ${p.label} | ${p.status} | | | | | | | | | ${p.reason ?? ''} |`);
        continue;
      }
      const lat = x.latencyMs;
      L.push(
        `| ${p.label} | **${fmtInt(x.rps.median)}** | ${fmtK(x.rps.min)} – ${fmtK(x.rps.max)} (${x.rps.spreadPct?.toFixed(1) ?? '–'} %) ` +
          `| ${fmtMs(lat.p50)} / ${fmtMs(lat.p90)} / ${fmtMs(lat.p99)} / ${fmtMs(lat.max)} | ${x.bytesPerS == null ? '–' : (x.bytesPerS / 2 ** 20).toFixed(1)} ` +
          `| ${x.serverUsPerRequest?.toFixed(1) ?? '–'} | ${fmtPct(x.serverCpu)} | ${mib(x.peakRssMiB)} | ${fmtPct(x.clientCpuMax)} ` +
          `| ${x.vsNodeHttp == null ? '–' : `${x.vsNodeHttp.toFixed(2)}×${x.vsNodeHttpBasis === 'cpu' ? ' (by CPU/req)' : ''}`} | ${notesOf(p, s.rounds).join('; ')} |`,
      );
    }
    L.push('');
  }
  const bound = r.points.filter((p) => p.summary?.saturation.limit === 'client').map((p) => p.id);
  L.push(
    bound.length
      ? `**Client check:** autocannon used ≥ 90 % of its CPU for ${bound.join(', ')}: those req/s are floors; compare them by server µs/req.`
      : '**Client check:** autocannon stayed below 90 % of its CPU for every point.',
  );
  if (r.crossCheck) {
    const c = r.crossCheck;
    L.push(
      '',
      `**wrk cross-check** (${c.point}): ${
        c.wrk
          ? `wrk ${fmtInt(c.wrk.rps)} req/s (p99 ${fmtMs(c.wrk.p99Ms)} ms, client ${fmtPct(c.wrk.clientCpu)}) ` +
            `vs autocannon median ${fmtInt(c.autocannonMedian)}: ${c.note}. \`${c.wrk.command}\``
          : c.note
      }.`,
    );
  }
  L.push('', '## Commands', '');
  for (const p of r.points) {
    L.push(`- **${p.id}**${p.status !== 'ok' ? ` — ${p.status}: ${p.reason}` : ''}`);
    for (const c of p.serverCommands) L.push(`  - server: \`${c}\``);
    if (p.clientCommand) L.push(`  - client: \`${p.clientCommand}\` (programmatic, in the harness process)`);
  }
  L.push('');
  return L.join('\n');
}

const esc = (t: string): string =>
  t.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

const COLOURS: Record<string, string> = {
  tsgi: '#2f6fd6',
  'node-http': '#8a8f98',
  'node-cluster': '#6b7079',
  uws: '#e0892b',
  uwsgi: '#3a9a5b',
  own: '#8e5bb5',
};

/** The SVG chart: one row per point, grouped by app; req/s bar with min–max, p99 alongside. */
export function renderSvg(r: Report): string {
  const W = 960;
  const labelW = 300;
  const barX = labelW + 10;
  const barW = 380;
  const latX = barX + barW + 110;
  const latW = W - latX - 70;
  const rowH = 22;
  const rows: ({ kind: 'head'; text: string } | { kind: 'point'; p: PointRecord })[] = [];
  for (const app of r.apps) {
    const pts = r.points.filter((p) => p.app === app.name);
    if (!pts.length) continue;
    rows.push({ kind: 'head', text: `${app.name}: ${app.description}` });
    for (const p of pts) rows.push({ kind: 'point', p });
  }
  const top = 64;
  const H = top + rows.length * rowH + 40;
  const ok = r.points.filter((p) => p.summary);
  const maxRps = Math.max(1, ...ok.map((p) => p.summary!.rps.max));
  const maxP99 = Math.max(0.001, ...ok.map((p) => p.summary!.latencyMs.p99 ?? 0));
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
  );
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(
    `<text x="12" y="22" font-size="15" font-weight="bold">${esc(`tsgi bench, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC${r.settings.quick ? ' (quick run)' : ''}`)}</text>`,
  );
  o.push(
    `<text x="12" y="40" fill="#555">${esc(`${r.machine.cpuModel}, ${r.machine.cores} cores; Node ${r.machine.node}; ${r.settings.rounds} round(s) × ${r.settings.durationS} s, ${r.settings.connections} connections; median, whisker = min–max`)}</text>`,
  );
  o.push(`<text x="${barX}" y="${top - 6}" font-weight="bold">requests/s (median)</text>`);
  o.push(`<text x="${latX}" y="${top - 6}" font-weight="bold">p99 latency (ms)</text>`);
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    if (row.kind === 'head') {
      o.push(`<text x="12" y="${y + 15}" font-weight="bold">${esc(row.text)}</text>`);
      o.push(`<line x1="12" y1="${y + 19}" x2="${W - 12}" y2="${y + 19}" stroke="#ddd"/>`);
      return;
    }
    const p = row.p;
    o.push(`<text x="24" y="${y + 15}">${esc(p.label)}</text>`);
    const s = p.summary;
    if (!s) {
      o.push(
        `<text x="${barX}" y="${y + 15}" fill="#999" font-style="italic">${esc(`${p.status}: ${(p.reason ?? '').slice(0, 90)}`)}</text>`,
      );
      return;
    }
    const colour = COLOURS[p.kind] ?? '#777';
    const w = (v: number): number => (v / maxRps) * barW;
    o.push(`<rect x="${barX}" y="${y + 4}" width="${w(s.rps.median).toFixed(1)}" height="14" fill="${colour}"/>`);
    o.push(
      `<line x1="${(barX + w(s.rps.min)).toFixed(1)}" y1="${y + 11}" x2="${(barX + w(s.rps.max)).toFixed(1)}" y2="${y + 11}" stroke="#222" stroke-width="1.5"/>`,
    );
    for (const v of [s.rps.min, s.rps.max])
      o.push(
        `<line x1="${(barX + w(v)).toFixed(1)}" y1="${y + 7}" x2="${(barX + w(v)).toFixed(1)}" y2="${y + 15}" stroke="#222" stroke-width="1.5"/>`,
      );
    const floor = s.saturation.limit === 'client' || s.saturation.limit === 'contended' ? '≥ ' : '';
    o.push(`<text x="${(barX + w(s.rps.max) + 6).toFixed(1)}" y="${y + 15}">${esc(floor + fmtK(s.rps.median))}</text>`);
    const p99 = s.latencyMs.p99;
    if (p99 != null) {
      o.push(
        `<rect x="${latX}" y="${y + 6}" width="${Math.max(1, (p99 / maxP99) * latW).toFixed(1)}" height="10" fill="#c0504d" opacity="0.8"/>`,
      );
      o.push(
        `<text x="${(latX + Math.max(1, (p99 / maxP99) * latW) + 6).toFixed(1)}" y="${y + 15}">${esc(fmtMs(p99))}</text>`,
      );
    }
  });
  const ly = H - 16;
  let lx = 12;
  for (const [k, c] of Object.entries(COLOURS)) {
    o.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${c}"/><text x="${lx + 16}" y="${ly}">${esc(k)}</text>`,
    );
    lx += 30 + k.length * 7;
  }
  o.push(
    `<text x="${lx + 10}" y="${ly}" fill="#555">≥: a floor (the client was the limit, or other work took CPU)</text>`,
  );
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

/** Write `<base>.json`, `.md` and `.svg` into `dir`; returns the paths. */
export function writeReport(r: Report, dir: string): { json: string; md: string; svg: string; markdown: string } {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/:/g, '').replace(/\.\d+Z$/, 'Z');
  const base = path.join(dir, `bench-${stamp}${r.settings.quick ? '-quick' : ''}`);
  const files = { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
  const markdown = renderMarkdown(r, { json: path.basename(files.json), svg: path.basename(files.svg) });
  fs.writeFileSync(files.json, `${JSON.stringify(r, null, 2)}\n`);
  fs.writeFileSync(files.md, markdown);
  fs.writeFileSync(files.svg, renderSvg(r));
  return { ...files, markdown };
}
