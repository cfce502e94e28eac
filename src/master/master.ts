// The master (--master, implied by --processes > 1): binds every socket once, spawns and
// supervises the worker processes (it never loads the app itself: without --lazy-apps the first
// worker loads it alone, and a load that fails there stops the instance with exit 22), and
// turns signals into reloads and shutdowns (docs/master.md, "Signals"):
//   SIGHUP  graceful reload: a new worker comes up on the same sockets beside each old one,
//           which keeps accepting until its replacement serves, then finishes what it holds
//           and exits; the sockets never close, nothing is refused or left waiting
//   SIGTERM graceful shutdown: workers finish in-flight requests, then the master exits 0
//   SIGINT, SIGQUIT fast shutdown;  SIGUSR1 worker table to the log
// A worker that dies for any other reason is respawned, with uWSGI's fork-bomb guard.
// With --cheaper, the number of running workers follows the load (src/master/cheaper.ts,
// docs/master.md "Cheaper"): cheap slots have no process and are neither respawned nor reloaded.

import type { ChildProcess } from 'node:child_process';
import { type Address, type Config, isConfig, loadConfig } from '../config';
import { addon } from '../native';
import type { WorkerMessage } from '../process/handoff';
import { logLine } from '../process/log';
import { LogFile } from '../process/logfile';
import { sdReady, sdReloading, sdStopping } from '../process/notify';
import { dropPrivileges, removePidfile, writePidfile } from '../process/privileges';
import { type BoundSocket, closeAll } from '../process/sockets';
import { processTitle } from '../process/title';
import type * as StatsModule from '../stats';
import { WORKER_CHEAP } from '../stats/document';
import type { Readiness } from '../stats/health';
import { readProcessMemory } from '../stats/memory';
import {
  busynessStartLines,
  type CheaperSettings,
  type CheaperSnapshot,
  type CheaperState,
  cheaperCycle,
  cheaperSettings,
  newCheaperState,
} from './cheaper';
import { HttpRouter } from './router';
import { curse, livePids, newSlot, promote, reap, type Slot, type SpawnContext, spawnWorker } from './slots';
import { watchTouchFiles } from './touch';

/** uWSGI: more respawns than --processes within one second means "respawning too fast". */
const FORKBOMB_DELAY_MS = 2000;
/** Exit code of a worker whose app failed to load (uWSGI's). */
const EXIT_APP_LOAD = 22;
/** How long a worker's SIGHUP waits for the master's own reload (see onMessage). */
const WORKER_SIGHUP_DELAY_MS = 200;

export class Master {
  private readonly slots: Slot[];
  private readonly ctx: SpawnContext;
  private stopping: 'no' | 'graceful' | 'fast' = 'no';
  private respawnTimes: number[] = [];
  private chain: number[] | null = null;
  private stopTouch: (() => void) | null = null;
  /** Per-worker and per-core counters shared with the workers (src/stats reads them). */
  private readonly scoreboard: ReturnType<typeof addon.createScoreboard>;
  private tickTimer: NodeJS.Timeout | null = null;
  /** Graceful and chain reloads started (tsgi_reloads_total). */
  private reloads = 0;
  /** The --http router (a thread of this process), if any. */
  private readonly router: HttpRouter | null;
  /** systemd (src/process/notify.ts): READY=1 is owed once every worker serves, at start and
   *  after each reload (RELOADING=1). */
  private readyOwed = true;
  /** The --logto file, for --log-reopen and --log-maxsize (null without --logto). */
  private readonly logFile: LogFile | null;
  /** --cheaper: the algorithm's settings and state (null when the subsystem is off). */
  private readonly cheaper: { settings: CheaperSettings; state: CheaperState } | null;
  /** --shutdown-delay: the pending graceful stop while the instance drains (null otherwise). */
  private drainTimer: NodeJS.Timeout | null = null;
  /**
   * Without --lazy-apps, the slot whose worker loads the app before any other starts (uWSGI
   * loads the app in the master before forking, to fail fast); null once it served, or with
   * --lazy-apps. The master itself never holds the app's memory.
   */
  private probe: Slot | null = null;

