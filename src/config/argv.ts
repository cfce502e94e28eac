// Command-line parsing with glibc getopt_long's rules, which is what uWSGI uses:
//   --name value, --name=value, -s value, -svalue, clustered flags (-Mp 4);
//   unambiguous prefixes of long names (--http-sock); "--" ends the options.
// Differences, all in the direction of accepting what a user plainly meant:
//   - a flag may be followed by a boolean word (--master false), which is consumed;
//   - --chmod-socket / -C consume a following 3-octal-digit word (getopt needs --chmod-socket=660);
//   - -s=value means -s value (getopt would pass "=value").
// A positional argument ending in .ini (or .ini:section) is --ini, as in uWSGI.

import { ConfigError } from '../errors';
import { didYouMean, findShort, matchLong } from './options';
import type { OptionSpec } from './types';
import { isBoolWord } from './values';

export interface ArgvSink {
  /** One option occurrence; `raw` is undefined for a bare flag. `label` is as typed. */
  option(spec: OptionSpec, raw: string | undefined, label: string): void;
  /** True once an immediate option (--help, --version) was seen: parsing stops. */
  readonly stopped: boolean;
}

const INI_ARG = /\.ini(:[^/]*)?$/i;

function takesValue(spec: OptionSpec): 'none' | 'optional' | 'required' {
  if (spec.type === 'bool') return 'none';
  if (spec.type === 'mode' || spec.type === 'flag-or-string') return 'optional';
  return 'required';
}

/** The error for a long option that names no tsgi option unambiguously. */
function unmatched(typed: string, candidates: string[], uwsgiOnly: string[]): ConfigError {
  const listed = (names: string[]): string => names.map((c) => `--${c}`).join(', ');
  if (uwsgiOnly.includes(typed)) {
    return new ConfigError(
      'TSGI_ERR_UNKNOWN_OPTION',
      `unknown option --${typed}: uWSGI's --${typed} is not available in tsgi${didYouMean(typed)}`,
    );
  }
  if (candidates.length + uwsgiOnly.length > 1 || uwsgiOnly.length > 0) {
    const shown = uwsgiOnly.length > 6 ? [...uwsgiOnly.slice(0, 6), '…'] : uwsgiOnly;
    const also = uwsgiOnly.length ? `; uWSGI also has ${shown.map((c) => (c === '…' ? c : `--${c}`)).join(', ')}` : '';
    return new ConfigError(
      'TSGI_ERR_AMBIGUOUS_OPTION',
      `option --${typed} is ambiguous (${candidates.length ? `could be ${listed(candidates)}` : 'no tsgi option'}${also}); write the whole name`,
    );
  }
  return new ConfigError('TSGI_ERR_UNKNOWN_OPTION', `unknown option --${typed}${didYouMean(typed)}`);
}

/** May `next` be consumed as the value of an option that does not require one? */
function consumable(spec: OptionSpec, next: string | undefined): boolean {
  if (next === undefined || spec.immediate) return false;
  if (spec.type === 'bool') return isBoolWord(next);
  if (spec.type === 'mode') return /^[0-7]{3}$/.test(next);
  return false;
}

function positional(arg: string, sink: ArgvSink, iniSpec: OptionSpec): void {
  if (INI_ARG.test(arg)) {
    sink.option(iniSpec, arg, '--ini');
    return;
  }
  const hint = /\.[cm]?[jt]s$/.test(arg) ? ` (did you mean --wsgi-file ${arg}?)` : '';
  throw new ConfigError('TSGI_ERR_UNEXPECTED_ARGUMENT', `unexpected argument "${arg}"${hint}`);
}

function longOption(argv: readonly string[], i: number, sink: ArgvSink): number {
  const arg = argv[i];
  const eq = arg.indexOf('=');
  const typed = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
  const inline = eq < 0 ? undefined : arg.slice(eq + 1);
  const { spec, candidates, uwsgiOnly } =
    typed === '' ? { spec: undefined, candidates: [], uwsgiOnly: [] } : matchLong(typed);
  if (spec === undefined) throw unmatched(typed, candidates, uwsgiOnly);
  const label = `--${spec.name}`;
  const mode = takesValue(spec);
  if (inline !== undefined) {
    if (spec.immediate && spec.type === 'bool') {
      throw new ConfigError('TSGI_ERR_UNEXPECTED_VALUE', `option ${label} does not take a value`);
    }
    sink.option(spec, inline, label);
    return i + 1;
  }
  if (mode === 'required') {
    if (i + 1 >= argv.length) {
      throw new ConfigError('TSGI_ERR_MISSING_VALUE', `option ${label} requires a value`);
    }
    sink.option(spec, argv[i + 1], label);
    return i + 2;
  }
  if (consumable(spec, argv[i + 1])) {
    sink.option(spec, argv[i + 1], label);
    return i + 2;
  }
  sink.option(spec, undefined, label);
  return i + 1;
}

function shortCluster(argv: readonly string[], i: number, sink: ArgvSink): number {
  const arg = argv[i];
  for (let j = 1; j < arg.length; j++) {
    const letter = arg[j];
    const spec = findShort(letter);
    if (spec === undefined) {
      throw new ConfigError(
        'TSGI_ERR_UNKNOWN_OPTION',
        `unknown option -${letter}${j === 1 && arg.length > 2 ? ` in "${arg}"` : ''}`,
      );
    }
    const label = `-${letter}`;
    const last = j === arg.length - 1;
    const mode = takesValue(spec);
    if (mode === 'none') {
      if (arg[j + 1] === '=') {
        sink.option(spec, arg.slice(j + 2), label);
        return i + 1;
      }
      if (last && consumable(spec, argv[i + 1])) {
        sink.option(spec, argv[i + 1], label);
        return i + 2;
      }
      sink.option(spec, undefined, label);
      if (sink.stopped) return argv.length;
      continue;
    }
    if (!last) {
      const rest = arg.slice(j + 1);
      sink.option(spec, rest.startsWith('=') ? rest.slice(1) : rest, label);
      return i + 1;
    }
    if (mode === 'required') {
      if (i + 1 >= argv.length) throw new ConfigError('TSGI_ERR_MISSING_VALUE', `option ${label} requires a value`);
      sink.option(spec, argv[i + 1], label);
      return i + 2;
    }
    if (consumable(spec, argv[i + 1])) {
      sink.option(spec, argv[i + 1], label);
      return i + 2;
    }
    sink.option(spec, undefined, label);
    return i + 1;
  }
  return i + 1;
}

/** Feeds every option of `argv` (without the node/script entries) to `sink`, in order. */
export function parseArgv(argv: readonly string[], sink: ArgvSink, iniSpec: OptionSpec): void {
  let i = 0;
  let onlyPositionals = false;
  while (i < argv.length && !sink.stopped) {
    const arg = argv[i];
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      positional(arg, sink, iniSpec);
      i++;
    } else if (arg === '--') {
      onlyPositionals = true;
      i++;
    } else if (arg.startsWith('--')) {
      i = longOption(argv, i, sink);
    } else {
      i = shortCluster(argv, i, sink);
    }
  }
}
