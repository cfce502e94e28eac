// The cheaper subsystem (uWSGI's adaptive process count, docs/master.md "Cheaper"): with
// --cheaper N the master keeps between N and --processes workers, asking an algorithm once a
// master cycle (every second) how many to spawn (> 0) or to retire (< 0). The algorithms
// follow uWSGI's: spare (core/master_utils.c), busyness (plugins/cheaper_busyness) and
// backlog (core/master_utils.c, the same as plugins/cheaper_backlog2). They are functions of
// a snapshot of the workers plus their own state, so they can be tested without processes;
// the master (master.ts) takes the snapshot from the scoreboard and acts on the answer.

import type { Config } from '../config';

export type CheaperAlgoName = 'spare' | 'busyness' | 'backlog';

export interface CheaperSettings {
  algo: CheaperAlgoName;
  /** --cheaper: the fewest workers kept. */
  cheaper: number;
  /** --processes: the most. */
  processes: number;
  step: number;
  /** --cheaper-overload: cycles (spare), seconds (busyness), queued requests (backlog). */
  overload: number;
  busyness: {
    min: number;
    max: number;
    multiplier: number;
    penalty: number;
    backlogAlert: number;
    backlogStep: number;
    backlogMultiplier: number;
    backlogNonzero: number;
  };
  /** Bytes; 0 = no limit. */
  rssLimitSoft: number;
  rssLimitHard: number;
}

export function cheaperSettings(config: Config): CheaperSettings {
  return {
    algo: config.cheaperAlgo as CheaperAlgoName,
    cheaper: config.cheaper,
    processes: config.processes,
    step: config.cheaperStep,
    overload: config.cheaperOverload,
    busyness: {
      min: config.cheaperBusynessMin,
      max: config.cheaperBusynessMax,
      multiplier: config.cheaperBusynessMultiplier,
      penalty: config.cheaperBusynessPenalty,
      backlogAlert: config.cheaperBusynessBacklogAlert,
      backlogStep: config.cheaperBusynessBacklogStep,
      backlogMultiplier: config.cheaperBusynessBacklogMultiplier,
      backlogNonzero: config.cheaperBusynessBacklogNonzero,
    },
    rssLimitSoft: config.cheaperRssLimitSoft,
    rssLimitHard: config.cheaperRssLimitHard,
  };
}

/** One worker slot as the algorithms see it. */
export interface CheaperWorker {
  /** Slot id, 1-based. */
  id: number;
  /** A process serves the slot and it is not cheap (uWSGI: cheaped == 0 && pid > 0). */
  active: boolean;
  /** Cheap with no process left: a spawn may use it (uWSGI: cheaped == 1 && pid == 0). */
  spawnable: boolean;
  /** A core of the worker is in a request. */
  busy: boolean;
  /** Microseconds the worker's cores spent in finished requests, cumulated. */
  runningTimeUs: number;
  /** Resident memory, bytes (0 when unknown). */
  rss: number;
}

export interface CheaperSnapshot {
  /** Monotonic milliseconds. */
  nowMs: number;
  workers: CheaperWorker[];
  /** Requests waiting in the listen queues of the workers' sockets. */
  backlog: number;
}

export interface SpareState {
  overload: number;
  idle: number;
}

export interface BusynessState {
  /** runningTimeUs of each slot (by index) at the last check. */
  lastValues: number[];
  /** Master cycles each slot was seen busy since the last check. */
  wasBusy: number[];
  /** When the last busyness check ran (ms). */
  tcheck: number;
  /** When a worker was last retired for low busyness (ms), null if never. */
  lastCheaped: number | null;
  /** No retirement before this (ms). */
  nextCheap: number;
  multiplier: number;
  /** 1 = spawned, 2 = retired. */
  lastAction: 0 | 1 | 2;
  tolerance: number;
  emergency: number;
  backlogNonzero: boolean;
  backlogNonzeroSince: number;
}

export interface CheaperState {
  spare: SpareState;
  busyness: BusynessState;
}

/** What the master should do this cycle, and what to log. */
export interface CheaperDecision {
  /** > 0: spawn that many (at most), < 0: retire that many idle workers, 0: nothing. */
  delta: number;
  lines: string[];
}

export function newCheaperState(s: CheaperSettings, nowMs: number): CheaperState {
  const busyness: BusynessState = {
    lastValues: Array.from({ length: s.processes }, () => 0),
    wasBusy: Array.from({ length: s.processes }, () => 0),
    tcheck: nowMs,
    lastCheaped: null,
    nextCheap: 0,
    multiplier: s.busyness.multiplier,
    lastAction: 0,
    tolerance: 0,
    emergency: 0,
    backlogNonzero: false,
    backlogNonzeroSince: 0,
  };
  setNextCheapTime(s, busyness, nowMs);
  return { spare: { overload: 0, idle: 0 }, busyness };
}

