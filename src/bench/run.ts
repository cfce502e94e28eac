// One benchmark session: start every point, check its answer, warm it up, run the rounds
// interleaved (A B C … A B C …), account CPU and memory from /proc, stop everything, summarise.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, verifyApp } from './apps';
import { fmtInt, fmtK, fmtMs, fmtPct } from './format';
import { autocannonArgv, autocannonVersion, type LoadResult, runAutocannon, runWrk, wrkVersion } from './loadgen';
import { machineInfo } from './machine';
import { nginxVersion } from './nginx';
import type { PointDef, Started } from './points';
import { uwsgiVersion } from './points';
import { groupUsage, pinningPlan, pinSelf, StartError, sleep, systemCpu, which } from './proc';
import type { Progress } from './progress';
import { type CrossCheck, type PointRecord, type Report, type RunRecord, SCHEMA, type Summary } from './schema';
import { detectSaturation, median, spreadPct } from './stats';

export interface RunSettings {
  quick: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  pipelining: number;
  /** autocannon worker threads (0: none, autocannon runs on the main thread). */
  workers: number;
  /** When the client is the limit during warm-up, raise pipelining to 10 for that point. */
  push: boolean;
  pipeliningGiven: boolean;
  logging: boolean;
  pin: boolean;
  wrkCheck: boolean;
  /** A run during which other work used more than this many CPUs is repeated … */
  maxOther: number;
  /** … up to this many times. */
  retries: number;
  /** Before each run, wait up to this many seconds for the machine to be quiet (0: never wait). */
  quietWaitS: number;
  matrix: string;
  only: string | null;
  command: string;
  apps: { name: string; description: string }[];
}

interface Live {
  def: PointDef;
  rec: PointRecord;
  started: Started | null;
  /** For a pipelined twin: the point whose server it shares. */
  twinOf?: Live;
}

/** Did anything go wrong with this point (as opposed to a missing optional baseline)? */
export function pointFailed(p: PointRecord): boolean {
  if (p.status === 'error') return true;
  if (p.status !== 'ok' || !p.summary) return false;
  const e = p.summary.errors;
  return e.errors + e.timeouts + e.non2xx > 0 || p.runs.some((r) => r.error);
}

export async function runSession(defs: PointDef[], s: RunSettings, progress: Progress): Promise<Report> {
  return new Session(defs, s, progress).run();
}

/**
 * The steps of one session, in order: start, check and warm up every point (with a pipelined
 * twin for a point whose warm-up pegged the client), the interleaved rounds, the wrk
 * cross-check, peak RSS and stop, then the summaries.
 */