  constructor(
    private readonly config: Config,
    argv: string[],
    private readonly sockets: BoundSocket[],
    logFd: number,
    /** The directory tsgi was started in (before --chdir), where workers re-read argv. */
    startCwd: string,
    /** The --http router's listening sockets (empty without --http). */
    private readonly routerSockets: BoundSocket[] = [],
  ) {
    this.slots = Array.from({ length: config.processes }, (_, i) => newSlot(i + 1));
    this.logFile =
      config.logto === undefined ? null : new LogFile(config.logto, logFd, config.logMaxsize, config.logBackupname);
    this.scoreboard = addon.createScoreboard(config.processes, config.threads);
    this.ctx = {
      scoreboardFd: this.scoreboard.fd,
      config: () => this.workerConfig(argv, startCwd),
      cwd: startCwd,
      sockets,
      logFd,
      onMessage: (slot, child, msg) => this.onMessage(slot, child, msg),
      onExit: (slot, child, code, signal) => this.onExit(slot, child, code, signal),
    };
    this.cheaper =
      config.cheaper > 0
        ? { settings: cheaperSettings(config), state: newCheaperState(cheaperSettings(config), 0) }
        : null;
    this.router =
      routerSockets.length === 0
        ? null
        : new HttpRouter(config, routerSockets, sockets, logFd, () => this.afterRouterStopped());
  }

  start(): void {
    process.title = processTitle(this.config, 'master', 'tsgi master');
    if (this.config.pidfile) writePidfile(this.config.pidfile);
    dropPrivileges(this.config);
    this.installSignals();
    this.stopTouch = watchTouchFiles(this.config, {
      reload: () => this.reload('touch-reload'),
      chainReload: () => this.chainReload(),
    });
    // The router first: if it cannot listen, the instance stops before any worker exists.
    // Requests it forwards before the workers serve wait in the worker socket's backlog.
    this.router?.start();
    if (this.cheaper !== null) this.startCheaper();
    const running = this.slots.filter((s) => !s.cheap);
    if (!this.config.lazyApps && running.length > 0) {
      this.probe = running[0]!;
      this.spawn(this.probe);
    } else for (const slot of running) this.spawn(slot);
    if (this.config.stats !== undefined || this.config.metrics !== undefined) this.startStatsListeners();
    // The once-a-second duties, only when one of them is configured: an idle master then
    // never wakes (workers' rss/vsz are read when the stats or metrics are asked for).
    const c = this.config;
    if (this.cheaper === null && c.maxWorkerLifetime <= 0 && !(this.logFile !== null && c.logMaxsize > 0)) return;
    this.tickTimer = setInterval(() => {
      if (this.logFile?.rotateIfBig()) this.childrenReopenLog();
      this.checkLifetimes();
      this.cheaperTick();
    }, 1000);
    this.tickTimer.unref();
  }

  /**
   * --stats and --metrics. Their modules are required only here: a master without them never
   * loads the stats document, the Prometheus exposition or their servers.
   */
  private startStatsListeners(): void {
    const stats = require('../stats') as typeof StatsModule;
    // docs/health.md: answered from the master's own state, on --metrics and --stats-http.
    stats.registerRoute('/healthz', stats.livenessAnswer);
    stats.registerRoute('/readyz', () => stats.readinessAnswer(this.readiness()));
    const sources = {
      scoreboard: this.scoreboard.handle,
      sockets: this.sockets,
      appLoadSeconds: 0,
      reloads: () => this.reloads,
      refresh: () => this.sampleMemory(),
    };
    const announce = (what: string, a: Address | undefined, server: { port?: number; fd: number } | null): void => {
      if (server === null || a === undefined) return;
      const where = a.kind === 'tcp' ? `${a.raw.startsWith(':') ? '127.0.0.1' : a.host}:${server.port}` : a.raw;
      logLine(`*** ${what} server enabled on ${where} fd: ${server.fd} ***`);
    };
    void stats
      .startStatsFor(this.config, sources)
      .then((server) => announce('Stats', this.config.stats, server))
      .catch((err: unknown) => logLine(`tsgi: cannot start the stats server: ${(err as Error).message}`));
    void stats
      .startMetricsFor(this.config, sources)
      .then((server) => announce('Metrics', this.config.metrics, server))
      .catch((err: unknown) => logLine(`tsgi: cannot start the metrics server: ${(err as Error).message}`));
  }

