// --help and --version output.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatAddress } from './address';
import { OPTIONS } from './options';
import type { Address, OptionGroup, OptionSpec } from './types';

const COLUMN = 38;
const WIDTH = 100;

function formatDefault(spec: OptionSpec): string | undefined {
  const d = spec.default;
  if (d === undefined || d === false || (Array.isArray(d) && d.length === 0)) return undefined;
  if (spec.type === 'mode' && typeof d === 'number') return d.toString(8);
  if (typeof d === 'object' && d !== null && 'kind' in d) return formatAddress(d as Address);
  return String(d);
}

function names(spec: OptionSpec): string {
  const longs = [spec.name, ...spec.aliases].map((n) => `--${n}`).join(', ');
  const short = spec.short !== undefined ? `-${spec.short}, ` : '    ';
  const arg = spec.arg === undefined ? '' : spec.type === 'mode' ? `[=${spec.arg}]` : ` ${spec.arg}`;
  return `  ${short}${longs}${arg}`;
}

function wrap(text: string, indent: number): string[] {
  const width = WIDTH - indent;
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur !== '' && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else {
      cur = cur === '' ? word : `${cur} ${word}`;
    }
  }
  if (cur !== '') lines.push(cur);
  return lines;
}

/** The --help text: options grouped as in the table, each with its aliases and default. */
export function helpText(): string {
  const out: string[] = [
    'Usage: tsgi [options] [file.ini[:section]]',
    '',
    "An application server for JavaScript and TypeScript apps, with uWSGI's options.",
    'Options are also read from --ini files ([uwsgi] then [tsgi] sections) and from UWSGI_* and',
    'TSGI_* environment variables (UWSGI_HTTP_SOCKET=:8080 is --http-socket :8080).',
    "Long options may be abbreviated to a prefix that names one option (and none of uWSGI's).",
    'ADDR is host:port, :port,',
    '[ipv6]:port, a UNIX socket path or @abstract-name.',
  ];
  const groups = new Map<OptionGroup, OptionSpec[]>();
  for (const spec of OPTIONS) {
    const list = groups.get(spec.group) ?? [];
    list.push(spec);
    groups.set(spec.group, list);
  }
  for (const [group, specs] of groups) {
    out.push('', `${group}:`);
    for (const spec of specs) {
      const left = names(spec);
      const dflt = formatDefault(spec);
      // A non-breaking space keeps "[default: N]" on one line.
      const help = dflt === undefined ? spec.help : `${spec.help} [default:\u00a0${dflt}]`;
      const body = wrap(help, COLUMN).map((l) => l.replace(/\u00a0/g, ' '));
      if (left.length + 2 <= COLUMN) {
        out.push(left.padEnd(COLUMN) + body[0]);
      } else {
        out.push(left, ' '.repeat(COLUMN) + body[0]);
      }
      for (const more of body.slice(1)) out.push(' '.repeat(COLUMN) + more);
    }
  }
  out.push('');
  return out.join('\n');
}

let cachedVersion: string | undefined;

/**
 * The version from tsgi's package.json. This file runs from dist/config/ (compiled) and from
 * src/config/ (under tsx); both are two levels below the repository root. Walks further up
 * as a fallback, in case the layout changes.
 */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    dir = path.dirname(dir);
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'tsgi' && typeof pkg.version === 'string') {
        cachedVersion = pkg.version;
        return pkg.version;
      }
    } catch {
      // Not here; try the parent.
    }
  }
  return 'unknown';
}

export function versionText(): string {
  return `tsgi ${packageVersion()}`;
}
