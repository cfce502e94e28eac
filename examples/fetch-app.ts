// A fetch handler: an object with a fetch(request) method, the shape Hono, itty-router
// and similar frameworks export. Serve it with:
//   tsgi --http :9090 --wsgi-file examples/fetch-app.ts --callable app

type Route = (request: Request, url: URL) => Response | Promise<Response>;

const routes: Record<string, Route> = {
  '/': () => new Response('Hello from a fetch handler\n', { headers: { 'content-type': 'text/plain' } }),
  '/json': (request, url) => Response.json({ method: request.method, path: url.pathname, query: url.search }),
  '/echo': async (request) => new Response(await request.text(), { headers: { 'content-type': 'text/plain' } }),
};

export const app = {
  fetch(request: Request): Response | Promise<Response> {
    const url = new URL(request.url);
    const route = routes[url.pathname];
    return route ? route(request, url) : new Response('Not Found\n', { status: 404 });
  },
};