  /**
   * A worker's configuration: the command line and its ini files read again, as a worker of
   * uWSGI does after a reload, so an edited ini file reaches the workers a reload starts.
   * When it no longer reads (a broken edit), the worker gets the configuration the master
   * started with, and the log says why.
   */
  private workerConfig(argv: string[], cwd: string): Config {
    try {
      const again = loadConfig(argv, process.env, cwd);
      if (isConfig(again)) return again;
    } catch (err) {
      logLine(
        `tsgi: the configuration no longer reads (${(err as Error).message}); the worker starts with the one the master started with`,
      );
    }
    return this.config;
  }

  /** Starts the slot's current process, or with `asNext` a replacement beside it. */
  private spawn(slot: Slot, asNext = false): void {
    // A slot whose previous process is gone starts from clean per-core state (a killed
    // worker may have left "in request" behind); a replacement overlapping the old process
    // keeps it, both write to the same slot for a moment.
    if (slot.current === null && slot.next === null && slot.cursed.size === 0) {
      addon.scoreboardResetWorker(this.scoreboard.handle, slot.id - 1);
    }
    const child = spawnWorker(slot, this.ctx, asNext);
    // A replacement enters the scoreboard (the stats document's pid) only once it serves
    // (takeOver): until then the old process is the slot's worker, and one that never loads
    // (a broken deploy) never shows.
    if (!asNext && child.pid !== undefined) {
      addon.scoreboardWorkerSpawned(this.scoreboard.handle, slot.id - 1, child.pid);
    }
    logLine(`spawned tsgi worker ${slot.id} (pid: ${child.pid}, cores: ${this.config.threads * this.config.async})`);
  }

  /**
   * --max-worker-lifetime (+ --max-worker-lifetime-delta × (id - 1), to stagger the workers):
   * a worker that served longer is replaced, its successor started first (uWSGI's
   * master_checks.c; it logs "worker N lifetime reached").
   */
  private checkLifetimes(): void {
    const max = this.config.maxWorkerLifetime;
    if (max <= 0 || this.stopping !== 'no') return;
    const now = Math.floor(Date.now() / 1000);
    for (const slot of this.slots) {
      if (slot.current === null || !slot.ready || slot.next !== null) continue;
      const lifetime = now - slot.lastSpawn;
      if (lifetime <= max + (slot.id - 1) * this.config.maxWorkerLifetimeDelta) continue;
      logLine(`tsgi worker ${slot.id} lifetime reached, it was running for ${lifetime} second(s)`);
      this.recycle(slot, slot.current, `max-worker-lifetime reached (${lifetime} s)`);
    }
  }

  /** --cheaper: the slots above --cheaper-initial start cheap (uWSGI marks them cheaped). */
  private startCheaper(): void {
    const { settings } = this.cheaper!;
    const initial = this.config.cheaperInitial;
    logLine(
      `tsgi: cheaper mode (algo ${settings.algo}): ${settings.cheaper} to ${settings.processes} workers, starting ${initial}`,
    );
    if (settings.algo === 'busyness') for (const line of busynessStartLines(settings)) logLine(line);
    this.cheaper!.state = newCheaperState(settings, performance.now());
    for (const slot of this.slots) {
      if (slot.id <= initial) continue;
      slot.cheap = true;
      addon.scoreboardSetWorker(this.scoreboard.handle, slot.id - 1, { status: WORKER_CHEAP });
    }
  }