/** The settings lines uWSGI's busyness plugin logs when it starts. */
export function busynessStartLines(s: CheaperSettings): string[] {
  const b = s.busyness;
  return [
    `[busyness] settings: min=${b.min}%, max=${b.max}%, overload=${s.overload}, multiplier=${b.multiplier}, respawn penalty=${b.penalty}`,
    `[busyness] backlog alert is set to ${b.backlogAlert} request(s), step is ${b.backlogStep}`,
    `[busyness] backlog non-zero alert is set to ${b.backlogNonzero} second(s)`,
  ];
}

function countActive(snap: CheaperSnapshot): number {
  return snap.workers.filter((w) => w.active).length;
}

/** How many slots a spawn of at most `step` workers can use. */
function spawnable(snap: CheaperSnapshot, step: number): number {
  return Math.min(Math.max(step, 1), snap.workers.filter((w) => w.spawnable).length);
}

/**
 * spare: a master cycle in which every active worker is busy is an overload cycle; after
 * --cheaper-overload of them, up to --cheaper-step workers are spawned. A cycle with an idle
 * worker takes one overload cycle back; once none are left, and unless exactly one worker
 * is idle (the stable state: one spare worker), every --cheaper-overload-th such cycle one
 * worker is retired while more than --cheaper run.
 */
export function spareAlgo(s: CheaperSettings, st: SpareState, snap: CheaperSnapshot, canSpawn: boolean): number {
  const active = snap.workers.filter((w) => w.active);
  if (active.some((w) => !w.busy)) {
    if (st.overload > 0) st.overload--;
  } else {
    st.overload++;
    st.idle = 0;
  }
  if (canSpawn && st.overload >= s.overload) {
    st.overload = 0;
    return spawnable(snap, s.step);
  }
  if (st.overload === 0) {
    const busy = active.filter((w) => w.busy).length;
    if (active.length - busy === 1) return 0;
    st.idle++;
    if (active.length > s.cheaper && st.idle % s.overload === 0) return -1;
  }
  return 0;
}

/**
 * backlog: more requests waiting in the listen queue than --cheaper-overload spawns up to
 * --cheaper-step workers; fewer retires one while more than --cheaper run (uWSGI's core
 * "backlog" algorithm; its cheaper_backlog2 plugin is a copy).
 */
export function backlogAlgo(s: CheaperSettings, snap: CheaperSnapshot, canSpawn: boolean): number {
  if (canSpawn && snap.backlog > s.overload) return spawnable(snap, s.step);
  if (snap.backlog < s.overload && countActive(snap) > s.cheaper) return -1;
  return 0;
}

function setNextCheapTime(s: CheaperSettings, st: BusynessState, nowMs: number): void {
  const multi = st.emergency > 0 ? s.busyness.backlogMultiplier : st.multiplier;
  st.nextCheap = nowMs + s.overload * multi * 1000;
}

function decreaseMulti(s: CheaperSettings, st: BusynessState, lines: string[]): void {
  if (st.multiplier > s.busyness.multiplier) {
    st.multiplier--;
    lines.push(`[busyness] decreasing cheaper multiplier to ${st.multiplier}`);
  }
}

function spawnEmergency(s: CheaperSettings, st: BusynessState, snap: CheaperSnapshot, lines: string[]): number {
  st.multiplier = s.busyness.multiplier;
  st.lastAction = 1;
  const n = spawnable(snap, s.busyness.backlogStep);
  setNextCheapTime(s, st, snap.nowMs);
  if (n > 0) {
    st.emergency += n;
    lines.push(
      `[busyness] ${snap.backlog} requests in listen queue, spawning ${n} emergency worker(s) (${st.emergency})!`,
    );
  } else {
    lines.push(
      `[busyness] ${snap.backlog} requests in listen queue but we are already started maximum number of workers (${s.processes})`,
    );
  }
  return n;
}

/**
 * busyness: every --cheaper-overload seconds, the share of that time each active worker
 * spent in requests (100 % for a worker seen busy that finished nothing, a request longer
 * than the period), averaged. Above --cheaper-busyness-max: spawn up to --cheaper-step, and
 * if a worker was retired less than multiplier × overload seconds ago, add
 * --cheaper-busyness-penalty to the multiplier. Below --cheaper-busyness-min: retire one
 * worker once the cheaper timer (multiplier × overload seconds) has run out. Between them:
 * the timer is pushed back (and restarted after three such checks in a row). Between checks,
 * a listen queue above --cheaper-busyness-backlog-alert, or non-empty for
 * --cheaper-busyness-backlog-nonzero seconds, spawns emergency workers at once.
 */
