// Loads tsgi's fetch layer (fetch.ts, fetch-response.ts, fetch-globals.ts, and with them undici,
// ~12 MiB of RSS per process) only in processes that use it. Before it imports an app, the
// loader calls deferFetchGlobals(): `Request` and `Response` become accessors on globalThis,
// configurable and not enumerable like the lazy globals Node 20 defines itself
// (lib/internal/util.js, defineLazyProperties). Reading one loads the layer, installs tsgi's
// classes as plain values (fetch-globals.ts says what they are) and returns them; assigning one
// (a polyfill, an app's own class) stores the value as Node's own setter does and loads
// nothing. A framework that reads them at import (Hono does) loads the layer then, as before;
// a gateway callable or a node:http app that never reads them never loads undici. The loader
// calls loadFetchLayer() once an export turns out to be a fetch handler, so the first request
// does not pay for it.

import type * as FetchGlobals from './fetch-globals';
import { nodeDescriptor, undiciClass } from './undici-classes';

type LayerName = 'Request' | 'Response';
const NAMES: readonly LayerName[] = ['Request', 'Response'];

let layer: typeof FetchGlobals | null = null;
/** The getter this module defined for each name, to tell its accessor from any other. */
const getters = new Map<LayerName, () => unknown>();

function defineValue(name: LayerName, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

function holdsAccessor(name: LayerName): boolean {
  const d = Object.getOwnPropertyDescriptor(globalThis, name);
  return d?.get !== undefined && d.get === getters.get(name);
}

/** True while `name` is still Node's own: its lazy accessor, or undici's class once read. */
function holdsNodeClass(name: LayerName): boolean {
  const d = Object.getOwnPropertyDescriptor(globalThis, name);
  if (d === undefined || holdsAccessor(name)) return false;
  if (d.get !== undefined) return d.get === nodeDescriptor(name)?.get;
  // A data property: undici is loaded already, so comparing costs nothing more.
  return d.value === undiciClass(name);
}

/**
 * Loads the fetch layer (once per thread) and puts tsgi's classes in place of the accessors
 * still defined by deferFetchGlobals(); a name an app assigned keeps the app's value.
 */
export function loadFetchLayer(): typeof FetchGlobals {
  // A lazy require: this is the one place the fetch layer is loaded for an app.
  layer ??= require('./fetch-globals') as typeof FetchGlobals;
  const values: Record<LayerName, unknown> = { Request: layer.TsgiRequestClass, Response: layer.TsgiResponse };
  for (const name of NAMES) if (holdsAccessor(name)) defineValue(name, values[name]);
  return layer;
}

/** Defines the lazy `Request` and `Response` accessors where Node's own classes still are. */
export function deferFetchGlobals(): void {
  for (const name of NAMES) {
    if (!holdsNodeClass(name)) continue;
    const get = (): unknown => {
      loadFetchLayer();
      return (globalThis as Record<LayerName, unknown>)[name];
    };
    getters.set(name, get);
    Object.defineProperty(globalThis, name, {
      get,
      set: (value: unknown) => defineValue(name, value),
      configurable: true,
      enumerable: false,
    });
  }
}