class Session {
  private readonly startedAt = new Date();
  private readonly plan: ReturnType<typeof pinningPlan>;
  private readonly clientCpus: number[] | null;
  private readonly serverCpus: number[] | null;
  private readonly clientCapacity: number;
  private readonly serverCapacity: number;
  private readonly scratch: string;
  private readonly live: Live[];
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.progress.done();
    process.stderr.write(`tsgi bench: ${sig}: stopping the servers\n`);
    void this.stopAll().finally(() => {
      fs.rmSync(this.scratch, { recursive: true, force: true });
      process.exit(130);
    });
  };

  constructor(
    defs: PointDef[],
    private readonly s: RunSettings,
    private readonly progress: Progress,
  ) {
    this.plan = s.pin ? pinningPlan(1) : { enabled: false, reason: '--pin off' };
    this.clientCpus = this.plan.enabled ? this.plan.clientCpus! : null;
    this.serverCpus = this.plan.enabled ? this.plan.serverCpus! : null;
    const cores = os.cpus().length;
    // autocannon's main thread plus its workers, bounded by the CPUs the client may run on.
    this.clientCapacity = Math.min(this.clientCpus?.length ?? cores, Math.max(1, s.workers));
    this.serverCapacity = this.serverCpus?.length ?? cores;
    this.scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-'));
    this.live = defs.map((def) => ({ def, started: null, rec: newRecord(def, s) }));
  }

  async run(): Promise<Report> {
    const { s, progress } = this;
    // The commit the servers start from (others may commit while a long session runs).
    const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
    if (this.clientCpus) pinSelf(this.clientCpus);
    progress.log(
      `pinning: ${this.plan.enabled ? `servers on CPU ${this.serverCpus!.join(',')}, client on CPU ${this.clientCpus!.join(',')}` : `off (${this.plan.reason})`}`,
    );
    progress.log(
      `${this.live.length} point(s); ${s.rounds} round(s) × ${s.durationS} s after a ${s.warmupS} s warm-up; ${s.connections} connections` +
        `${s.pipelining > 1 ? `, pipelining ${s.pipelining}` : ''}${s.workers ? `, ${s.workers} autocannon workers` : ''}`,
    );
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);

    await this.startAll();
    await this.rounds();
    const crossCheck = await this.crossCheck();
    await this.stop();
    this.summarise();
    return this.report(git.status === 0 ? git.stdout.trim() : null, crossCheck);
  }

  private async stopAll(): Promise<void> {
    for (const p of this.live)
      if (!p.twinOf) for (const { handle } of p.started?.handles ?? []) await handle.stop().catch(() => undefined);
  }

  private active(): Live[] {
    return this.live.filter((p) => p.started && p.rec.status === 'ok');
  }

  private load(p: Live, seconds: number, label: string): Promise<LoadResult> {
    const { s, progress } = this;
    return runAutocannon({
      url: p.started!.url,
      connections: s.connections,
      durationS: seconds,
      pipelining: p.rec.load.pipelining,
      workers: s.workers || undefined,
      method: p.def.app.method,
      body: p.def.app.body,
      headers: p.def.app.headers,
      onTick: (n, t) =>
        progress.update(
          `${label} ${p.rec.id}: ${t.toFixed(0)}/${seconds} s${n === null ? '' : `, ${fmtK(n / Math.max(t, 0.001))} req/s`}`,
        ),
    });
  }

  private async measure(p: Live, round: number, seconds: number, label: string): Promise<RunRecord> {
    const handles = p.started!.handles;
    const u0 = handles.map((h) => groupUsage(h.handle.pid).cpu);
    const sys0 = systemCpu();
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    let res: LoadResult;
    try {
      res = await this.load(p, seconds, label);
    } catch (e) {
      return errorRun(round, (e as Error).message);
    }
    if (!res.requests) return errorRun(round, `no request completed in ${seconds} s`);
    const wallS = (performance.now() - t0) / 1000;
    const u1 = handles.map((h) => groupUsage(h.handle.pid).cpu);
    const sys1 = systemCpu();
    const self = process.cpuUsage(self0);
    const serverCpu: RunRecord['serverCpu'] = {};
    let total = 0;
    handles.forEach((h, i) => {
      const d = u1[i]! - u0[i]!;
      total += d;
      serverCpu[h.name] = { seconds: d, cpus: d / wallS, usPerRequest: res.requests ? (d / res.requests) * 1e6 : null };
    });
    serverCpu['total'] = {
      seconds: total,
      cpus: total / wallS,
      usPerRequest: res.requests ? (total / res.requests) * 1e6 : null,
    };
    const selfS = (self.user + self.system) / 1e6;
    return {
      round,
      rps: res.rps,
      requests: res.requests,
      durationS: res.durationS,
      bytesPerS: res.bytesPerS,
      latencyMs: res.latencyMs,
      errors: res.errors,
      clientCpu: res.clientCpu,
      serverCpu,
      wallS,
      otherCpu: Math.max(0, sys1.busy - sys0.busy - total - selfS) / wallS,
      steal: (sys1.steal - sys0.steal) / wallS,
      autocannon: res.autocannon,
    };
  }

  // Wait (up to --quiet-wait) until other work on the machine uses less than --max-other CPUs
  // over a 1 s sample (the harness's own CPU excluded).
  private async waitQuiet(): Promise<void> {
    const { s, progress } = this;
    if (s.quietWaitS <= 0) return;
    const deadline = Date.now() + s.quietWaitS * 1000;
    let said = false;
    for (;;) {
      const a = systemCpu();
      const c0 = process.cpuUsage();
      await sleep(1000);
      const c = process.cpuUsage(c0);
      const busy = systemCpu().busy - a.busy - (c.user + c.system) / 1e6;
      if (busy <= s.maxOther) return;
      if (Date.now() > deadline) {
        progress.log(`machine still busy (${fmtPct(busy)} of a CPU) after ${s.quietWaitS} s: measuring anyway`);
        return;
      }
      if (!said) {
        progress.update(`machine busy (${fmtPct(busy)} of a CPU used by other work): waiting up to ${s.quietWaitS} s`);
        said = true;
      }
    }
  }

  // 1. Start, check, warm up; twins go right after the point whose server they share.
  private async startAll(): Promise<void> {
    const twins: [Live, Live][] = [];
    let idx = 0;
    for (const p of this.live) {
      idx++;
      const twin = await this.startPoint(p, idx);
      if (twin) twins.push([p, twin]);
    }
    for (const [orig, twin] of twins) this.live.splice(this.live.indexOf(orig) + 1, 0, twin);
  }

  /** Starts, checks and warms up one point; returns its pipelined twin when it needs one. */
  private async startPoint(p: Live, idx: number): Promise<Live | null> {
    const { s, progress } = this;
    const missing = p.def.missing();
    if (missing) {
      skip(p, missing);
      progress.log(`${p.def.id}: skipped: ${missing}`);
      return null;
    }
    progress.update(`[${idx}/${this.live.length}] starting ${p.def.id}`);
    try {
      p.started = await p.def.start({ cpu: this.serverCpus, scratch: this.scratch });
      p.rec.serverCommands = p.started.commands;
      if (p.started.nginxConf) p.rec.nginxConf = p.started.nginxConf;
      await verifyApp(p.started.url, p.def.app);
      const notHonoured = p.def.honoured ? await p.def.honoured(p.started) : null;
      if (notHonoured) {
        skip(p, `configuration not supported yet: ${notHonoured}`);
        progress.log(`${p.def.id}: skipped: ${notHonoured}`);
        await stopPoint(p);
        return null;
      }
      p.rec.clientCommand = autocannonArgv({
        url: p.started.url,
        connections: s.connections,
        durationS: s.durationS,
        pipelining: p.rec.load.pipelining,
        workers: s.workers || undefined,
        method: p.def.app.method,
        body: p.def.app.body,
      }).join(' ');
      return s.warmupS > 0 ? await this.warmUp(p) : null;
    } catch (e) {
      const err = e as Error;
      p.rec.status = 'error';
      p.rec.reason = `could not start or check: ${err instanceof StartError ? err.short : err.message.split('\n')[0]}`;
      p.rec.detail = err.message;
      // A baseline that cannot start is skipped; tsgi that cannot start is an error.
      if (p.def.kind !== 'tsgi') p.rec.status = 'skipped';
      progress.log(`${p.def.id}: ${p.rec.status}: ${p.rec.reason}`);
      await stopPoint(p);
      return null;
    }
  }

  private async warmUp(p: Live): Promise<Live | null> {
    const { s, progress } = this;
    const w = await this.measure(p, 0, s.warmupS, 'warm-up');
    w.warmup = true;
    p.rec.runs.push(w);
    const sat = detectSaturation({
      clientCpu: [w.clientCpu],
      clientCapacity: this.clientCapacity,
      serverCpu: [w.serverCpu['total']?.cpus ?? null],
      serverCapacity: this.serverCapacity,
    });
    if (!s.push || s.pipeliningGiven || sat.limit !== 'client' || p.def.app.method !== 'GET') return null;
    // The point keeps its load (comparable with the others); a twin on the same server
    // with pipelining 10 shows how much further the server goes.
    const twin: Live = {
      def: p.def,
      started: p.started,
      twinOf: p,
      rec: {
        ...structuredClone({ ...p.rec, runs: [] }),
        id: `${p.rec.id}+p10`,
        label: `${p.rec.label}, pipelining 10`,
        load: { ...p.rec.load, pipelining: 10 },
        notes: [
          `same server as ${p.rec.id}, whose warm-up pegged the client (${Math.round((sat.clientShare ?? 0) * 100)} % of its CPU)`,
        ],
      },
    };
    twin.rec.clientCommand = autocannonArgv({
      url: p.started!.url,
      connections: s.connections,
      durationS: s.durationS,
      pipelining: 10,
      workers: s.workers || undefined,
    }).join(' ');
    progress.log(`${p.def.id}: client-bound in the warm-up: adding ${twin.rec.id}`);
    return twin;
  }

  // 2. Interleaved rounds.
  private async rounds(): Promise<void> {
    const { s, progress } = this;
    for (let r = 1; r <= s.rounds; r++) {
      for (const p of this.active()) {
        const dead = p.started!.handles.find(({ handle }) => !handle.alive());
        if (dead) {
          p.rec.status = 'error';
          p.rec.reason = `${dead.name} died before round ${r}: ${JSON.stringify(dead.handle.exitInfo())}`;
          p.rec.detail = dead.handle.logTail(40);
          progress.log(`${p.def.id}: ${p.rec.reason}`);
          continue;
        }
        const run = await this.roundOf(p, r);
        p.rec.runs.push(run);
        progress.log(
          `${p.def.id} round ${r}: ${
            run.error
              ? `error: ${run.error}`
              : `${fmtInt(run.rps)} req/s, p99 ${fmtMs(run.latencyMs.p99)} ms, ` +
                `server ${fmtPct(run.serverCpu['total']?.cpus)} CPU, client ${fmtPct(run.clientCpu)}`
          }${errorsText(run)}`,
        );
      }
    }
  }

  /** One round of one point, repeated (up to --retries) while other work disturbs it. */
  private async roundOf(p: Live, r: number): Promise<RunRecord> {
    const { s, progress } = this;
    for (let attempt = 0; ; attempt++) {
      await this.waitQuiet();
      const run = await this.measure(p, r, s.durationS, `round ${r}/${s.rounds}`);
      if (run.error || run.otherCpu <= s.maxOther || attempt >= s.retries) return run;
      run.discarded = true;
      p.rec.runs.push(run);
      progress.log(`${p.def.id} round ${r}: other work used ${fmtPct(run.otherCpu)} of a CPU: discarded, repeating`);
      await sleep(2000);
    }
  }

  // 3. wrk cross-check of one point (the first measured tsgi GET point).
  private async crossCheck(): Promise<CrossCheck | null> {
    const { s, progress } = this;
    const target = this.active().find((p) => p.def.kind === 'tsgi' && p.def.app.method === 'GET');
    if (!s.wrkCheck || !target) return null;
    const autocannonMedian = median(
      target.rec.runs.filter((x) => !x.warmup && !x.discarded && x.rps !== null).map((x) => x.rps!),
    );
    const none = (note: string): CrossCheck => ({
      point: target.def.id,
      wrk: null,
      autocannonMedian,
      ratio: null,
      note,
    });
    if (!wrkVersion()) return none('wrk is not installed (apt-get install wrk)');
    progress.update(`wrk cross-check on ${target.def.id}`);
    try {
      const w = await runWrk({
        url: target.started!.url,
        connections: s.connections,
        durationS: s.durationS,
        cpu: this.clientCpus,
      });
      const ratio = w.rps !== null && autocannonMedian ? w.rps / autocannonMedian : null;
      return {
        point: target.def.id,
        wrk: { rps: w.rps, p99Ms: w.latencyMs.p99, clientCpu: w.clientCpu, command: w.argv.join(' ') },
        autocannonMedian,
        ratio,
        note: crossCheckNote(ratio),
      };
    } catch (e) {
      return none(`wrk failed: ${(e as Error).message}`);
    }
  }

  // 4. Peak RSS, stop.
  private async stop(): Promise<void> {
    for (const p of this.active()) {
      for (const { name, handle } of p.started!.handles) p.rec.peakRssKb[name] = groupUsage(handle.pid).hwmKb;
    }
    this.progress.update('stopping servers');
    await this.stopAll();
    fs.rmSync(this.scratch, { recursive: true, force: true });
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    this.progress.done();
  }

  // 5. Summaries, and ratios only between points measured under the same load.
  private summarise(): void {
    for (const p of this.live) {
      if (p.rec.status !== 'ok') continue;
      const sum = summarise(p.rec, this.clientCapacity, this.serverCapacity);
      if (!sum) {
        p.rec.status = 'error';
        p.rec.reason = `no successful run: ${
          p.rec.runs
            .map((x) => x.error)
            .filter(Boolean)
            .join('; ') || 'no runs'
        }`;
        continue;
      }
      p.rec.summary = sum;
    }
    for (const p of this.live) {
      const base = this.live.find(
        (q) =>
          q.def.kind === 'node-http' &&
          q.def.app.name === p.def.app.name &&
          !q.twinOf &&
          q.rec.load.pipelining === p.rec.load.pipelining,
      )?.rec.summary;
      if (p.rec.summary && base) setVsNodeHttp(p.rec.summary, base);
    }
  }

  private report(gitCommit: string | null, crossCheck: CrossCheck | null): Report {
    const s = this.s;
    return {
      schema: SCHEMA,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      gitCommit,
      command: s.command,
      settings: {
        quick: s.quick,
        rounds: s.rounds,
        durationS: s.durationS,
        warmupS: s.warmupS,
        connections: s.connections,
        pipelining: s.pipelining,
        workers: s.workers,
        push: s.push,
        logging: s.logging,
        matrix: s.matrix,
        only: s.only,
        maxOther: s.maxOther,
        retries: s.retries,
        quietWaitS: s.quietWaitS,
      },
      machine: machineInfo(),
      tools: {
        autocannon: autocannonVersion(),
        wrk: wrkVersion(),
        nginx: nginxVersion(),
        uwsgi: uwsgiVersion(),
        taskset: which('taskset'),
      },
      pinning: { ...this.plan, clientCapacity: this.clientCapacity, serverCapacity: this.serverCapacity },
      apps: s.apps,
      points: this.live.map((p) => p.rec),
      crossCheck,
    };
  }
}

