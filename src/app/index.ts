// The app layer: loading apps and serving requests handed over by the native core.

export { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher';
export { loadApp, resolveModule, splitModuleSpec, type AppType, type LoadAppOptions, type LoadedApp } from './loader';
export { NodeExchange, type NodeHandler } from './node/exchange';
export { NodeRequest } from './node/request';
export { NodeResponse } from './node/response';
export { buildEnviron, createEnvironContext, MAGIC_VARS, uwsgiScheme, type Environ, type EnvironContext, type ErrorSink } from './environ';
export { Input, InputError, EMPTY_INPUT, INPUT_HIGH_WATER_MARK, type TsgiInput } from './input';
export { renderHeaders, checkHeaderName, checkHeaderValue } from './response';
export { normalizeStatus, reasonPhrase, statusText } from './status';
export { TsgiRequest, fetchStats, requestUrl, requestHeaders, type FetchHandler, type FetchFunction } from './fetch';
export type { GatewayApp, StartResponse, WriteFn, Body } from './gateway';
