// Is a value an http.Server or an https.Server? Asked without loading node:http or node:https
// when the answer must be no: such a server is a net.Server (node:net is loaded in every
// process), and one can exist only once its module was loaded, so requiring that module then
// costs nothing. A gateway app never pays for node:http, nor for node:https and the OpenSSL
// start-up behind it (bench/RESULTS.md, "Memory and start-up"); a fetch app has node:http from
// undici, which Node's Request and Response come from.

import type { Server as HttpServer } from 'node:http';
import * as net from 'node:net';

export function isHttpServer(v: unknown): v is HttpServer {
  if (!(v instanceof net.Server)) return false;
  const http = require('node:http') as typeof import('node:http');
  if (v instanceof http.Server) return true;
  // An https.Server is a tls.Server, which has setSecureContext(); a plain net.Server does not,
  // so node:https is required only for a server that TLS already made.
  if (typeof (v as { setSecureContext?: unknown }).setSecureContext !== 'function') return false;
  const https = require('node:https') as typeof import('node:https');
  return v instanceof https.Server;
}