  /** One cheaper cycle: asks the algorithm, then spawns cheap slots or retires idle workers. */
  private cheaperTick(): void {
    if (this.cheaper === null || this.stopping !== 'no' || this.chain !== null) return;
    const { settings, state } = this.cheaper;
    if (settings.rssLimitSoft > 0) this.sampleMemory();
    const sb = addon.scoreboardSnapshot(this.scoreboard.handle);
    let backlog = 0;
    for (const s of this.sockets) if (s.address.kind === 'tcp') backlog += addon.listenQueue(s.fd).queue;
    const snap: CheaperSnapshot = {
      nowMs: performance.now(),
      backlog,
      workers: this.slots.map((slot, i) => {
        const cores = sb.cores[i] ?? [];
        return {
          id: slot.id,
          active: !slot.cheap && slot.current !== null,
          spawnable: slot.cheap && slot.current === null && slot.next === null && slot.cursed.size === 0,
          busy: cores.some((c) => c.inRequest !== 0),
          runningTimeUs: cores.reduce((n, c) => n + c.runningTime, 0),
          rss: sb.workers[i]?.rss ?? 0,
        };
      }),
    };
    const decision = cheaperCycle(settings, state, snap);
    for (const line of decision.lines) logLine(line);
    const running = snap.workers.filter((w) => w.active).length;
    if (decision.delta > 0) {
      const slots = this.slots.filter((_s, i) => snap.workers[i]!.spawnable).slice(0, decision.delta);
      if (slots.length === 0) return;
      logLine(
        `tsgi: cheaper (${settings.algo}): spawning ${slots.length} new worker(s), ${running} of ${settings.processes} running`,
      );
      for (const slot of slots) {
        slot.cheap = false;
        addon.scoreboardSetWorker(this.scoreboard.handle, slot.id - 1, { status: 0 });
        this.spawn(slot);
      }
    } else if (decision.delta < 0) {
      for (let n = decision.delta, left = running; n < 0 && left > 1; n++, left--) {
        // uWSGI's choice: the idle worker spawned longest ago.
        let oldest: Slot | null = null;
        for (const [i, slot] of this.slots.entries()) {
          if (slot.cheap || slot.current === null || !slot.ready || slot.next !== null || snap.workers[i]!.busy)
            continue;
          if (oldest === null || slot.lastSpawn < oldest.lastSpawn) oldest = slot;
        }
        if (oldest === null) return;
        this.retire(oldest, left);
      }
    }
  }

  /** The cheaper algorithm retires this slot's worker: it stops accepting, finishes and exits. */
  private retire(slot: Slot, running: number): void {
    const child = slot.current!;
    slot.cheap = true;
    addon.scoreboardSetWorker(this.scoreboard.handle, slot.id - 1, { status: WORKER_CHEAP, rss: 0, vsz: 0 });
    logLine(
      `tsgi: cheaper (${this.cheaper!.settings.algo}): cheaping worker ${slot.id} (pid: ${child.pid}), ${running - 1} of ${this.config.processes} left running`,
    );
    this.curseChild(slot, child);
  }

  private sampleMemory(): void {
    for (const slot of this.slots) {
      const pid = slot.current?.pid;
      if (pid === undefined) continue;
      const mem = readProcessMemory(pid);
      if (mem !== null) addon.scoreboardSetWorker(this.scoreboard.handle, slot.id - 1, mem);
    }
  }

  private onMessage(slot: Slot, child: ChildProcess, msg: WorkerMessage): void {
    if (msg?.type === 'ready') {
      if (slot.next === child) this.takeOver(slot);
      else if (slot.current === child) slot.ready = true;
      else return;
      if (this.probe === slot) this.afterProbe();
      this.advanceChain();
      this.notifyIfReady();
    } else if (msg?.type === 'recycle') {
      this.recycle(slot, child, msg.reason);
    } else if (msg?.type === 'sighup') {
      // Most often the SIGHUP went to the whole process group and the master's own reload,
      // which replaces this worker anyway, is a moment behind this message: acting a little
      // later lets it come first instead of replacing the worker twice in a row.
      setTimeout(() => this.recycle(slot, child, 'SIGHUP received'), WORKER_SIGHUP_DELAY_MS).unref();
    }
  }

  /** The first worker loaded the app: the others start now, as uWSGI forks once its master
   *  loaded it (and they find the app's files in the page cache). */
  private afterProbe(): void {
    this.probe = null;
    if (this.stopping !== 'no') return;
    for (const slot of this.slots) {
      if (!slot.cheap && slot.current === null && slot.next === null) this.spawn(slot);
    }
  }

