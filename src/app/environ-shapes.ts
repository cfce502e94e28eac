// The fast path of buildEnviron. Requests from one client population repeat the same var
// names in the same order, so for each recurring key sequence ("shape") tsgi compiles a
// function returning one object literal with those keys. The object then has every
// property in-object (no dictionary mode, one hidden class per shape, monomorphic access
// in the app), and per request only the key names are checked against the blob.
// Measured (bench/micro/environ.ts): see docs/app-contract.md.

import type { Environ, EnvironContext } from './environ';
import type { TsgiInput } from './input';

export type Factory = (blob: string, meta: Uint32Array, input: TsgiInput, ctx: EnvironContext) => Environ;

export interface Shape {
  readonly keys: readonly string[];
  readonly build: Factory;
  hits: number;
}

/** Compiled shapes kept per context; the least used is replaced when a new one recurs. */
const MAX_SHAPES = 32;
/** A key sequence is compiled the second time it is seen. */
const SIGHTINGS_BEFORE_COMPILE = 2;
/** At most one replacement of a compiled shape per this many slow-path requests. */
const EVICTION_INTERVAL = 1024;

export class ShapeCache {
  /**
   * Builders by native shape id (flags >>> 16). Native code guarantees that one id always
   * names the same key sequence, so no key is compared here; null = cannot compile.
   */
  readonly byId: Array<Factory | null | undefined> = [];
  private shapes: Shape[] = [];
  private sightings = new Map<string, number>();
  private slowSinceEviction = 0;
  private disabled = false;

  /** The shape whose keys match this request's, or undefined. */
  find(blob: string, meta: Uint32Array, nvars: number): Shape | undefined {
    const shapes = this.shapes;
    outer: for (let s = 0; s < shapes.length; s++) {
      const shape = shapes[s]!;
      const keys = shape.keys;
      if (keys.length !== nvars) continue;
      // startsWith at an offset compares in place: no substring is allocated per key.
      for (let i = 0, o = 0; i < nvars; i++, o += 4) {
        const key = keys[i]!;
        const ks = meta[o]!;
        if (meta[o + 1]! - ks !== key.length || !blob.startsWith(key, ks)) continue outer;
      }
      return shape;
    }
    return undefined;
  }

  /** Records a request that took the slow path; compiles its shape once it recurs. */
  sighted(blob: string, meta: Uint32Array, nvars: number): void {
    if (this.disabled || nvars === 0) return;
    this.slowSinceEviction++;
    const keys: string[] = new Array<string>(nvars);
    for (let i = 0, o = 0; i < nvars; i++, o += 4) keys[i] = blob.substring(meta[o]!, meta[o + 1]!);
    if (keys.includes('__proto__')) return; // a literal would set the prototype: keep the slow path
    const sig = keys.join('\0');
    const seen = (this.sightings.get(sig) ?? 0) + 1;
    if (seen < SIGHTINGS_BEFORE_COMPILE) {
      if (this.sightings.size >= 4 * MAX_SHAPES) this.sightings.clear();
      this.sightings.set(sig, seen);
      return;
    }
    this.sightings.delete(sig);
    if (this.shapes.length >= MAX_SHAPES) {
      if (this.slowSinceEviction < EVICTION_INTERVAL) return;
      let least = 0;
      for (let s = 1; s < this.shapes.length; s++) if (this.shapes[s]!.hits < this.shapes[least]!.hits) least = s;
      this.shapes.splice(least, 1);
      for (const shape of this.shapes) shape.hits = 0;
      this.slowSinceEviction = 0;
    }
    const build = compile(keys);
    if (build === null) {
      this.disabled = true;
      return;
    }
    this.shapes.push({ keys, build, hits: 0 });
  }

  get size(): number {
    return this.shapes.length;
  }

  /** Compiles (once) the builder of native shape `id` from this request's key names. */
  compileId(id: number, blob: string, meta: Uint32Array, nvars: number): Factory | null {
    const keys: string[] = new Array<string>(nvars);
    for (let i = 0, o = 0; i < nvars; i++, o += 4) keys[i] = blob.substring(meta[o]!, meta[o + 1]!);
    const build = keys.includes('__proto__') ? null : compile(keys);
    this.byId[id] = build;
    return build;
  }
}

function compile(keys: readonly string[]): Factory | null {
  let src = '"use strict";\nreturn function environ(b, m, input, c) {\n  return {\n';
  for (let i = 0; i < keys.length; i++) {
    src += '    ' + JSON.stringify(keys[i]) + ': b.substring(m[' + (i * 4 + 2) + '], m[' + (i * 4 + 3) + ']),\n';
  }
  src +=
    '    "tsgi.input": input,\n    "tsgi.url_scheme": "http",\n    "tsgi.errors": c.errors,\n' +
    '    "tsgi.version": c.version,\n    "tsgi.multithread": c.multithread,\n' +
    '    "tsgi.multiprocess": c.multiprocess,\n    "tsgi.run_once": false,\n' +
    '    "tsgi.worker_id": c.workerId,\n    "tsgi.core_id": c.coreId,\n  };\n};\n';
  try {
    return new Function(src)() as Factory;
  } catch {
    return null; // --disallow-code-generation-from-strings: the slow path still works
  }
}
