// Every option in the table does what docs/config.md says: it is read outside src/config, or
// it is listed in src/config/compat.ts with its reason (accepted and inert, refused because it
// is not built yet, or acted on by the configuration reader) and its docs row says so.

import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ACCEPTED_FOR_COMPATIBILITY, READ_BY_CONFIG } from '../../src/config/compat';
import { OPTIONS } from '../../src/config/options';

const root = path.join(__dirname, '..', '..');
const srcDir = path.join(root, 'src');
const configDir = path.join(srcDir, 'config');

function sourcesUnder(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file: path.relative(root, file), text: readFileSync(file, 'utf8') });
  }
  return out;
}

const all = sourcesUnder(srcDir);
const outside = all.filter((s) => !s.file.startsWith(path.relative(root, configDir) + path.sep));
const reader = all.filter((s) => !outside.includes(s) && !/(options|types|compat)\.ts$/.test(s.file));

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Files outside src/config that read `config.<key>` (every consumer names its Config `config`). */
function consumers(key: string): string[] {
  const re = new RegExp(`\\bconfig\\??\\.${escapeRe(key)}\\b`);
  return outside.filter((s) => re.test(s.text)).map((s) => s.file);
}

const LISTS = { ACCEPTED_FOR_COMPATIBILITY, READ_BY_CONFIG } as const;

function listsNaming(name: string): string[] {
  return Object.entries(LISTS)
    .filter(([, list]) => Object.hasOwn(list, name))
    .map(([label]) => label);
}

/** The last cell ("vs uWSGI") of the option's row in docs/config.md. */
function docNotes(doc: string, name: string): string {
  const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
  assert.ok(row !== undefined, `docs/config.md has no row for \`${name}\``);
  const cells = row.split('|').map((c) => c.trim());
  return cells[cells.length - 2];
}

test('every option is read outside src/config or listed in src/config/compat.ts with a reason, never both', () => {
  const problems: string[] = [];
  for (const spec of OPTIONS) {
    const used = consumers(spec.key);
    const listed = listsNaming(spec.name);
    if (used.length === 0 && listed.length === 0) {
      problems.push(
        `--${spec.name}: config.${spec.key} is read nowhere outside src/config; act on it or list it in src/config/compat.ts`,
      );
    } else if (used.length > 0 && listed.length > 0) {
      problems.push(`--${spec.name}: listed in ${listed.join(', ')} but read by ${used.join(', ')}`);
    } else if (listed.length > 1) {
      problems.push(`--${spec.name}: listed in ${listed.join(' and ')}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the lists in src/config/compat.ts name only options of the table, each with a reason', () => {
  const names = new Set(OPTIONS.map((s) => s.name));
  for (const [label, list] of Object.entries(LISTS)) {
    for (const [name, reason] of Object.entries(list)) {
      assert.ok(names.has(name), `${label} names --${name}, which is not an option`);
      assert.ok(reason.length > 10, `${label} gives --${name} no reason`);
    }
  }
});

test('options the configuration reader acts on are read in src/config outside the table', () => {
  for (const name of Object.keys(READ_BY_CONFIG)) {
    const key = OPTIONS.find((s) => s.name === name)!.key;
    const re = new RegExp(`\\.${escapeRe(key)}\\b|'${escapeRe(name)}'`);
    assert.ok(
      reader.some((s) => re.test(s.text)),
      `--${name} is in READ_BY_CONFIG but src/config never reads it`,
    );
  }
});

test('docs/config.md says "accepted for compatibility" exactly for the options accepted without effect', () => {
  const doc = readFileSync(path.join(root, 'docs', 'config.md'), 'utf8');
  for (const spec of OPTIONS) {
    const notes = docNotes(doc, spec.name);
    const accepted = Object.hasOwn(ACCEPTED_FOR_COMPATIBILITY, spec.name);
    assert.equal(
      /accepted for compatibility/i.test(notes),
      accepted,
      `docs/config.md row of \`${spec.name}\`: ${notes}`,
    );
  }
});