  /** A worker asked to be replaced; nothing to do when a replacement is already starting. */
  private recycle(slot: Slot, child: ChildProcess, reason: string): void {
    if (this.stopping !== 'no' || slot.current !== child || slot.next !== null) return;
    logLine(`tsgi worker ${slot.id} (pid: ${child.pid}) recycles: ${reason}`);
    this.replace(slot, false);
  }

  /** The slot's replacement serves: the old process stops accepting and finishes. */
  private takeOver(slot: Slot): void {
    const old = promote(slot);
    if (slot.current?.pid !== undefined) {
      addon.scoreboardWorkerSpawned(this.scoreboard.handle, slot.id - 1, slot.current.pid);
    }
    if (old !== null) this.curseChild(slot, old);
    if (slot.reloadAgain) {
      slot.reloadAgain = false;
      this.replace(slot, true);
    }
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const was = reap(slot, child);
    if (slot.current === null && slot.next === null && slot.cursed.size === 0) {
      addon.scoreboardSetWorker(this.scoreboard.handle, slot.id - 1, { pid: 0, accepting: 0 });
    }
    const how = signal ? `killed by signal ${signal}` : `exited with code ${code}`;
    if (was === 'cursed' || this.stopping !== 'no') {
      logLine(`tsgi worker ${slot.id} (pid: ${child.pid}) ${how}${was === 'cursed' ? ' (graceful stop)' : ''}`);
      if (slot.cheap && slot.current === null && slot.next === null && slot.cursed.size === 0) {
        logLine(`tsgi worker ${slot.id} cheaped.`);
      }
      this.maybeExit();
      return;
    }
    if (was === 'unknown') return;
    if (code === EXIT_APP_LOAD && this.probe === slot) {
      logLine(`tsgi worker ${slot.id} (pid: ${child.pid}) ${how}: the app failed to load; shutting down`);
      process.exitCode = EXIT_APP_LOAD;
      this.shutdown('fast');
      return;
    }
    if (code === EXIT_APP_LOAD && this.config.needApp) {
      logLine(`DAMN ! tsgi worker ${slot.id} (pid: ${child.pid}) ${how} :(`);
      logLine('tsgi: the app failed to load in a worker and --need-app is set; shutting down');
      process.exitCode = EXIT_APP_LOAD;
      this.shutdown('fast');
      return;
    }
    if (was === 'next') {
      // A replacement that never served: the current process keeps serving meanwhile.
      const keeps = slot.current ? `worker pid ${slot.current.pid} keeps serving, ` : '';
      logLine(`DAMN ! tsgi worker ${slot.id} (pid: ${child.pid}) ${how} before it served :( ${keeps}trying again ...`);
      this.respawnGuarded(slot, true);
    } else if (slot.next !== null) {
      logLine(
        `DAMN ! tsgi worker ${slot.id} (pid: ${child.pid}) ${how} :( its replacement (pid: ${slot.next.pid}) is starting`,
      );
    } else {
      logLine(`DAMN ! tsgi worker ${slot.id} (pid: ${child.pid}) ${how} :( trying respawn ...`);
      this.respawnGuarded(slot, false);
    }
  }

  /** Respawns the slot's process (or, with `replacement`, its replacement) unless more
   *  processes died within the last second than there are slots (uWSGI's fork-bomb guard). */
  private respawnGuarded(slot: Slot, replacement: boolean): void {
    const go = (): void => {
      if (this.stopping !== 'no' || slot.cheap) return;
      if (slot.current === null && slot.next === null) this.spawn(slot);
      else if (replacement && slot.current !== null && slot.next === null) this.spawn(slot, true);
    };
    const now = Date.now();
    this.respawnTimes = this.respawnTimes.filter((t) => now - t < 1000);
    this.respawnTimes.push(now);
    if (this.respawnTimes.length > this.config.processes) {
      logLine('tsgi: worker respawning too fast !!! i have to sleep a bit ...');
      setTimeout(go, FORKBOMB_DELAY_MS);
      return;
    }
    go();
  }

