// Converts one raw option value (text, or undefined for a bare flag) to its typed value.
// uWSGI reads integers with atoi(), so "abc" silently becomes 0 there (and `true` becomes 0,
// uwsgi-docs#445); tsgi rejects anything that is not a plain non-negative decimal integer.

import { ConfigError } from '../errors';
import { AddressSyntaxError, parseAddress } from './address';
import type { Address, OptionSpec, Origin } from './types';

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** True if `text` is one of the boolean words accepted as a flag's value. */
export function isBoolWord(text: string): boolean {
  const t = text.toLowerCase();
  return TRUE_WORDS.has(t) || FALSE_WORDS.has(t);
}

/** Where a value came from, as a message suffix; values from argv need none. */
export function fromWhere(origin: Origin): string {
  return origin === 'command line' ? '' : ` (from ${origin})`;
}

/** What the caller needs to convert and report. `label` is the option as the user wrote it. */
export interface ValueContext {
  readonly label: string;
  readonly origin: Origin;
  readonly warn: (msg: string) => void;
}

function invalid(ctx: ValueContext, raw: string, why: string): ConfigError {
  return new ConfigError(
    'TSGI_ERR_INVALID_VALUE',
    `invalid value "${raw}" for ${ctx.label}: ${why}${fromWhere(ctx.origin)}`,
  );
}

function parseIntValue(spec: OptionSpec, raw: string, ctx: ValueContext, multiplier = 1): number {
  let text = raw.trim();
  let mult = multiplier;
  if (spec.type === 'size') {
    const m = /^(\d+)\s*([kmg])i?b?$/i.exec(text);
    if (m !== null) {
      text = m[1];
      mult = 1024 ** ('kmg'.indexOf(m[2].toLowerCase()) + 1);
    }
  }
  if (/^-\d+$/.test(text)) throw invalid(ctx, raw, 'must not be negative');
  if (!/^\+?\d+$/.test(text)) {
    throw invalid(ctx, raw, spec.type === 'size' ? 'not a byte count (e.g. 1048576 or 1m)' : 'not an integer');
  }
  const n = Number(text) * mult;
  if (!Number.isSafeInteger(n)) throw invalid(ctx, raw, 'too large');
  if (spec.min !== undefined && n < spec.min) throw invalid(ctx, raw, `must be at least ${spec.min}`);
  if (spec.max !== undefined && n > spec.max) {
    if (!spec.clampMax) throw invalid(ctx, raw, `must be at most ${spec.max}`);
    ctx.warn(`${ctx.label} ${raw} is larger than ${spec.max}; using ${spec.max}${fromWhere(ctx.origin)}`);
    return spec.max;
  }
  return n;
}

function parseBool(raw: string | undefined, ctx: ValueContext): boolean {
  // uwsgi_opt_true: a flag with no value, or any value other than false/off/no/0, is true;
  // tsgi also rejects values that are not boolean words, so typos do not silently enable.
  if (raw === undefined || raw.trim() === '') return true;
  const t = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  throw invalid(ctx, raw, 'expected a boolean (true/false, yes/no, on/off, 1/0)');
}

function parseMode(raw: string | undefined, ctx: ValueContext): number {
  // uwsgi_opt_chmod_socket: no value = 666 "for lazy and brave users"; else exactly 3 octal digits.
  if (raw === undefined || raw.trim() === '') return 0o666;
  const t = raw.trim();
  if (!/^[0-7]{3}$/.test(t)) throw invalid(ctx, raw, 'expected 3 octal digits, e.g. 660');
  return parseInt(t, 8);
}

function parseAddr(raw: string, ctx: ValueContext): Address {
  try {
    return parseAddress(raw.trim(), (msg) => ctx.warn(`${ctx.label}: ${msg}${fromWhere(ctx.origin)}`));
  } catch (err) {
    if (!(err instanceof AddressSyntaxError)) throw err;
    throw new ConfigError(
      'TSGI_ERR_INVALID_ADDRESS',
      `invalid address "${raw}" for ${ctx.label}: ${err.message}${fromWhere(ctx.origin)}`,
    );
  }
}

function parseModule(raw: string, ctx: ValueContext): { name: string; callable?: string } {
  const t = raw.trim();
  const colon = t.lastIndexOf(':');
  if (colon < 0) return { name: t };
  const name = t.slice(0, colon);
  const callable = t.slice(colon + 1);
  if (name === '') throw invalid(ctx, raw, 'the module name before ":" is empty');
  if (!/^[A-Za-z_$][\w$]*$/.test(callable)) {
    throw invalid(ctx, raw, `"${callable}" after ":" is not a valid export name`);
  }
  return { name, callable };
}

/** The typed value(s) of one occurrence of an option. Lists return an array to append. */
export type OptionValue =
  | string
  | number
  | boolean
  | Address
  | string[]
  | Address[]
  | { name: string; callable?: string };

export function convertValue(spec: OptionSpec, raw: string | undefined, ctx: ValueContext): OptionValue {
  if (spec.type === 'bool') return parseBool(raw, ctx);
  if (spec.type === 'flag-or-string') {
    const t = raw?.trim() ?? '';
    if (t === '' || TRUE_WORDS.has(t.toLowerCase())) return '';
    return FALSE_WORDS.has(t.toLowerCase()) ? false : t;
  }
  if (spec.type === 'mode') return parseMode(raw, ctx);
  if (raw === undefined) {
    throw new ConfigError('TSGI_ERR_MISSING_VALUE', `option ${ctx.label} requires a value${fromWhere(ctx.origin)}`);
  }
  if (raw.trim() === '') {
    throw new ConfigError(
      'TSGI_ERR_MISSING_VALUE',
      `option ${ctx.label} requires a value, got an empty one${fromWhere(ctx.origin)}`,
    );
  }
  switch (spec.type) {
    case 'string':
      return raw.trim();
    case 'int':
    case 'size':
      return parseIntValue(spec, raw, ctx);
    case 'enum': {
      const t = raw.trim().toLowerCase();
      if (!spec.choices?.includes(t)) throw invalid(ctx, raw, `expected one of ${spec.choices?.join(', ')}`);
      return t;
    }
    case 'address':
      return parseAddr(raw, ctx);
    case 'list-address':
      return [parseAddr(raw, ctx)];
    case 'list':
      if (!spec.split) return [raw.trim()];
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'module':
      return parseModule(raw, ctx);
  }
}
