// Differences between a framework's own server and tsgi that are not tsgi bugs, each with its
// reason. A test file lists the ones that apply to its framework; docs/app-contract.md
// ("Differences from each framework's own server") repeats every reason word for word.

import type { Allowed } from './compare';

const NULL_BODY_REQUESTS = ['GET /redirect', 'GET /moved', 'POST /submit (303)'];
const NULL_BODY_REASON =
  'A Response with a null body: @hono/node-server ends it with an empty chunked body, tsgi sends Content-Length: 0. ' +
  'Both frame the same empty body (RFC 9112 §6.3).';

/** @hono/node-server (Hono, itty-router) framing an empty body as chunked. */
export const NODE_SERVER_NULL_BODY: Allowed[] = [
  { request: NULL_BODY_REQUESTS, field: 'header transfer-encoding', reason: NULL_BODY_REASON },
  { request: NULL_BODY_REQUESTS, field: 'header content-length', reason: NULL_BODY_REASON },
];

/** @hono/node-server writing node's reason phrase instead of Response.statusText. */
export const NODE_SERVER_STATUS_TEXT: Allowed = {
  request: 'GET /teapot',
  field: 'status text',
  reason:
    "@hono/node-server ignores Response.statusText and sends node's standard reason phrase; tsgi sends the app's statusText. " +
    'Clients ignore the reason phrase (RFC 9112 §4).',
};

/** @hono/node-server's own Response class dropping the Fetch default Content-Type. */
export const NODE_SERVER_DEFAULT_CONTENT_TYPE: Allowed = {
  request: 'GET /teapot',
  field: 'header content-type',
  reason:
    "@hono/node-server's Response stand-in leaves out the Content-Type that the Fetch standard gives a string body " +
    'when the init has headers but none is named; tsgi keeps it, spelled as @hono/node-server spells it elsewhere ' +
    '(text/plain; charset=UTF-8).',
};