  /**
   * Starts a replacement beside the slot's process; the old one keeps accepting until the
   * new one says it serves (takeOver), so capacity never drops and no connection waits for
   * a process that is still loading the app. One replacement at a time per slot: a reload
   * while one is starting is done again once it serves (`reloadAgain`).
   */
  private replace(slot: Slot, reload: boolean): void {
    // A cheap slot has nothing to replace; it loads the current code when spawned again.
    if (slot.cheap) return;
    if (slot.next !== null) {
      if (reload) slot.reloadAgain = true;
      return;
    }
    if (slot.current === null) {
      this.spawn(slot);
      return;
    }
    this.spawn(slot, true);
  }

  private curseChild(slot: Slot, child: ChildProcess): void {
    curse(slot, child, this.config.workerReloadMercy * 1000, (c) => {
      logLine(`tsgi worker ${slot.id} (pid: ${c.pid}) is taking too much time to die... NO MERCY !!!`);
      c.kill('SIGKILL');
    });
  }

  /** Every running slot's process serves and no replacement is starting (cheap slots have none). */
  private allServing(): boolean {
    return this.slots.every((s) => s.cheap || (s.current !== null && s.ready && s.next === null));
  }

  private notifyIfReady(): void {
    if (!this.readyOwed || this.stopping !== 'no' || this.chain !== null || !this.allServing()) return;
    this.readyOwed = false;
    sdReady();
  }

  private announceReload(): void {
    this.readyOwed = true;
    sdReloading();
  }

  /** Every running child points its log at the --logto file again. */
  private childrenReopenLog(): void {
    const file = this.logFile!.file;
    for (const slot of this.slots) {
      for (const child of [slot.current, slot.next, ...slot.cursed.keys()]) {
        if (child?.connected) child.send({ type: 'reopen-log', file });
      }
    }
    // The router thread needs no telling: it writes to this process's log fd, reopened in place.
  }

  reload(why: string): void {
    if (this.stopping !== 'no' || this.drainTimer !== null) return;
    // --log-reopen (for logrotate): before the new workers start, so they inherit the new file.
    if (this.config.logReopen && this.logFile !== null) {
      this.logFile.reopen('log-reopen');
      this.childrenReopenLog();
    }
    this.announceReload();
    this.reloads++;
    logLine(`tsgi: graceful reload of every worker (${why})`);
    for (const slot of this.slots) this.replace(slot, true);
  }

  /** One worker at a time, waiting for each new one to serve (uWSGI's chain reload). */
  chainReload(): void {
    if (this.stopping !== 'no' || this.drainTimer !== null || this.chain !== null) return;
    this.announceReload();
    this.reloads++;
    logLine('tsgi: chain reload starting');
    this.chain = this.slots.filter((s) => !s.cheap).map((s) => s.id);
    this.advanceChain(true);
  }

  private advanceChain(starting = false): void {
    if (this.chain === null) return;
    const head = this.slots.find((s) => s.id === this.chain![0]);
    if (!starting) {
      // The step is done once the slot's new process serves (and no further one is due).
      if (head !== undefined && !head.cheap && (!head.ready || head.next !== null)) return;
      this.chain.shift();
    }
    const next = this.slots.find((s) => s.id === this.chain![0]);
    if (next === undefined) {
      logLine('tsgi: chain reloading complete');
      this.chain = null;
      this.notifyIfReady();
      return;
    }
    logLine(`tsgi: chain reload: worker ${next.id}`);
    this.replace(next, true);
  }

  /**
   * /readyz (docs/deploy.md, "Health"): ready while at least one worker serves and the
   * instance is neither draining (--shutdown-delay) nor stopping. A reload keeps it ready:
   * the old workers serve until their replacements do.
   */
  readiness(): Readiness {
    if (this.stopping !== 'no' || this.drainTimer !== null) return { ready: false, reason: 'shutting down' };
    if (!this.slots.some((s) => s.current !== null && s.ready)) return { ready: false, reason: 'no worker serves yet' };
    if (this.router !== null && !this.router.running) return { ready: false, reason: 'the router is not running' };
    return { ready: true, reason: 'ready' };
  }

