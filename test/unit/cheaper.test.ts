// The cheaper algorithms' decisions (src/master/cheaper.ts), cycle by cycle, over made-up
// snapshots: no processes, no clocks.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  backlogAlgo,
  busynessAlgo,
  busynessStartLines,
  type CheaperSettings,
  type CheaperSnapshot,
  type CheaperWorker,
  cheaperCycle,
  newCheaperState,
  spareAlgo,
} from '../../src/master/cheaper';

function settings(over: Partial<CheaperSettings> = {}, busyness: Partial<CheaperSettings['busyness']> = {}) {
  const s: CheaperSettings = {
    algo: 'spare',
    cheaper: 1,
    processes: 4,
    step: 1,
    overload: 3,
    busyness: {
      min: 25,
      max: 50,
      multiplier: 10,
      penalty: 2,
      backlogAlert: 33,
      backlogStep: 1,
      backlogMultiplier: 3,
      backlogNonzero: 60,
    },
    rssLimitSoft: 0,
    rssLimitHard: 0,
    ...over,
  };
  s.busyness = { ...s.busyness, ...busyness };
  return s;
}

/** `states`: one letter per slot: B busy, I idle, C cheap (spawnable), R retiring (cheap, still running). */
function snap(states: string, nowMs = 0, backlog = 0, runningTimeUs: number[] = []): CheaperSnapshot {
  const workers: CheaperWorker[] = [...states].map((c, i) => ({
    id: i + 1,
    active: c === 'B' || c === 'I',
    spawnable: c === 'C',
    busy: c === 'B',
    runningTimeUs: runningTimeUs[i] ?? 0,
    rss: 0,
  }));
  return { nowMs, workers, backlog };
}

describe('spare', () => {
  test('spawns --cheaper-step workers after --cheaper-overload cycles with every worker busy', () => {
    const s = settings({ step: 2 });
    const st = newCheaperState(s, 0).spare;
    assert.equal(spareAlgo(s, st, snap('BCCC'), true), 0);
    assert.equal(spareAlgo(s, st, snap('BCCC'), true), 0);
    assert.equal(spareAlgo(s, st, snap('BCCC'), true), 2);
    assert.equal(st.overload, 0, 'the overload count starts again');
  });

  test('spawns no more than there are cheap slots, and nothing when it may not spawn', () => {
    const s = settings({ step: 3, overload: 1 });
    assert.equal(spareAlgo(s, newCheaperState(s, 0).spare, snap('BBBC'), true), 1);
    assert.equal(spareAlgo(s, newCheaperState(s, 0).spare, snap('BBBB'), true), 0);
    assert.equal(spareAlgo(s, newCheaperState(s, 0).spare, snap('BCCC'), false), 0);
  });

  test('an idle worker takes an overload cycle back', () => {
    const s = settings();
    const st = newCheaperState(s, 0).spare;
    spareAlgo(s, st, snap('BCCC'), true);
    spareAlgo(s, st, snap('BCCC'), true);
    spareAlgo(s, st, snap('ICCC'), true);
    assert.equal(st.overload, 1);
    assert.equal(spareAlgo(s, st, snap('BCCC'), true), 0);
  });

  test('one idle worker beside busy ones is the stable state: nothing is retired', () => {
    const s = settings({ overload: 1 });
    const st = newCheaperState(s, 0).spare;
    for (let i = 0; i < 5; i++) assert.equal(spareAlgo(s, st, snap('BBIC'), true), 0);
  });

  test('retires one worker every --cheaper-overload idle cycles, never below --cheaper', () => {
    const s = settings({ overload: 2, cheaper: 1 });
    const st = newCheaperState(s, 0).spare;
    assert.deepEqual(
      [1, 2, 3, 4].map(() => spareAlgo(s, st, snap('IIIC'), true)),
      [0, -1, 0, -1],
    );
    const one = newCheaperState(s, 0).spare;
    assert.deepEqual(
      [1, 2, 3, 4].map(() => spareAlgo(s, one, snap('ICCC'), true)),
      [0, 0, 0, 0],
    );
  });
});

describe('backlog', () => {
  test('spawns when the listen queue is above --cheaper-overload and retires when below', () => {
    const s = settings({ algo: 'backlog', overload: 3, step: 2 });
    assert.equal(backlogAlgo(s, snap('BCCC', 0, 4), true), 2);
    assert.equal(backlogAlgo(s, snap('BCCC', 0, 4), false), 0);
    assert.equal(backlogAlgo(s, snap('BBCC', 0, 3), true), 0, 'exactly the threshold: nothing');
    assert.equal(backlogAlgo(s, snap('IICC', 0, 0), true), -1);
    assert.equal(backlogAlgo(s, snap('ICCC', 0, 0), true), 0, 'not below --cheaper');
  });
});

