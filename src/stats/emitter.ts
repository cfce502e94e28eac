// The stats JSON writer: uWSGI 2.0's hand-written emitter (core/stats.c) reproduced byte for
// byte — tabs, `,\n` separators, `[\n\n<tabs>]` for an empty list, objects that follow a key
// indented on the key's line, list strings at column 0, no trailing newline — so uwsgitop,
// exporters and anything that diffs the output see the same document. One deliberate
// difference (docs/stats.md, "Format"): every string is JSON-escaped, where uWSGI writes most of
// them raw (a `"` in the cwd made its document invalid).
//
// Reference: docs/stats.md, "Format"; the unit test rebuilds every sample captured from
// uWSGI 2.0.21 (test/fixtures/uwsgi-stats/) from its parsed values and compares bytes.

/** A value the emitter writes. Objects keep their key order (a Map for keys that look like
 *  array indices, which plain objects would reorder). Numbers must be integers. */
export type StatsValue = number | string | StatsValue[] | StatsObject;
export type StatsObject = { readonly [key: string]: StatsValue } | ReadonlyMap<string, StatsValue>;

export interface EmitOptions {
  /** --stats-minified: no newlines, no tabs; nothing else changes. */
  minified?: boolean;
}

class Emitter {
  private out = '';
  private tabs = 0;
  private readonly nl: string;
  private readonly tab: string;

  constructor(minified: boolean) {
    this.nl = minified ? '' : '\n';
    this.tab = minified ? '' : '\t';
  }

  result(): string {
    return this.out;
  }

  private indent(): string {
    return this.tab === '' ? '' : this.tab.repeat(this.tabs);
  }

  // object_open: TAB*tabs, "{\n", tabs++ ... object_close: "\n", tabs--, TAB*tabs, "}".
  object(o: StatsObject): void {
    this.out += this.indent() + '{' + this.nl;
    this.tabs++;
    let first = true;
    for (const [k, v] of entries(o)) {
      if (!first) this.out += ',' + this.nl;
      first = false;
      this.keyed(k, v);
    }
    this.out += this.nl;
    this.tabs--;
    this.out += this.indent() + '}';
  }

  // list_open: "[\n", tabs++ (no indent before "[") ... list_close like object_close.
  private list(items: readonly StatsValue[]): void {
    this.out += '[' + this.nl;
    this.tabs++;
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.out += ',' + this.nl;
      const item = items[i]!;
      if (typeof item === 'string')
        this.out += quote(item); // str(): column 0
      else if (typeof item === 'number') this.out += integer(item);
      else if (Array.isArray(item)) this.list(item);
      else this.object(item as StatsObject);
    }
    this.out += this.nl;
    this.tabs--;
    this.out += this.indent() + ']';
  }

  // key(k) / keyval / keylong: TAB*tabs + "k": + value on the same line.
  private keyed(k: string, v: StatsValue): void {
    this.out += this.indent() + quote(k) + ':';
    if (typeof v === 'number') this.out += integer(v);
    else if (typeof v === 'string') this.out += quote(v);
    else if (Array.isArray(v)) this.list(v);
    else this.object(v as StatsObject);
  }
}

function entries(o: StatsObject): Iterable<[string, StatsValue]> {
  return o instanceof Map ? o.entries() : Object.entries(o as { [key: string]: StatsValue });
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function integer(n: number): string {
  if (!Number.isFinite(n)) return '0';
  return String(Math.trunc(n));
}

/** Writes a stats document (an object at the top) the way uWSGI 2.0 does. */
export function emitStats(doc: StatsObject, options: EmitOptions = {}): string {
  const e = new Emitter(options.minified === true);
  e.object(doc);
  return e.result();
}