  /**
   * SIGTERM with --shutdown-delay first drains: /readyz answers 503 at once while every
   * socket stays open and every worker keeps serving, so a load balancer or a Kubernetes
   * Service stops sending before anything is refused; the graceful stop starts after the delay.
   * A fast shutdown (SIGINT, SIGQUIT) cuts the delay short.
   */
  shutdown(mode: 'graceful' | 'fast'): void {
    if (mode === 'graceful' && this.stopping === 'no' && this.config.shutdownDelay > 0) {
      if (this.drainTimer !== null) return;
      sdStopping();
      this.stopTouch?.();
      logLine(
        `tsgi: not ready from now on (/readyz answers 503); serving ${this.config.shutdownDelay} more seconds before the graceful shutdown (--shutdown-delay)`,
      );
      this.drainTimer = setTimeout(() => this.stopNow('graceful'), this.config.shutdownDelay * 1000);
      return;
    }
    this.stopNow(mode);
  }

  private stopNow(mode: 'graceful' | 'fast'): void {
    const drained = this.drainTimer !== null;
    if (drained) {
      clearTimeout(this.drainTimer!);
      this.drainTimer = null;
    }
    if (this.stopping === 'fast' || this.stopping === mode) return;
    if (this.stopping === 'no' && !drained) sdStopping();
    if (drained && mode === 'graceful') logLine('tsgi: --shutdown-delay is over: graceful shutdown');
    this.stopping = mode;
    this.stopTouch?.();
    if (mode === 'graceful' && this.router?.running) {
      // The router goes first: what it accepted still needs the workers to be answered.
      this.router.stop(this.config.workerReloadMercy * 1000);
      return;
    }
    this.router?.kill();
    this.stopWorkers(mode);
  }

  private afterRouterStopped(): void {
    // Its sockets close now, so new clients are refused instead of queued and reset at exit.
    closeAll(this.routerSockets, this.config.vacuum);
    if (this.stopping === 'graceful') this.stopWorkers('graceful');
    else this.maybeExit();
  }

  private stopWorkers(mode: 'graceful' | 'fast'): void {
    // No worker is started any more: the master's copies of the sockets go now, so the
    // sockets close as soon as the workers stop serving them (each closes its own as it
    // stops) and new connections are refused instead of queued and reset at exit.
    closeAll(this.sockets, this.config.vacuum);
    for (const slot of this.slots) {
      slot.reloadAgain = false;
      const children = [slot.current, slot.next, ...slot.cursed.keys()].filter((c): c is ChildProcess => c !== null);
      for (const child of children) {
        if (mode === 'graceful') this.curseChild(slot, child);
        else child.kill('SIGKILL');
      }
    }
    this.maybeExit();
  }

  private maybeExit(): void {
    if (this.stopping === 'no' || livePids(this.slots).length > 0 || this.router?.running) return;
    if (this.tickTimer) clearInterval(this.tickTimer);
    closeAll(this.sockets, this.config.vacuum);
    closeAll(this.routerSockets, this.config.vacuum);
    if (this.config.pidfile && this.config.vacuum) removePidfile(this.config.pidfile);
    logLine('goodbye to tsgi.');
    process.exit();
  }

  private installSignals(): void {
    process.on('SIGHUP', () => this.reload('SIGHUP'));
    process.on('SIGTERM', () => {
      logLine('tsgi: SIGTERM received, graceful shutdown');
      this.shutdown('graceful');
    });
    process.on('SIGINT', () => {
      logLine('tsgi: SIGINT received, killing workers');
      this.shutdown('fast');
    });
    process.on('SIGQUIT', () => {
      logLine('tsgi: SIGQUIT received, killing workers');
      this.shutdown('fast');
    });
    process.on('SIGUSR1', () => {
      for (const slot of this.slots) {
        logLine(
          `tsgi worker ${slot.id}: pid ${slot.current?.pid ?? 0}, ready ${slot.ready ? 1 : 0}, ` +
            `respawns ${slot.respawnCount}, replacement starting ${slot.next?.pid ?? 0}, finishing ${slot.cursed.size}, ` +
            `cheap ${slot.cheap ? 1 : 0}`,
        );
      }
    });
  }
}
