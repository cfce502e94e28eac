// Applies option occurrences in order, as uWSGI does: a later value wins for a scalar
// option, list options accumulate, and `ini` is expanded where it appears (its entries are
// applied at that position). Unknown names from ini files and the environment become
// placeholders (usable as %(name) in later ini files), as in uWSGI; --strict turns them into
// errors once everything has been read.

import { ConfigError } from '../errors';
import { readIni, splitIniSpec } from './ini';
import { didYouMean, findOption } from './options';
import type { OptionSpec, Origin } from './types';
import { convertValue, type OptionValue } from './values';

/** Nested --ini files deeper than this are taken for an include loop. */
const MAX_INI_DEPTH = 16;

export interface Unknown {
  readonly name: string;
  readonly origin: Origin;
  /** How to show the name in a message: 'ini key "x"', 'TSGI_X'. */
  readonly shown: string;
}

export class Collector {
  readonly values = new Map<string, OptionValue>();
  readonly explicit = new Set<string>();
  readonly origins = new Map<string, Origin>();
  readonly warnings: string[] = [];
  readonly unknowns: Unknown[] = [];
  readonly placeholders = new Map<string, string>();
  readonly iniFiles: string[] = [];
  /** The ':callable' part of --module, if any (the last --module wins). */
  moduleCallable: string | undefined;
  immediate: 'help' | 'version' | 'reload' | 'stop' | undefined;
  /** The PIDFILE of --reload / --stop. */
  immediateValue: string | undefined;
  private lastIni: string | undefined;
  private readonly iniStack: string[] = [];

  constructor(
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get stopped(): boolean {
    return this.immediate !== undefined;
  }

  readonly warn = (msg: string): void => {
    this.warnings.push(msg);
  };

  /** One occurrence of a known option. */
  apply(spec: OptionSpec, raw: string | undefined, label: string, origin: Origin): void {
    if (this.stopped) return;
    const ctx = { label, origin, warn: this.warn };
    if (spec.immediate) {
      const value = convertValue(spec, raw, ctx);
      if (spec.type === 'bool') {
        if (value === true) this.immediate = spec.name as 'help' | 'version';
      } else {
        this.immediate = spec.name as 'reload' | 'stop';
        this.immediateValue = value as string;
      }
      return;
    }
    if (spec.name === 'ini') {
      const value = convertValue(spec, raw, ctx) as string[];
      this.expandIni(value[0], origin);
      return;
    }
    const value = convertValue(spec, raw, ctx);
    if (spec.type === 'list' || spec.type === 'list-address') {
      const prev = (this.values.get(spec.name) ?? []) as unknown[];
      this.values.set(spec.name, [...prev, ...(value as unknown[])] as OptionValue);
    } else if (spec.type === 'module') {
      const m = value as { name: string; callable?: string };
      this.values.set(spec.name, m.name);
      this.moduleCallable = m.callable;
    } else {
      this.values.set(spec.name, value);
    }
    this.explicit.add(spec.name);
    this.origins.set(spec.name, origin);
    const text = raw ?? 'true';
    this.placeholders.set(spec.name, text);
    const typed = label.replace(/^-+/, '');
    if (typed !== spec.name && typed.length > 1) this.placeholders.set(typed, text);
  }

  /** A name from an ini file or the environment: an option, or else a placeholder. */
  applyNamed(name: string, raw: string, origin: Origin, shown: string, warnUnknown: boolean): void {
    if (this.stopped) return;
    const spec = findOption(name);
    if (spec !== undefined) {
      this.apply(spec, raw, shown, origin);
      return;
    }
    this.placeholders.set(name, raw);
    this.unknowns.push({ name, origin, shown });
    if (warnUnknown) {
      this.warn(`${origin}: ${shown} is not a tsgi option${didYouMean(name, '')}; kept as a placeholder`);
    }
  }

  private expandIni(spec: string, origin: Origin): void {
    if (this.iniStack.length >= MAX_INI_DEPTH) {
      throw new ConfigError(
        'TSGI_ERR_INI_RECURSION',
        `--ini ${spec}: ini files nested deeper than ${MAX_INI_DEPTH} (${this.iniStack.join(' -> ')})`,
      );
    }
    const result = readIni(spec, {
      cwd: this.cwd,
      env: this.env,
      lastFile: this.lastIni,
      lookup: (name) => this.placeholders.get(name),
    });
    const section = splitIniSpec(spec).section;
    const key = section === undefined ? result.file : `${result.file}:${section}`;
    if (this.iniStack.includes(key)) {
      throw new ConfigError(
        'TSGI_ERR_INI_RECURSION',
        `--ini ${spec} includes itself (${[...this.iniStack, key].join(' -> ')})`,
      );
    }
    this.lastIni = result.file;
    this.iniFiles.push(key);
    this.explicit.add('ini');
    this.origins.set('ini', origin);
    this.warnings.push(...result.warnings);
    this.iniStack.push(key);
    try {
      for (const e of result.entries) {
        this.applyNamed(e.key, e.value, e.origin, e.key, true);
        if (this.stopped) break;
      }
    } finally {
      this.iniStack.pop();
    }
  }
}
