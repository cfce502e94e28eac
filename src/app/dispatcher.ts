// The request-path callbacks native code calls (src/native/types.ts): builds the environ
// and input of each request, runs the app (gateway callable or fetch handler), and routes
// body data, drain and abort events to the request they belong to.

import { type NativeCallbacks, PEER_CLOSED, PEER_SHUTDOWN, RequestFlags, type Transport } from '../native/types';
import { buildEnviron, createEnvironContext, type EnvironContext } from './environ';
import type * as FetchExchangeModule from './fetch-exchange';
import { GatewayExchange } from './gateway';
import { EMPTY_INPUT, Input, inputErrorFor, type TsgiInput } from './input';
import type { LoadedApp } from './loader';
import type * as NodeExchangeModule from './node/exchange';
import type { NodeExchange, NodeHandler } from './node/exchange';
import { rawHeadersFromMeta } from './node/headers';
import { gatewayHint, watchGateway } from './node/hint';
import { type Exchange, ExchangeState, type Registry } from './response';

export interface DispatcherOptions {
  workerId: number;
  coreId: number;
  multithread: boolean;
  multiprocess: boolean;
  /** The Server's shared var-offset array; can also be given later with setMeta(). */
  meta?: Uint32Array;
}

export interface Dispatcher extends NativeCallbacks {
  /** Hands over the Server's shared meta array (4 offsets per var), read during onRequest. */
  setMeta(meta: Uint32Array): void;
  /** Requests that still expect native callbacks (response or body not finished). */
  readonly inFlight: number;
}

export function createDispatcher(app: LoadedApp, transport: Transport, options: DispatcherOptions): Dispatcher {
  const registry: Registry = new Map<number, Exchange>();
  const ctx: EnvironContext = createEnvironContext(transport, options);
  let meta: Uint32Array = options.meta ?? new Uint32Array(0);

  const watched = app.kind === 'gateway' ? watchGateway(app.fn) : null;
  const runGateway = watched !== null ? watched.fn : null;
  const runFetch = app.kind === 'fetch' ? app.handler : null;
  // Required only for a fetch app: the fetch layer loads undici (src/app/fetch-lazy.ts).
  const FetchExchange =
    runFetch !== null ? (require('./fetch-exchange') as typeof FetchExchangeModule).FetchExchange : null;
  const fetchThis = app.kind === 'fetch' ? app.thisArg : undefined;
  const runNode = app.kind === 'node' ? app.handler : null;
  // Required only for a node:http app: it extends node:http's classes, and loading node:http
  // costs a process ~1 MiB that a gateway app has no use for.
  const NodeExchangeClass =
    runNode !== null ? (require('./node/exchange') as typeof NodeExchangeModule).NodeExchange : null;
  // node:http emits 'checkContinue' instead of 'request' for `Expect: 100-continue` when the
  // server listens for it; the core then left the interim 100 to res.writeContinue().
  const nodeServer = app.kind === 'node' ? app.server : undefined;
  const runCheckContinue: NodeHandler | null =
    nodeServer !== undefined ? (req, res) => nodeServer.emit('checkContinue', req, res) : null;

  function onRequest(
    id: number,
    flags: number,
    blob: string,
    nvars: number,
    body: Uint8Array | undefined,
    filled?: number,
  ): void {
    const stale = registry.get(id);
    if (stale !== undefined) {
      // Native reused a live id: the old request can get no more events, so end it.
      transport.log(`tsgi: request id ${id} reused while still in flight; the earlier request is abandoned`);
      stale.handleAbort(new Error('request abandoned: its id was reused'));
      registry.delete(id);
    }
    if (runNode !== null) {
      onNodeRequest(id, flags, blob, nvars, body);
      return;
    }
    let input: Input | null = null;
    let envInput: TsgiInput;
    if ((flags & RequestFlags.BodyDone) !== 0) {
      envInput = body === undefined || body.byteLength === 0 ? EMPTY_INPUT : new Input(id, null, body, true);
    } else {
      const whole = (flags & RequestFlags.BodyWhole) !== 0 ? filled : undefined;
      envInput = input = new Input(id, transport, body, false, whole);
    }
    if (nvars * 4 > meta.length) {
      transport.log(
        `tsgi: request ${id}: ${nvars} vars but the meta array holds ${meta.length / 4}; was setMeta() called?`,
      );
      nvars = meta.length >> 2;
    }
    const env = buildEnviron(flags, blob, meta, nvars, envInput, ctx);
    let ex: Exchange;
    if (runGateway !== null) {
      const gx = new GatewayExchange(id, transport, input, registry, env);
      ex = gx;
      gx.run(runGateway, env);
      // Failed before startResponse: say so when it looks like a (req, res) handler.
      if (gx.status === null && gx.state !== ExchangeState.Idle) {
        const hint = gatewayHint(watched!);
        if (hint !== null) transport.log(hint);
      }
    } else {
      const fx = new FetchExchange!(id, transport, input, registry, env);
      ex = fx;
      fx.run(runFetch!, fetchThis, env);
    }
    if (!ex.released) registry.set(id, ex);
  }

  /** A node:http app's request: environ as for the others (no tsgi.input), then req/res. */
  function onNodeRequest(id: number, flags: number, blob: string, nvars: number, body: Uint8Array | undefined): void {
    if (nvars * 4 > meta.length) nvars = meta.length >> 2;
    const env = buildEnviron(flags, blob, meta, nvars, EMPTY_INPUT, ctx);
    const raw =
      (flags & RequestFlags.RawHeaders) !== 0
        ? rawHeadersFromMeta(blob, meta, nvars, (flags >> RequestFlags.RawCountShift) & 0xff)
        : null;
    const nx = new NodeExchangeClass!(id, transport, registry, env, body, (flags & RequestFlags.BodyDone) !== 0, raw);
    nx.run((flags & RequestFlags.ExpectContinue) !== 0 && runCheckContinue !== null ? runCheckContinue : runNode!);
    if (!nx.released) registry.set(id, nx);
  }

  function onData(id: number, chunk: Uint8Array | null, error: number, filled?: number): void {
    const ex = registry.get(id);
    if (ex === undefined) return;
    if (ex.input === null) {
      if (runNode !== null) (ex as NodeExchange).body(chunk, error);
      return;
    }
    if (chunk !== null) {
      ex.input.push(chunk);
    } else if (filled !== undefined) {
      ex.input.fill(filled);
    } else if (error === 0) {
      ex.input.end();
    } else {
      ex.input.fail(inputErrorFor(error));
    }
    ex.releaseIfDone();
  }

  function onDrain(id: number): void {
    const ex = registry.get(id);
    if (ex !== undefined) ex.handleDrain();
  }

  function onAbort(id: number, error: number): void {
    const ex = registry.get(id);
    if (ex === undefined) return;
    if (error === PEER_SHUTDOWN) {
      ex.handlePeerShutdown();
      return;
    }
    ex.handleAbort(inputErrorFor(error === 0 ? PEER_CLOSED : error));
  }

  return {
    onRequest,
    onData,
    onDrain,
    onAbort,
    setMeta(m: Uint32Array): void {
      meta = m;
    },
    get inFlight(): number {
      return registry.size;
    },
  };
}
