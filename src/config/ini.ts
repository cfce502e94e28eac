// Reads one ini file the way uWSGI's core/ini.c does, plus the expansions of its config
// system ([D] Configuration.rst):
//   - `[section]` headers; only the asked section is read (`file.ini:section`), by default
//     [uwsgi] and then [tsgi] (every [uwsgi] line first, then every [tsgi] line);
//   - lines starting with ';' or '#' are comments (there are no inline comments);
//   - `key = value`, whitespace around both trimmed; a key without '=' has an empty value
//     (a bare flag); a repeated key is a repeated option;
//   - `$(NAME)` is the environment variable NAME; `%(key)` is the value of another key of the
//     same file (its last value), or else of an option or placeholder set earlier; magic
//     variables `%d %p %s %n %e %c %x %h %k %u %U %g %G %t %T` describe the file and host.

import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../errors';

export interface IniEntry {
  readonly key: string;
  readonly value: string;
  /** `file.ini:line` for messages. */
  readonly origin: string;
}

export interface IniResult {
  /** Absolute path of the file read. */
  readonly file: string;
  readonly entries: IniEntry[];
  readonly warnings: string[];
}

export interface IniContext {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The last ini file read, for `--ini :section` (uWSGI's "same file, other section"). */
  readonly lastFile?: string;
  /** Values of options and placeholders set before this file, for %(name). */
  readonly lookup: (name: string) => string | undefined;
}

/** Splits `file.ini:section`. A ':' followed by a path separator is part of the path. */
export function splitIniSpec(spec: string): { file: string; section?: string } {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { file: spec };
  const after = spec.slice(colon + 1);
  if (after.includes('/')) return { file: spec };
  return { file: spec.slice(0, colon), section: after === '' ? undefined : after };
}

interface RawLine {
  key: string;
  value: string;
  section: string;
  line: number;
}

function parseLines(text: string): RawLine[] {
  const out: RawLine[] = [];
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/^[ \t\r]+|[ \t\r]+$/g, '');
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      section = line.slice(1, line.endsWith(']') ? -1 : undefined).trim();
      continue;
    }
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    const value = eq < 0 ? '' : line.slice(eq + 1).trim();
    out.push({ key, value, section, line: i + 1 });
  }
  return out;
}

function magicTable(file: string, section: string): Record<string, () => string> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const ext = path.extname(base);
  const safe =
    (f: () => string): (() => string) =>
    () => {
      try {
        return f();
      } catch {
        return '';
      }
    };
  return {
    d: () => (dir.endsWith('/') ? dir : dir + '/'),
    p: () => file,
    s: () => base,
    n: () => base.slice(0, base.length - ext.length),
    e: () => ext.replace(/^\./, ''),
    c: () => path.basename(dir),
    x: () => section,
    h: () => os.hostname(),
    k: () => String(os.availableParallelism()),
    u: () => String(process.getuid?.() ?? ''),
    U: safe(() => os.userInfo().username),
    g: () => String(process.getgid?.() ?? ''),
    G: safe(() => String(os.userInfo().gid)),
    t: () => String(Math.floor(Date.now() / 1000)),
    T: () => String(Date.now() * 1000),
  };
}

/** Reads and expands one ini file. `spec` is `path`, `path:section` or `:section`. */
export function readIni(spec: string, ctx: IniContext): IniResult {
  const parts = splitIniSpec(spec);
  let fileArg = parts.file;
  if (fileArg === '') {
    if (ctx.lastFile === undefined) {
      throw new ConfigError(
        'TSGI_ERR_INI_READ_FAILED',
        `--ini ${spec}: no earlier ini file to take section "${parts.section}" from`,
      );
    }
    fileArg = ctx.lastFile;
  }
  const file = path.resolve(ctx.cwd, fileArg);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError('TSGI_ERR_INI_READ_FAILED', `--ini ${spec}: cannot read ${file} (${why})`, { cause: err });
  }

  const warnings: string[] = [];
  const wanted = parts.section !== undefined ? [parts.section] : ['uwsgi', 'tsgi'];
  const all = parseLines(text);
  const chosen: RawLine[] = [];
  for (const s of wanted) chosen.push(...all.filter((l) => l.section === s));
  if (chosen.length === 0 && !all.some((l) => wanted.includes(l.section))) {
    const names = wanted.map((s) => `[${s}]`).join(' or ');
    warnings.push(`${file}: no ${names} section found; nothing read from it`);
  }

  const local = new Map<string, RawLine>();
  for (const l of chosen) local.set(l.key, l);
  const rel = path.relative(ctx.cwd, file) || file;
  const where = (l: RawLine): string => `${rel.startsWith('..') ? file : rel}:${l.line}`;

  const expand = (l: RawLine, stack: string[]): string => {
    const magic = magicTable(file, l.section);
    return l.value.replace(
      /\$\(([^)]*)\)|%\(([^)]*)\)|%([A-Za-z])/g,
      (all, envName?: string, ph?: string, letter?: string) => {
        if (envName !== undefined) {
          const v = ctx.env[envName];
          if (v === undefined) {
            warnings.push(`${where(l)}: environment variable ${envName} is not set; $(${envName}) expands to ""`);
            return '';
          }
          return v;
        }
        if (ph !== undefined) {
          if (stack.includes(ph)) {
            throw new ConfigError('TSGI_ERR_INI_PLACEHOLDER', `${where(l)}: placeholder %(${ph}) refers to itself`);
          }
          const target = local.get(ph);
          if (target !== undefined) return expand(target, [...stack, ph]);
          const outer = ctx.lookup(ph);
          if (outer !== undefined) return outer;
          throw new ConfigError(
            'TSGI_ERR_INI_PLACEHOLDER',
            `${where(l)}: placeholder %(${ph}) names no key of this file and no option set before it`,
          );
        }
        const fn = letter !== undefined ? magic[letter] : undefined;
        return fn !== undefined ? fn() : all;
      },
    );
  };

  const entries = chosen
    .filter((l) => {
      if (l.key === '') warnings.push(`${where(l)}: line without a key ignored`);
      return l.key !== '';
    })
    .map((l) => ({ key: l.key, value: expand(l, [l.key]), origin: where(l) }));
  return { file, entries, warnings };
}