function newRecord(def: PointDef, s: RunSettings): PointRecord {
  return {
    id: def.id,
    kind: def.kind,
    label: def.label,
    app: def.app.name,
    processes: def.processes,
    threads: def.threads,
    async: def.async,
    protocol: def.protocol,
    status: 'ok',
    reason: null,
    serverCommands: [],
    clientCommand: null,
    load: { connections: s.connections, pipelining: s.pipelining, workers: s.workers },
    notes: [],
    peakRssKb: {},
    runs: [],
    summary: null,
  };
}

/** What a wrk / autocannon ratio says: more from wrk is the client's limit, less is not. */
export function crossCheckNote(ratio: number | null): string {
  if (ratio === null) return 'no figure';
  if (ratio > 1.1) return `wrk measured ${ratio.toFixed(2)}× autocannon's median: autocannon under-measures this point`;
  if (ratio < 0.9) {
    return (
      `wrk measured ${ratio.toFixed(2)}× autocannon's median, less: the runs differ by more than the client ` +
      "(other load on the machine, or how the server meets wrk's load)"
    );
  }
  return `wrk and autocannon agree within ${Math.abs((ratio - 1) * 100).toFixed(0)} %`;
}

function skip(p: Live, reason: string): void {
  p.rec.status = 'skipped';
  p.rec.reason = reason;
}

