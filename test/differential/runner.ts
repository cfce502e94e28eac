// Registers the differential tests for one real-app fixture: every request of requests.ts is
// sent to the app under its own server and under tsgi; each difference must be in the
// framework's allow-list (with its reason) or the request's test fails with one line per
// differing field: framework | request | field | own value | tsgi value.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, type TsgiHandle } from '../integration/helpers/tsgi';
import { DEADLINE_ERROR, type Observed, send } from './client';
import { type Allowed, compare, type Difference, formatDifference, isAllowed } from './compare';
import { nextOnConnection, probesKeepAlive } from './keep-alive';
import { type DiffRequest, REQUESTS } from './requests';
import { type OwnServer, startOwnServer, startTsgiFor } from './servers';

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

/** The heading in docs/app-contract.md that repeats every allow-list with its reasons. */
const DOC_SECTION = "## Differences from each framework's own server";

interface Answers {
  own: Observed;
  /** The same request again under the own server: what may differ between two runs. */
  ownAgain: Observed;
  tsgi?: Observed;
}

/** The line of a startup failure that says why: tsgi's own "tsgi: ..." error line, else the first. */
function startupCause(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const lines = msg.split('\n').map((l) => l.trim());
  const cause = lines.find((l) => /^tsgi: /.test(l) || /TSGI_ERR|Error:/.test(l));
  return cause ?? lines[0]!;
}

export function describeFramework(spec: FrameworkSpec): void {
  describe(`${spec.title} (${spec.file}) under tsgi answers as under its own server`, () => {
    let own: OwnServer | undefined;
    let tsgi: TsgiHandle | undefined;
    let tsgiError: string | undefined;
    let tsgiGaveUp: string | undefined;
    const answers = new Map<string, Answers>();
    const used = new Set<Allowed>();
    const reported: string[] = [];

    before(async () => {
      own = await startOwnServer(spec.file);
      try {
        tsgi = await startTsgiFor(spec.file);
      } catch (err) {
        tsgiError = startupCause(err);
      }
      const ask = async (port: number, r: DiffRequest): Promise<Observed> => {
        const seen = await send(port, r);
        if (probesKeepAlive(r) && seen.status !== undefined) seen.nextOnConnection = await nextOnConnection(port, r);
        return seen;
      };
      for (const r of REQUESTS) {
        const a: Answers = { own: await ask(own.port, r), ownAgain: await ask(own.port, r) };
        if (tsgi !== undefined && tsgiGaveUp === undefined) {
          a.tsgi = await ask(tsgi.ports[0]!, r);
          // A server that answers nothing would cost the deadline per request: stop asking.
          if (a.tsgi.error === DEADLINE_ERROR && a.tsgi.status === undefined) {
            tsgiGaveUp = `"${r.name}" got no response head within the deadline, the rest were not sent`;
          }
        }
        answers.set(r.name, a);
      }
    });

    after(async () => {
      await Promise.all([own?.stop(), tsgi?.stop()]);
      if (tsgiError !== undefined) reported.unshift(`${spec.name} | (startup) | tsgi did not start | ${tsgiError}`);
      if (tsgiGaveUp !== undefined) reported.push(`${spec.name} | (the rest) | not sent | ${tsgiGaveUp}`);
      if (reported.length > 0)
        console.log(`\n${spec.name}: differences that are not allow-listed\n${reported.join('\n')}\n`);
    });

    it('the app under its own server answers every request as written (the fixture works)', () => {
      const wrong: string[] = [];
      for (const r of REQUESTS) {
        const a = answers.get(r.name)!.own;
        if (a.error !== undefined) wrong.push(`${r.name}: client error ${a.error}`);
        if (r.expect !== undefined && a.status !== r.expect)
          wrong.push(`${r.name}: status ${a.status}, expected ${r.expect}`);
        if (r.gateId !== undefined && a.firstPartBeforeAck !== true)
          wrong.push(`${r.name}: first part did not arrive before the ack`);
      }
      assert.deepEqual(wrong, [], `${spec.name} own server:\n${wrong.join('\n')}\n${own?.output() ?? ''}`);
    });

    it('the app under its own server answers each request the same way twice (the comparison is stable)', () => {
      const unstable = REQUESTS.flatMap((r) => {
        const a = answers.get(r.name)!;
        return compare(r.name, a.own, a.ownAgain).map((d) => formatDifference(`${spec.name} own twice`, d));
      });
      assert.deepEqual(unstable, [], unstable.join('\n'));
    });

    it('tsgi loads the app and serves it', () => {
      assert.equal(tsgiError, undefined, `${spec.name} | (startup) | tsgi did not start | ${tsgiError}`);
    });

    for (const r of REQUESTS) {
      it(`${r.name} gets the same answer from tsgi`, () => {
        const a = answers.get(r.name)!;
        if (a.tsgi === undefined)
          assert.fail(`${spec.name} | ${r.name} | not sent: ${tsgiGaveUp ?? 'tsgi did not start'}`);
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
      const stale = spec.allow.filter((a) => !used.has(a)).map((a) => `${String(a.request)} | ${a.field}: ${a.reason}`);
      assert.deepEqual(stale, [], `${spec.name}: allow-list entries that matched nothing:\n${stale.join('\n')}`);
    });

    it('docs/app-contract.md lists every allow-listed difference with its reason', () => {
      const doc = readFileSync(path.join(ROOT, 'docs', 'app-contract.md'), 'utf8');
      const section = doc.slice(doc.indexOf(DOC_SECTION));
      const missing = spec.allow.filter((a) => !section.replace(/\s+/g, ' ').includes(a.reason)).map((a) => a.reason);
      assert.deepEqual(missing, [], `${spec.name}: reasons not in "${DOC_SECTION}":\n${missing.join('\n')}`);
    });
  });
}