describe('busyness', () => {
  test('logs its settings the way uWSGI does', () => {
    assert.deepEqual(busynessStartLines(settings()), [
      '[busyness] settings: min=25%, max=50%, overload=3, multiplier=10, respawn penalty=2',
      '[busyness] backlog alert is set to 33 request(s), step is 1',
      '[busyness] backlog non-zero alert is set to 60 second(s)',
    ]);
  });

  test('spawns when the average busyness of a period is above the maximum', () => {
    const s = settings({ algo: 'busyness', overload: 1 });
    const st = newCheaperState(s, 0).busyness;
    const lines: string[] = [];
    // Worker 1 spent 0.8 s of the 1 s period in requests: 80 %.
    assert.equal(busynessAlgo(s, st, snap('ICCC', 1000, 0, [800_000]), true, lines), 1);
    assert.deepEqual(lines, ['[busyness] 1s average busyness is at 80%, will spawn 1 new worker(s)']);
  });

  test('a worker seen busy that finished no request in the period counts as 100 % busy', () => {
    const s = settings({ algo: 'busyness', overload: 1 });
    const st = newCheaperState(s, 0).busyness;
    const lines: string[] = [];
    assert.equal(busynessAlgo(s, st, snap('BCCC', 500), true, lines), 0);
    assert.equal(busynessAlgo(s, st, snap('BCCC', 1000), true, lines), 1);
    assert.match(lines.join('\n'), /busyness is at 100%/);
  });

  test('retires one worker below the minimum once multiplier × overload seconds have passed', () => {
    const s = settings({ algo: 'busyness', overload: 1 }, { multiplier: 3 });
    const st = newCheaperState(s, 0).busyness;
    const lines: string[] = [];
    const out: number[] = [];
    for (let t = 1; t <= 4; t++) out.push(busynessAlgo(s, st, snap('IICC', t * 1000), true, lines));
    assert.deepEqual(out, [0, 0, -1, 0]);
    assert.deepEqual(lines, ['[busyness] 1s average busyness is at 0%, cheap one of 2 running workers']);
  });

  test('spawning again soon after a retirement adds the penalty to the multiplier', () => {
    const s = settings({ algo: 'busyness', overload: 1 }, { multiplier: 1, penalty: 2 });
    const st = newCheaperState(s, 0).busyness;
    const lines: string[] = [];
    assert.equal(busynessAlgo(s, st, snap('IICC', 1000), true, lines), -1);
    assert.equal(st.multiplier, 1);
    // One period later the remaining worker was 90 % busy.
    const spawn = busynessAlgo(s, st, snap('ICCC', 2000, 0, [900_000]), true, lines);
    assert.equal(spawn, 1);
    assert.equal(st.multiplier, 3);
    assert.match(lines.join('\n'), /respawned to fast, increasing cheaper multiplier to 3 \(\+2\)/);
  });

  test('between minimum and maximum the cheaper timer is pushed back', () => {
    const s = settings({ algo: 'busyness', overload: 1 }, { multiplier: 2 });
    const st = newCheaperState(s, 0).busyness;
    const before = st.nextCheap;
    // 30 % busy on average: between 25 and 50.
    busynessAlgo(s, st, snap('IICC', 1000, 0, [300_000, 300_000]), true, []);
    assert.equal(st.nextCheap, before + 1000);
  });

  test('a listen queue above the alert spawns emergency workers between checks', () => {
    const s = settings({ algo: 'busyness', overload: 5 }, { backlogAlert: 4, backlogStep: 2 });
    const st = newCheaperState(s, 0).busyness;
    const lines: string[] = [];
    assert.equal(busynessAlgo(s, st, snap('BCCC', 1000, 10), true, lines), 2);
    assert.equal(st.emergency, 2);
    assert.deepEqual(lines, ['[busyness] 10 requests in listen queue, spawning 2 emergency worker(s) (2)!']);
    assert.equal(busynessAlgo(s, st, snap('BBBB', 2000, 10), true, []), 0, 'all running: nothing');
  });

  test('a listen queue non-empty for --cheaper-busyness-backlog-nonzero seconds spawns a worker', () => {
    const s = settings({ algo: 'busyness', overload: 100 }, { backlogNonzero: 2 });
    const st = newCheaperState(s, 0).busyness;
    const lines: string[] = [];
    assert.equal(busynessAlgo(s, st, snap('BCCC', 1000, 1), true, lines), 0);
    assert.equal(busynessAlgo(s, st, snap('BCCC', 2000, 1), true, lines), 0);
    assert.equal(busynessAlgo(s, st, snap('BCCC', 3000, 1), true, lines), 1);
    assert.match(lines[0]!, /^\[busyness\] backlog was non-zero for 2 second\(s\), spawning new worker\(s\)$/);
  });
});

describe('memory limits', () => {
  test('above the hard limit one worker is retired whatever the algorithm says', () => {
    const s = settings({ rssLimitSoft: 100, rssLimitHard: 200 });
    const sn = snap('BBBC');
    for (const w of sn.workers) w.rss = 80;
    const d = cheaperCycle(s, newCheaperState(s, 0), sn);
    assert.deepEqual(d, { delta: -1, lines: ['cheaper hard rss memory limit exceeded, cheap one of 3 workers'] });
  });

  test('above the soft limit nothing is spawned', () => {
    const s = settings({ overload: 1, rssLimitSoft: 100 });
    const sn = snap('BCCC');
    sn.workers[0]!.rss = 150;
    assert.equal(cheaperCycle(s, newCheaperState(s, 0), sn).delta, 0);
    sn.workers[0]!.rss = 50;
    assert.equal(cheaperCycle(s, newCheaperState(s, 0), sn).delta, 1);
  });
});
