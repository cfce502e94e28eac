// undici's Request, Response and Headers (Node's fetch classes), read without leaving a mark on
// globalThis. Node 20 defines these globals as lazy accessors: the first read loads undici
// (~12 MiB of RSS) and replaces the accessor with a data property. tsgi replaces `Request` and
// `Response` with accessors of its own before it imports an app (fetch-lazy.ts), and an app may
// assign them, so the fetch layer reads undici's classes here, from the descriptors Node
// defined, instead of from whatever globalThis holds by then.

type FetchClassName = 'Request' | 'Response' | 'Headers';

/** Node's own descriptors, taken when this module is first loaded (before tsgi's accessors). */
const NODE_DESCRIPTORS: Record<FetchClassName, PropertyDescriptor | undefined> = {
  Request: Object.getOwnPropertyDescriptor(globalThis, 'Request'),
  Response: Object.getOwnPropertyDescriptor(globalThis, 'Response'),
  Headers: Object.getOwnPropertyDescriptor(globalThis, 'Headers'),
};

/**
 * undici's class `name`. Node's lazy getter redefines the global as it loads undici; whatever
 * the global held before the call (tsgi's accessor, an app's own class) is put back.
 */
export function undiciClass<K extends FetchClassName>(name: K): (typeof globalThis)[K] {
  const node = NODE_DESCRIPTORS[name];
  if (node === undefined) throw new Error(`tsgi: globalThis.${name} is missing: Node 20 or later defines it`);
  if (node.get === undefined) return node.value as (typeof globalThis)[K];
  const current = Object.getOwnPropertyDescriptor(globalThis, name);
  const value = node.get.call(globalThis) as (typeof globalThis)[K];
  if (current !== undefined) Object.defineProperty(globalThis, name, current);
  return value;
}

/** The descriptor Node gave `name` at start-up, for putting a global back as Node had it. */
export function nodeDescriptor(name: FetchClassName): PropertyDescriptor | undefined {
  return NODE_DESCRIPTORS[name];
}
