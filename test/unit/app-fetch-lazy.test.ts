// The lazy fetch globals (src/app/fetch-lazy.ts). Each case runs in a fresh Node process over
// the compiled dist/ (npm run build:ts), since what is checked is what a process has loaded:
// undici shows in process.moduleLoadList as "NativeModule internal/deps/undici/undici".

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const LAZY = path.resolve(__dirname, '../../dist/app/fetch-lazy.js');

/** Runs `body` in a new process after deferFetchGlobals(); returns what it printed as JSON. */
function inFreshProcess(body: string): Record<string, unknown> {
  const script = `
    const lazy = require(${JSON.stringify(LAZY)});
    const undici = () => process.moduleLoadList.some((m) => m.includes('undici'));
    const out = {};
    lazy.deferFetchGlobals();
    ${body}
    process.stdout.write(JSON.stringify(out));
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 }));
}

test('deferFetchGlobals leaves undici unloaded and defines configurable, non-enumerable accessors', () => {
  const out = inFreshProcess(`
    for (const k of ['Request', 'Response']) {
      const d = Object.getOwnPropertyDescriptor(globalThis, k);
      out[k] = [typeof d.get, typeof d.set, d.configurable, d.enumerable];
    }
    out.inGlobal = 'Request' in globalThis && 'Response' in globalThis;
    out.undici = undici();
  `);
  assert.deepEqual(out, {
    Request: ['function', 'function', true, false],
    Response: ['function', 'function', true, false],
    inGlobal: true,
    undici: false,
  });
});

test("reading Response loads the layer and installs tsgi's classes as writable values", () => {
  const out = inFreshProcess(`
    const R = globalThis.Response;
    out.undici = undici();
    out.name = R.name;
    const d = Object.getOwnPropertyDescriptor(globalThis, 'Request');
    out.requestIsValue = 'value' in d && d.writable && d.configurable && !d.enumerable;
    out.sameOnRead = globalThis.Response === R;
  `);
  assert.deepEqual(out, { undici: true, name: 'TsgiResponse', requestIsValue: true, sameOnRead: true });
});

test("instanceof holds both ways between tsgi's globals and undici's classes once loaded", () => {
  const out = inFreshProcess(`
    const { undiciClass } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/app/undici-classes.js'))});
    const UResponse = undiciClass('Response');
    const URequest = undiciClass('Request');
    out.differ = globalThis.Response !== UResponse && globalThis.Request !== URequest;
    out.lightIsUndici = new Response('x') instanceof UResponse;
    out.undiciIsGlobal = new UResponse('x') instanceof Response;
    out.requestIsUndici = new Request('http://h/') instanceof URequest;
    out.undiciRequestIsGlobal = new URequest('http://h/') instanceof Request;
  `);
  assert.deepEqual(out, {
    differ: true,
    lightIsUndici: true,
    undiciIsGlobal: true,
    requestIsUndici: true,
    undiciRequestIsGlobal: true,
  });
});

test("assigning Request keeps the app's value, loads nothing, and survives the layer loading later", () => {
  const out = inFreshProcess(`
    class Own {}
    globalThis.Request = Own;
    out.kept = globalThis.Request === Own;
    out.undiciAfterAssign = undici();
    out.response = globalThis.Response.name;
    out.stillOwn = globalThis.Request === Own;
  `);
  assert.deepEqual(out, { kept: true, undiciAfterAssign: false, response: 'TsgiResponse', stillOwn: true });
});

test("loadFetchLayer installs tsgi's classes when the app never read the globals", () => {
  const out = inFreshProcess(`
    lazy.loadFetchLayer();
    const names = ['Request', 'Response'].map((k) => Object.getOwnPropertyDescriptor(globalThis, k).value?.name);
    out.names = names;
    out.undici = undici();
  `);
  assert.deepEqual(out, { names: ['TsgiRequestClass', 'TsgiResponse'], undici: true });
});