async function stopPoint(p: Live): Promise<void> {
  for (const { handle } of p.started?.handles ?? []) await handle.stop().catch(() => undefined);
  p.started = null;
}

function errorRun(round: number, error: string): RunRecord {
  return {
    round,
    rps: null,
    requests: 0,
    durationS: 0,
    bytesPerS: null,
    latencyMs: { avg: null, max: null, p50: null, p90: null, p99: null },
    errors: { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 },
    clientCpu: null,
    serverCpu: {},
    wallS: 0,
    otherCpu: 0,
    steal: 0,
    error,
  };
}

/** Medians over the counted (non-warm-up, successful) runs; null when there are none. */
export function summarise(p: PointRecord, clientCapacity: number, serverCapacity: number): Summary | null {
  const ok = p.runs.filter((x) => !x.warmup && !x.discarded && !x.error && x.rps !== null);
  if (!ok.length) return null;
  const rps = ok.map((x) => x.rps!);
  const med = (f: (r: RunRecord) => number | null | undefined): number | null =>
    median(ok.map(f).filter((v): v is number => typeof v === 'number'));
  const partNames = Object.keys(ok[0]!.serverCpu).filter((k) => k !== 'total');
  const parts: Record<string, number | null> = {};
  if (partNames.length > 1) for (const n of partNames) parts[n] = med((r) => r.serverCpu[n]?.usPerRequest);
  const rss = Object.values(p.peakRssKb);
  const clientCpus = ok.map((x) => x.clientCpu);
  return {
    runs: ok.length,
    rps: { median: median(rps)!, min: Math.min(...rps), max: Math.max(...rps), spreadPct: spreadPct(rps) },
    latencyMs: {
      p50: med((r) => r.latencyMs.p50),
      p90: med((r) => r.latencyMs.p90),
      p99: med((r) => r.latencyMs.p99),
      max: med((r) => r.latencyMs.max),
    },
    bytesPerS: med((r) => r.bytesPerS),
    errors: {
      errors: ok.reduce((a, r) => a + r.errors.connect + r.errors.read + r.errors.write, 0),
      timeouts: ok.reduce((a, r) => a + r.errors.timeout, 0),
      non2xx: ok.reduce((a, r) => a + r.errors.non2xx, 0),
    },
    serverUsPerRequest: med((r) => r.serverCpu['total']?.usPerRequest),
    serverUsPerRequestParts: parts,
    serverCpu: med((r) => r.serverCpu['total']?.cpus),
    clientCpuMax: clientCpus.some((c) => c !== null)
      ? Math.max(...clientCpus.filter((c): c is number => c !== null))
      : null,
    saturation: detectSaturation({
      clientCpu: clientCpus,
      clientCapacity,
      serverCpu: ok.map((x) => x.serverCpu['total']?.cpus ?? null),
      serverCapacity,
      otherCpu: ok.map((x) => x.otherCpu),
    }),
    peakRssMiB: rss.length ? rss.reduce((a, b) => a + b, 0) / 1024 : null,
    vsNodeHttp: null,
  };
}

