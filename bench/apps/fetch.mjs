// bench app `fetch`: a bare fetch handler, as written for Bun, Deno or Cloudflare Workers.
// Under tsgi: --wsgi-file bench/apps/fetch.mjs (the default export's fetch method). Its own
// server (own/fetch) is a node:http handler doing the same work: bench/servers/own.mjs.
export default {
  fetch() {
    return new Response('Hello World');
  },
};