export function busynessAlgo(
  s: CheaperSettings,
  st: BusynessState,
  snap: CheaperSnapshot,
  canSpawn: boolean,
  lines: string[],
): number {
  const b = s.busyness;
  const periodMs = s.overload * 1000;
  const now = snap.nowMs;
  let active = 0;
  snap.workers.forEach((w, i) => {
    if (w.active) {
      active++;
      st.wasBusy[i] = (st.wasBusy[i] ?? 0) + (w.busy ? 1 : 0);
    } else {
      st.wasBusy[i] = 0;
    }
  });
  if (now - st.tcheck >= periodMs) {
    st.tcheck = now;
    let total = 0;
    snap.workers.forEach((w, i) => {
      if (w.active) {
        const spent = w.runningTimeUs - (st.lastValues[i] ?? 0);
        let percent = Math.floor((spent * 100) / (periodMs * 1000));
        if (percent > 100) percent = 100;
        else if (spent === 0 && (st.wasBusy[i] ?? 0) > 0) percent = 100;
        st.wasBusy[i] = 0;
        total += percent;
      }
      st.lastValues[i] = w.runningTimeUs;
    });
    const avg = active > 0 ? Math.floor(total / active) : 0;
    if (avg > b.max) {
      st.tolerance = 0;
      const n = canSpawn ? spawnable(snap, s.step) : 0;
      if (n > 0) {
        st.lastAction = 1;
        if (st.lastCheaped !== null && (now - st.lastCheaped) / 1000 / s.overload <= st.multiplier) {
          st.multiplier += b.penalty;
          lines.push(
            `[busyness] worker(s) respawned to fast, increasing cheaper multiplier to ${st.multiplier} (+${b.penalty})`,
          );
        } else {
          decreaseMulti(s, st, lines);
        }
        setNextCheapTime(s, st, now);
        lines.push(`[busyness] ${s.overload}s average busyness is at ${avg}%, will spawn ${n} new worker(s)`);
      } else {
        lines.push(
          `[busyness] ${s.overload}s average busyness is at ${avg}% but we already started maximum number of workers available with current limits (${active})`,
        );
      }
      return n;
    }
    if (canSpawn && snap.backlog > b.backlogAlert && active < s.processes) return spawnEmergency(s, st, snap, lines);
    if (avg < b.min) {
      if (active === 1) return 0;
      st.tolerance = 0;
      if (active > s.cheaper && now >= st.nextCheap) {
        if (st.lastAction === 2) decreaseMulti(s, st, lines);
        setNextCheapTime(s, st, now);
        lines.push(`[busyness] ${s.overload}s average busyness is at ${avg}%, cheap one of ${active} running workers`);
        st.lastCheaped = now;
        st.lastAction = 2;
        if (st.emergency > 0) st.emergency--;
        return -1;
      }
      return 0;
    }
    if (active === 1) return 0;
    if (st.emergency > 0) st.emergency--;
    st.tolerance++;
    if (st.tolerance >= 3) setNextCheapTime(s, st, now);
    else st.nextCheap += periodMs;
    return 0;
  }
  if (canSpawn && snap.backlog > b.backlogAlert && active < s.processes) return spawnEmergency(s, st, snap, lines);
  if (snap.backlog > 0) {
    if (!st.backlogNonzero) {
      st.backlogNonzero = true;
      st.backlogNonzeroSince = now;
    } else if (canSpawn && (now - st.backlogNonzeroSince) / 1000 >= b.backlogNonzero) {
      lines.push(
        `[busyness] backlog was non-zero for ${Math.floor((now - st.backlogNonzeroSince) / 1000)} second(s), spawning new worker(s)`,
      );
      st.backlogNonzeroSince = now;
      return spawnEmergency(s, st, snap, lines);
    }
  } else {
    st.backlogNonzero = false;
  }
  return 0;
}

/**
 * One master cycle: the memory limits first (above --cheaper-rss-limit-hard one worker is
 * retired, above the soft limit nothing may be spawned), then the algorithm.
 */
export function cheaperCycle(s: CheaperSettings, st: CheaperState, snap: CheaperSnapshot): CheaperDecision {
  const lines: string[] = [];
  let canSpawn = true;
  if (s.rssLimitSoft > 0) {
    const active = snap.workers.filter((w) => w.active);
    const rss = active.reduce((n, w) => n + w.rss, 0);
    if (s.rssLimitHard > 0 && active.length > 1 && rss >= s.rssLimitHard) {
      lines.push(`cheaper hard rss memory limit exceeded, cheap one of ${active.length} workers`);
      return { delta: -1, lines };
    }
    if (rss >= s.rssLimitSoft) canSpawn = false;
  }
  let delta: number;
  if (s.algo === 'busyness') delta = busynessAlgo(s, st.busyness, snap, canSpawn, lines);
  else if (s.algo === 'backlog') delta = backlogAlgo(s, snap, canSpawn);
  else delta = spareAlgo(s, st.spare, snap, canSpawn);
  if (!canSpawn && delta > 0) delta = 0;
  return { delta, lines };
}
