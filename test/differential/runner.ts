// Registers the differential tests for one real-app fixture: every request of requests.ts is
// sent to the app under its own server and under tsgi; each difference must be in the
// framework's allow-list (with its reason) or the request's test fails with one line per
// differing field: framework | request | field | own value | tsgi value.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TsgiHandle } from '../integration/helpers/tsgi';
import { send, type Observed } from './client';
import { compare, formatDifference, isAllowed, type Allowed, type Difference } from './compare';
import { REQUESTS } from './requests';
import { startOwnServer, startTsgiFor, type OwnServer } from './servers';

export interface FrameworkSpec {
  /** Short name used in every report line ("express5"). */
  name: string;
  /** What the framework is, for test titles ("Express 5"). */
  title: string;
  /** The fixture file under test/fixtures/real-apps/. */
  file: string;
  /** Differences that are not tsgi bugs, each with its reason (mirrored in docs/app-contract.md). */
  allow: Allowed[];
}

interface Answers {
  own: Observed;
  tsgi?: Observed;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const lines = msg.split('\n');
  const cause = lines.find((l) => /error|failed|TSGI_ERR/i.test(l) && !l.startsWith('tsgi exited'));
  return cause !== undefined ? `${lines[0]} — ${cause.trim()}` : lines[0]!;
}

export function describeFramework(spec: FrameworkSpec): void {
  describe(`${spec.title} (${spec.file}) under tsgi answers as under its own server`, () => {
    let own: OwnServer | undefined;
    let tsgi: TsgiHandle | undefined;
    let tsgiError: string | undefined;
    const answers = new Map<string, Answers>();
    const used = new Set<Allowed>();
    const reported: string[] = [];

    before(async () => {
      own = await startOwnServer(spec.file);
      try {
        tsgi = await startTsgiFor(spec.file);
      } catch (err) {
        tsgiError = firstLine(err);
      }
      for (const r of REQUESTS) {
        const a: Answers = { own: await send(own.port, r) };
        if (tsgi !== undefined) a.tsgi = await send(tsgi.ports[0]!, r);
        answers.set(r.name, a);
      }
    });

    after(async () => {
      await Promise.all([own?.stop(), tsgi?.stop()]);
      if (tsgiError !== undefined) reported.unshift(`${spec.name} | (startup) | tsgi did not start | ${tsgiError}`);
      if (reported.length > 0) console.log(`\n${spec.name}: differences that are not allow-listed\n${reported.join('\n')}\n`);
    });

    it('the app under its own server answers every request as written (the fixture works)', () => {
      const wrong: string[] = [];
      for (const r of REQUESTS) {
        const a = answers.get(r.name)!.own;
        if (a.error !== undefined) wrong.push(`${r.name}: client error ${a.error}`);
        if (r.expect !== undefined && a.status !== r.expect) wrong.push(`${r.name}: status ${a.status}, expected ${r.expect}`);
        if (r.gateId !== undefined && a.firstPartBeforeAck !== true) wrong.push(`${r.name}: first part did not arrive before the ack`);
      }
      assert.deepEqual(wrong, [], `${spec.name} own server:\n${wrong.join('\n')}\n${own?.output() ?? ''}`);
    });

    it('tsgi loads the app and serves it', () => {
      assert.equal(tsgiError, undefined, `${spec.name} | (startup) | tsgi did not start | ${tsgiError}`);
    });

    for (const r of REQUESTS) {
      it(`${r.name} gets the same answer from tsgi`, () => {
        const a = answers.get(r.name)!;
        if (a.tsgi === undefined) assert.fail(`${spec.name} | ${r.name} | not sent: tsgi did not start`);
        const bad: Difference[] = [];
        for (const d of compare(r.name, a.own, a.tsgi)) {
          const ok = isAllowed(d, spec.allow);
          if (ok !== undefined) used.add(ok);
          else bad.push(d);
        }
        const lines = bad.map((d) => formatDifference(spec.name, d));
        reported.push(...lines);
        assert.deepEqual(lines, [], lines.join('\n'));
      });
    }

    it('every allow-listed difference still occurs (the list is not stale)', () => {
      if (tsgiError !== undefined) assert.fail(`${spec.name}: cannot tell, tsgi did not start`);
      const stale = spec.allow.filter((a) => !used.has(a)).map((a) => `${a.request} | ${a.field}: ${a.reason}`);
      assert.deepEqual(stale, [], `${spec.name}: allow-list entries that matched nothing:\n${stale.join('\n')}`);
    });
  });
}
