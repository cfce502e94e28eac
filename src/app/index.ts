// The app layer: loading apps and serving requests handed over by the native core.

export { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher';
export {
  buildEnviron,
  createEnvironContext,
  type Environ,
  type EnvironContext,
  type ErrorSink,
  MAGIC_VARS,
  uwsgiScheme,
} from './environ';
// Types only: the fetch layer's values load undici, which only fetch apps need (fetch-lazy.ts).
export type { FetchFunction, FetchHandler } from './fetch';
export type { Body, GatewayApp, StartResponse, WriteFn } from './gateway';
export { EMPTY_INPUT, INPUT_HIGH_WATER_MARK, Input, InputError, type TsgiInput, WHOLE_BODY_MAX } from './input';
export { type AppType, type LoadAppOptions, type LoadedApp, loadApp, resolveModule, splitModuleSpec } from './loader';
// Types only: the node:http layer's values load node:http, which only node:http apps need.
export type { NodeExchange, NodeHandler } from './node/exchange';
export type { NodeRequest } from './node/request';
export type { NodeResponse } from './node/response';
export { checkHeaderName, checkHeaderValue, renderHeaders } from './response';
export { normalizeStatus, reasonPhrase, statusText } from './status';
