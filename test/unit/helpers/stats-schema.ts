// Compares a tsgi stats document with a uWSGI sample by shape: the same keys in the same
// order with the same JSON types, level by level. Lists are compared by the shapes of their
// items; `itemsLike` picks which sample item a given item must match (an idle core matches
// an idle core, an in-flight core an in-flight one).
import * as assert from 'node:assert/strict';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function kind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? 'u' : Number.isInteger(v) ? 'i' : 'float';
  return typeof v;
}

/** Describes `v` as a string: objects by ordered keys and their shapes; lists by item shapes. */
export function shapeOf(v: Json): string {
  const k = kind(v);
  if (k === 'list') return `[${[...new Set((v as Json[]).map(shapeOf))].join('|')}]`;
  if (k === 'object') {
    const o = v as { [key: string]: Json };
    return `{${Object.keys(o)
      .map((key) => `${key}:${shapeOf(o[key]!)}`)
      .join(',')}}`;
  }
  return k;
}

/** Asserts `got` has exactly the keys of `want`, in order, with the same value kinds
 *  (non-negative integers in both), recursing into objects; lists are checked by `lists`. */
export function assertSameKeys(
  got: Json,
  want: Json,
  where: string,
  lists: (key: string, got: Json[], want: Json[], where: string) => void,
): void {
  assert.equal(kind(got), kind(want), `${where}: type`);
  if (kind(want) !== 'object') return;
  const g = got as { [key: string]: Json };
  const w = want as { [key: string]: Json };
  assert.deepEqual(Object.keys(g), Object.keys(w), `${where}: keys and their order`);
  for (const key of Object.keys(w)) {
    const at = `${where}.${key}`;
    if (Array.isArray(w[key])) {
      assert.ok(Array.isArray(g[key]), `${at}: list`);
      lists(key, g[key] as Json[], w[key] as Json[], at);
    } else {
      assertSameKeys(g[key]!, w[key]!, at, lists);
    }
  }
}

export type { Json };
