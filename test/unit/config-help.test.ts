// --help text and the option table's own consistency.

import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { helpText, OPTIONS, packageVersion } from '../../src/config/index';

test('--help lists every option with its aliases, short letter and default', () => {
  const help = helpText();
  for (const spec of OPTIONS) {
    assert.ok(help.includes(`--${spec.name}`), spec.name);
    for (const a of spec.aliases) assert.ok(help.includes(`--${a}`), a);
    if (spec.short) assert.ok(help.includes(`-${spec.short}, --${spec.name}`), spec.short);
  }
  assert.match(help, /--listen N\s+listen queue .*\[default: 1024\]/s);
  assert.match(help, /^Sockets:$/m);
  assert.match(help, /^Processes and concurrency:$/m);
});

test('help lines fit in 100 columns', () => {
  for (const line of helpText().split('\n')) assert.ok(line.length <= 100, line);
});

test('the version comes from the repository package.json', () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(packageVersion(), pkg.version);
});

test('docs/config.md describes every option name and alias', () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'config.md'), 'utf8');
  for (const spec of OPTIONS) {
    for (const n of [spec.name, ...spec.aliases]) assert.ok(doc.includes(`\`${n}\``), `docs/config.md lacks \`${n}\``);
  }
});