function errorsText(r: RunRecord): string {
  const e = r.errors;
  const n = e.connect + e.read + e.write;
  const parts = [n && `${n} errors`, e.timeout && `${e.timeout} timeouts`, e.non2xx && `${e.non2xx} non-2xx`].filter(
    Boolean,
  );
  return parts.length ? `, ${parts.join(', ')}` : '';
}

/**
 * The ratio to node:http on the same app. A client-bound (or contended) point's req/s is a
 * floor, so a ratio of req/s would report a faster server as a slower one: such points are
 * compared by server CPU per request instead, and by nothing when that was not measured.
 */
export function setVsNodeHttp(point: Summary, nodeHttp: Summary): void {
  const floor = (s: Summary): boolean => s.saturation.limit === 'client' || s.saturation.limit === 'contended';
  point.vsNodeHttp = null;
  point.vsNodeHttpBasis = null;
  if (!floor(point) && !floor(nodeHttp)) {
    point.vsNodeHttp = point.rps.median / nodeHttp.rps.median;
    point.vsNodeHttpBasis = 'rps';
  } else if (point.serverUsPerRequest && nodeHttp.serverUsPerRequest) {
    point.vsNodeHttp = nodeHttp.serverUsPerRequest / point.serverUsPerRequest;
    point.vsNodeHttpBasis = 'cpu';
  }
}
